#!/usr/bin/env bash
# What integrators' tools make of the committed document: spectral (spectral:oas) and redocly (recommended) lint
# it with no finding, and the TypeScript types openapi-typescript generates from it type-check with tsc --strict
# against tests/typescript/tour.ts. (The Python client is generated and run by tests/api/test_client.py.)
# Needs node (npx) and the npm registry; where node is not installed it says so and checks nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v npx >/dev/null; then
  echo "document checks: skipped, node is not installed here (apt-get install nodejs npm to run them)" >&2
  exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
document=$PWD/openapi/openapi.json
printf 'extends: ["spectral:oas"]\n' >"$work/.spectral.yaml"
npx --yes @stoplight/spectral-cli@6.16.3 lint --quiet -F hint -r "$work/.spectral.yaml" "$document"
npx --yes @redocly/cli@2.77.0 lint --max-problems 50 --format stylish "$document" 2>&1 | grep -v '^ *║\|^ *╔\|^ *╚' \
  | tee "$work/redocly.txt"
if grep -q "warning\|error" "$work/redocly.txt"; then
  echo "redocly found problems in the document" >&2
  exit 1
fi
cp tests/typescript/tour.ts "$work/"
npx --yes openapi-typescript@7.13.0 "$document" -o "$work/schema.d.ts" >/dev/null
npx --yes -p typescript@5.9.3 tsc --strict --noEmit --target es2020 --module es2020 --moduleResolution bundler \
  "$work/tour.ts"
echo "document checks: spectral and redocly clean; TypeScript types generated and type-checked"
