#!/usr/bin/env bash
# Runs a command with a throwaway PostgreSQL server on loopback, named to it in REGISTRY_TEST_DATABASE_URL.
# Installs PostgreSQL from Debian's packages when it is missing. Usage: .ci/postgres.sh COMMAND [ARGS...]
set -euo pipefail

if ! ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1; then
  echo "installing PostgreSQL..." >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq postgresql >/dev/null
fi
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
port=${PGPORT_TEST:-54329}
data=$(mktemp -d /tmp/registry-pg.XXXXXX)
run_as=()
if [ "$(id -u)" = 0 ]; then
  chown postgres "$data"
  run_as=(runuser -u postgres --)
fi

stop() {
  "${run_as[@]}" "$bin/pg_ctl" -D "$data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$data"
}
trap stop EXIT

"${run_as[@]}" "$bin/initdb" -D "$data" -U postgres --auth=trust -E UTF8 >/dev/null
# Settings in the data directory, so that a plain `pg_ctl start` (the fault test's) brings the same server back.
cat >>"$data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$data'
fsync = off
max_connections = 200
CONF
pg_ctl=("${run_as[@]}" "$bin/pg_ctl" -D "$data" -l "$data/server.log")
"${pg_ctl[@]}" -w start >/dev/null
"${run_as[@]}" "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -qc "CREATE DATABASE registry_test" >/dev/null

export REGISTRY_TEST_DATABASE_URL="postgresql+asyncpg://postgres@127.0.0.1:$port/registry_test"
# The fault test stops and starts the server with this command (`$REGISTRY_TEST_PG_CTL stop -m fast`).
export REGISTRY_TEST_PG_CTL="${pg_ctl[*]}"
"$@"
