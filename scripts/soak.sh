#!/usr/bin/env bash
# `npm run soak`: perch under a mixed load (see docs/testing.md, "Soak").
# Usage: scripts/soak.sh [--minutes N] [--concurrency N] [--max-requests N] [--warmup S] [--sample S] [--seed N] [--keep]
# Rebuilds the server bundle, bundles the soak driver (test/soak/) with esbuild, runs it with
# Node.js 24. Prints the report and writes it to test/artifacts/soak/report.txt. Exit code 1
# when there was an error or the memory or descriptor growth passed its bound.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
[ "$(node -p 'process.versions.node.split(".")[0]')" = 24 ] || { echo "Node.js 24 is not on PATH: run scripts/install-tools.sh node" >&2; exit 1; }

# Soak the current source: rebuild the server bundle (a second or two).
npm run --silent build
out=test/artifacts/soak
mkdir -p "$out"
npx --no-install esbuild test/soak/main.ts --bundle --platform=node --format=cjs \
  --target=node22 --outfile="$out/main.js" --log-level=warning
exec node "$out/main.js" "$@"
