#!/usr/bin/env bash
# Runs a command with Debian's Chromium (and the Noto CJK fonts Chinese pages need) named to it in
# REGISTRY_TEST_CHROMIUM, for the workbench's browser tests. Installs both from Debian's packages when they are
# missing and this user may (root with apt-get); otherwise says so and runs the command, whose browser tests then
# skip. Usage: .ci/browser.sh COMMAND [ARGS...]
set -euo pipefail

binary=/usr/lib/chromium/chromium  # the browser itself; /usr/bin/chromium is a wrapper script around it
if { [ ! -x "$binary" ] || ! fc-list :lang=zh family 2>/dev/null | grep -q .; } \
  && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing Chromium and the Noto CJK fonts..." >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends chromium fonts-noto-cjk fontconfig >/dev/null
fi
if [ -x "$binary" ]; then
  export REGISTRY_TEST_CHROMIUM="$binary"
else
  echo "no Chromium at $binary (Debian's chromium package): the browser tests will be skipped" >&2
fi
"$@"
