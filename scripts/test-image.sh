#!/usr/bin/env bash
# Runs the image suite alone (test/image/): builds registry-image/Dockerfile with buildah,
# pushes the image into perch, pulls it with containerd and runs it as the component's
# Deployment and seed Jobs describe (docs/image.md). Needs root.
#   scripts/test-image.sh                 set-up (skipping what is done), bundle, the suite
#   scripts/test-image.sh -t "seed"       extra arguments go to vitest
#   PERCH_TEST_SETUP=skip scripts/test-image.sh   skip installing tools
# Exit code: vitest's (0 when every test passed).
set -uo pipefail
cd "$(dirname "$0")/.."
START=$SECONDS

if [ "$(id -u)" != 0 ]; then
  echo "[test-image] the image suite needs root (containerd, runc, buildah): run sudo -E $0" >&2
  exit 1
fi

step() { # step LABEL COMMAND...: run, print the duration, stop on failure
  local label=$1; shift
  local t0=$SECONDS
  "$@" || { echo "[test-image] $label failed (exit $?)" >&2; exit 1; }
  echo "[test-image] $label: $((SECONDS - t0))s"
}

if [ "${PERCH_TEST_SETUP:-}" != skip ]; then
  # node: Node.js 24; apt: buildah, skopeo, containerd, runc, busybox-static; go: helm, conformance.
  step "tools" bash scripts/install-tools.sh all
fi
# shellcheck source=env.sh
source scripts/env.sh
[ -d node_modules ] || step "npm ci" npm ci --no-audit --no-fund
# The host-side perch the image is pushed into runs this bundle (the image builds its own).
step "bundle (registry-image/dist/perch.js)" npm run --silent build

t0=$SECONDS
npx --no-install vitest run test/image "$@"
rc=$?
echo "[test-image] vitest: $((SECONDS - t0))s (exit $rc); total $((SECONDS - START))s; timings in test/artifacts/image/timings.json"
exit $rc
