#!/usr/bin/env bash
# `npm test`: the one command a newcomer runs on a fresh machine (see docs/testing.md).
#   1. set-up, skipping what is done: tools (Node.js 24, Debian packages, Go-built clients),
#      npm dependencies, the server bundle (registry-image/dist/perch.js)
#   2. type-check the whole project (tsc --noEmit): a failure counts as one failed test
#   3. vitest, once, with V8 coverage of the tests and of the bundled server they start
#   4. a summary that ends with exactly one line "N passed, N failed[, N skipped]", adding
#      vitest's tests and the external suites' cases (conformance junit.xml)
# Arguments go to vitest: `npm test -- test/seed` runs only the files matching test/seed,
# `npm test -- -t "HEAD /v2"` only the tests with that name.
# PERCH_TEST_SETUP=skip skips step 1 (tools and node_modules already in place).
# Exit code: 0 when nothing failed.
set -uo pipefail
cd "$(dirname "$0")/.."
ART=test/artifacts
START_MS=$(($(date +%s%N) / 1000000))
mkdir -p "$ART"

timed() { # timed LABEL COMMAND...: run, print the duration, return the command's status
  local label=$1; shift
  local t0=$SECONDS rc=0
  echo "[test] $label ..."
  "$@" || rc=$?
  echo "[test] $label: $((SECONDS - t0))s$([ $rc -eq 0 ] || echo " (exit $rc)")"
  return $rc
}

fatal() { # a set-up failure that makes every test meaningless: say why, count one failure
  echo "[test] $*" >&2
  echo "0 passed, 1 failed"
  exit 1
}

# --- 1. set-up -------------------------------------------------------------------------------
if [ "${PERCH_TEST_SETUP:-}" != skip ]; then
  timed "tools" bash scripts/install-tools.sh all || fatal "installing the tools failed (see above); fix it and rerun, or run scripts/install-tools.sh alone"
fi
# shellcheck source=env.sh
source scripts/env.sh
node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo none)
[ "$node_major" = 24 ] || fatal "node on PATH is $(command -v node) ($node_major), not Node.js 24: run scripts/install-tools.sh node"

deps_current() { # node_modules was installed after the lockfile and manifests last changed
  local stamp=node_modules/.package-lock.json f
  [ -f "$stamp" ] || return 1
  for f in package-lock.json package.json registry-image/package.json; do
    [ "$stamp" -nt "$f" ] || return 1
  done
}
if [ "${PERCH_TEST_SETUP:-}" != skip ]; then
  if deps_current; then
    echo "[test] npm dependencies: current"
  elif [ -n "${CI:-}" ] || [ ! -d node_modules ]; then
    timed "npm ci" npm ci --no-audit --no-fund || fatal "npm ci failed (see above)"
  else
    timed "npm install" npm install --no-audit --no-fund || fatal "npm install failed (see above)"
  fi
fi

# The bundle is what the image runs and what the suites start as a child process.
build_rc=0
if [ -f registry-image/build.mjs ]; then
  timed "build (registry-image/dist/perch.js)" npm run --silent build || build_rc=$?
else
  echo "[test] build: registry-image/build.mjs is missing, so there is no server bundle: is the checkout complete?" >&2
  build_rc=1
fi

# --- 2. type-check ---------------------------------------------------------------------------
tsc_rc=0
timed "type-check (tsc --noEmit -p .)" npx --no-install tsc --noEmit -p . || tsc_rc=$?

# --- 3. vitest -------------------------------------------------------------------------------
# The cluster suite takes its cluster down itself, even when a test fails; this catches the
# case where vitest itself was killed (a timeout, Ctrl-C) before its afterAll ran.
cluster_down() {
  if compgen -G "${CLUSTER_RUN:-/tmp/perch-cluster}/*/run/*.pid" >/dev/null; then
    echo "[test] stopping the cluster the cluster suite left running"
    bash scripts/cluster/cluster.sh down >/dev/null 2>&1 || true
  fi
}
trap cluster_down EXIT
trap 'exit 143' TERM INT
vitest_rc=0
timed "vitest" npx --no-install vitest run --coverage \
  --reporter=default --reporter=json --outputFile.json="$ART/vitest.json" "$@" || vitest_rc=$?

# --- 4. summary ------------------------------------------------------------------------------
node test/helpers/summary.mjs --check "build=$build_rc" --check "typecheck=$tsc_rc" \
  --vitest "$ART/vitest.json" --vitest-exit "$vitest_rc" \
  --junit-root "$ART/conformance" --since "$START_MS" \
  --coverage "$ART/coverage/coverage-summary.json"
