#!/usr/bin/env bash
# `npm run bench`: perch vs docker-registry vs the machine's ceiling, and perch vs registry v3
# on SeaweedFS (scenario s3) (see docs/bench.md).
# Usage: scripts/bench.sh [--quick] [--runs N] [a|b|c|d|e|auth|s3 ...]
#   no scenario names: all of them; --quick: fewer and smaller images (under 2 minutes)
# Prints the tables and writes them to test/artifacts/bench.txt. Not a test: it never fails
# on a missed goal, only when a scenario cannot run.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
[ "$(node -p 'process.versions.node.split(".")[0]')" = 24 ] || { echo "Node.js 24 is not on PATH: run scripts/install-tools.sh node" >&2; exit 1; }
command -v curl >/dev/null || { echo "curl is missing: scripts/install-tools.sh apt" >&2; exit 1; }
command -v htpasswd >/dev/null || { echo "htpasswd is missing (apache2-utils): scripts/install-tools.sh apt" >&2; exit 1; }

# Measure the current source: rebuild the server bundle (a second or two).
if [ -f registry-image/build.mjs ]; then
  npm run --silent build || echo "[bench] npm run build failed: perch is measured from the bundle already in registry-image/dist, if any" >&2
fi
out=test/artifacts/bench
mkdir -p "$out"
# The bench reuses test/helpers/seaweed.ts, whose temp folders register their removal with
# vitest's afterAll: test/bench/vitest-hooks.ts stands in for vitest outside a test run.
npx --no-install esbuild test/bench/main.ts test/bench/ceiling-server.ts --bundle --platform=node --format=cjs \
  --target=node22 --outdir="$out" --log-level=warning --alias:vitest=./test/bench/vitest-hooks.ts
exec node "$out/main.js" "$@"
