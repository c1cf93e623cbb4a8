#!/bin/bash
# build.sh: builds, from Go modules the module proxy serves (plus the two sources it refuses, in
# src/), everything the cluster suite needs: the Pulumi CLI, its Node.js language host and the
# kubernetes and random providers, and a one-node Kubernetes (etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler, kubelet, kube-proxy, CoreDNS). Idempotent: a step
# whose binary carries the same stamp is skipped, so only a machine's first run pays (~35
# minutes on 2 cores; under 2 with warm Go caches).
#
#   build.sh                 all steps
#   build.sh pulumi k8sprov  only those steps (names below)
#   CLUSTER_FORCE=1 build.sh rebuild even if stamped
#
# Binaries land in $CLUSTER_TOOLS/bin (default ~/.cache/perch-tools/cluster/bin); the providers
# are registered with the CLI in $CLUSTER_TOOLS/pulumi-home. Run it from the project root: the
# provider versions come from ./package-lock.json (the versions the npm SDKs ask for).
#   pulumi     pulumi CLI v3.276.0 (wrapper module; pkg/v3 needs its clipboard replace)
#   langhost   pulumi-language-nodejs from src/pulumi-language-nodejs (its module is not served)
#   k8sprov    pulumi-resource-kubernetes from the served provider/v4 pseudo-version
#   random     pulumi-resource-random from src/pulumi-random-provider (its module is not served)
#   etcd       etcd v3.6.8 (main wrapper around go.etcd.io/etcd/server/v3/etcdmain)
#   apiserver kcm scheduler kubelet kube-proxy kubectl   Kubernetes v1.34.4 (one wrapper module
#              replacing every k8s.io staging module with its served v0.34.4)
#   coredns    CoreDNS v1.15.0 with only the plugins a test cluster needs
#   plugins    `pulumi plugin install --file` of the two providers, so the CLI never downloads
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
W=${CLUSTER_TOOLS:-${PERCH_TOOLS:-$HOME/.cache/perch-tools}/cluster}
BIN=$W/bin
P=${CLUSTER_GO_P:-2}                      # go build -p: the machine has 2 cores, shared
export PATH=/usr/local/go/bin:$PATH
export GOFLAGS="-mod=mod -buildvcs=false"   # wrapper modules: let go fill go.mod/go.sum
export PULUMI_HOME=${PULUMI_HOME:-$W/pulumi-home}

PULUMI_V=v3.276.0                    # pkg/v3 and sdk/v3 tag (pkg v3.270.0 is not served)
K8S_V=1.34.4                         # k8s.io/kubernetes; staging modules at v0.34.4
ETCD_V=v3.6.8
COREDNS_V=v1.15.0
K8SPROV_MOD_V=v4.0.0-20260115033456-f47bc2d6f199   # the only provider/v4 version served
# Plugin versions the npm SDKs ask for (package-lock of the project, else these defaults):
LOCK=$PWD/package-lock.json
K8SPROV_PLUGIN_V=${K8SPROV_PLUGIN_V:-$( [ -f "$LOCK" ] && jq -r '.packages["node_modules/@pulumi/kubernetes"].version // empty' "$LOCK" || true)}
K8SPROV_PLUGIN_V=${K8SPROV_PLUGIN_V:-4.34.2}
RANDOM_PLUGIN_V=${RANDOM_PLUGIN_V:-$( [ -f "$LOCK" ] && jq -r '.packages["node_modules/@pulumi/random"].version // empty' "$LOCK" || true)}
RANDOM_PLUGIN_V=${RANDOM_PLUGIN_V:-4.21.2}

mkdir -p "$BIN" "$W"
TOTAL0=$(date +%s)

stamped() { # binary stamp -> 0 if up to date
  [ "${CLUSTER_FORCE:-0}" = 1 ] && return 1
  [ -x "$1" ] && [ -f "$1.stamp" ] && [ "$(cat "$1.stamp")" = "$2" ]
}
timed() { # name cmd...
  local n=$1 s; shift; s=$(date +%s)
  echo "== $n: start $(date +%T)"
  "$@"
  echo "== $n: done in $(( $(date +%s) - s ))s"
}

# ── pulumi CLI + language host ───────────────────────────────────────────────────────
pulumi_mod() {
  local d=$W/pulumi-build
  mkdir -p "$d/langhost"
  cp "$HERE"/src/pulumi-language-nodejs/*.go "$d/langhost/"
  if [ ! -f "$d/go.mod" ] || ! grep -q "pkg/v3 $PULUMI_V" "$d/go.mod"; then
    cat > "$d/go.mod" <<EOF
module perch-cluster.local/pulumibuild

go 1.26.6

replace github.com/atotto/clipboard => github.com/tgummerer/clipboard v0.0.0-20241001131231-d02d263e614e

require (
	github.com/pulumi/pulumi/pkg/v3 $PULUMI_V
	github.com/pulumi/pulumi/sdk/v3 $PULUMI_V
)
EOF
    rm -f "$d/go.sum"
    printf '//go:build tools\n\npackage tools\n\nimport _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"\n' > "$d/tools.go"
    (cd "$d" && go mod tidy)
  fi
}
step_pulumi() {
  stamped "$BIN/pulumi" "$PULUMI_V" && { echo "== pulumi: up to date"; return; }
  pulumi_mod
  (cd "$W/pulumi-build" && go build -p "$P" -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$PULUMI_V" \
    -o "$BIN/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi)
  echo "$PULUMI_V" > "$BIN/pulumi.stamp"
}
step_langhost() {
  local st="$PULUMI_V-$(cat "$HERE"/src/pulumi-language-nodejs/*.go | md5sum | cut -c1-8)"
  stamped "$BIN/pulumi-language-nodejs" "$st" && { echo "== langhost: up to date"; return; }
  pulumi_mod
  (cd "$W/pulumi-build" && go build -p "$P" -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$PULUMI_V" \
    -o "$BIN/pulumi-language-nodejs" ./langhost)
  echo "$st" > "$BIN/pulumi-language-nodejs.stamp"
}

# ── pulumi-resource-kubernetes ───────────────────────────────────────────────────────
step_k8sprov() {
  local st="$K8SPROV_MOD_V-$K8SPROV_PLUGIN_V"
  stamped "$BIN/pulumi-resource-kubernetes" "$st" && { echo "== k8sprov: up to date"; return; }
  local d=$W/k8sprov-src
  if [ ! -f "$d/.prepared-$K8SPROV_MOD_V" ]; then
    (mkdir -p "$W/k8sprov-dl" && cd "$W/k8sprov-dl" && go mod download github.com/pulumi/pulumi-kubernetes/provider/v4@$K8SPROV_MOD_V)
    rm -rf "$d"; mkdir -p "$d"
    cp -a "$(go env GOMODCACHE)/github.com/pulumi/pulumi-kubernetes/provider/v4@$K8SPROV_MOD_V/." "$d/"
    chmod -R u+w "$d"
    # its go.mod replaces sdk/v4 with ../sdk, which the module zip does not contain
    sed -i '/^replace github.com\/pulumi\/pulumi-kubernetes\/sdk\/v4 => ..\/sdk/d' "$d/go.mod"
    (cd "$d" && go get github.com/pulumi/pulumi-kubernetes/sdk/v4@"$(awk '/pulumi-kubernetes\/sdk\/v4 /{print $2; exit}' go.mod)")
    touch "$d/.prepared-$K8SPROV_MOD_V"
  fi
  # The embedded schema is gitignored upstream (made by `VERSION=x go run generate.go`): same thing with jq.
  (cd "$d/cmd/pulumi-resource-kubernetes" &&
    jq -c --arg v "$K8SPROV_PLUGIN_V" '.version=$v' schema.json > schema-embed.json &&
    jq -c . terraform-mapping.json > terraform-mapping-embed.json)
  (cd "$d" && go build -p "$P" -ldflags "-s -w -X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=$K8SPROV_PLUGIN_V" \
    -o "$BIN/pulumi-resource-kubernetes" ./cmd/pulumi-resource-kubernetes)
  echo "$st" > "$BIN/pulumi-resource-kubernetes.stamp"
}

# ── pulumi-resource-random ───────────────────────────────────────────────────────────
step_random() {
  local st="$RANDOM_PLUGIN_V-$(cat "$HERE/src/pulumi-random-provider/SOURCE" | cut -c1-12)"
  stamped "$BIN/pulumi-resource-random" "$st" && { echo "== random: up to date"; return; }
  local d=$W/random-src/provider
  rm -rf "$d"; mkdir -p "$d"; cp -a "$HERE/src/pulumi-random-provider/." "$d/"
  (cd "$d/cmd/pulumi-resource-random" && jq -c --arg v "$RANDOM_PLUGIN_V" '.version=$v' schema.json > schema-embed.json)
  (cd "$d" && go build -p "$P" -ldflags "-s -w -X github.com/pulumi/pulumi-random/provider/v4/pkg/version.Version=$RANDOM_PLUGIN_V" \
    -o "$BIN/pulumi-resource-random" ./cmd/pulumi-resource-random)
  echo "$st" > "$BIN/pulumi-resource-random.stamp"
}

# ── etcd ─────────────────────────────────────────────────────────────────────────────
step_etcd() {
  stamped "$BIN/etcd" "$ETCD_V" && { echo "== etcd: up to date"; return; }
  local d=$W/etcd-build; mkdir -p "$d"
  if ! grep -q "server/v3 $ETCD_V" "$d/go.mod" 2>/dev/null; then
    printf 'module perch-cluster.local/etcdbuild\n\ngo 1.24.0\n\nrequire go.etcd.io/etcd/server/v3 %s\n' "$ETCD_V" > "$d/go.mod"
    rm -f "$d/go.sum"
    cat > "$d/main.go" <<'EOF'
// etcd from the served go.etcd.io/etcd/server/v3 module: the repo's own main lives in a
// module whose go.mod has local replace directives, so `go install` of it fails.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
EOF
    (cd "$d" && go mod tidy)
  fi
  (cd "$d" && go build -p "$P" -ldflags "-s -w" -o "$BIN/etcd" .)
  echo "$ETCD_V" > "$BIN/etcd.stamp"
}

# ── kubernetes control plane ─────────────────────────────────────────────────────────
k8s_mod() {
  local d=$W/k8s-build; mkdir -p "$d"
  grep -q "k8s.io/kubernetes v$K8S_V" "$d/go.mod" 2>/dev/null && return 0
  local mod; mod=$(curl -sf "$(go env GOPROXY | cut -d, -f1)/k8s.io/kubernetes/@v/v$K8S_V.mod") ||
    { (cd "$W/k8sprov-dl" 2>/dev/null || cd "$W"; go mod download -json "k8s.io/kubernetes@v$K8S_V" >/dev/null);
      mod=$(cat "$(go env GOMODCACHE)/cache/download/k8s.io/kubernetes/@v/v$K8S_V.mod"); }
  {
    printf 'module perch-cluster.local/k8sbuild\n\ngo 1.24.0\n\ngodebug default=go1.24\n\nrequire k8s.io/kubernetes v%s\n\nreplace (\n' "$K8S_V"
    # every k8s.io/* staging module kubernetes replaces with ./staging/... -> the served v0.x.y
    echo "$mod" | sed -n '/^replace (/,/^)/p' | grep '=> ./staging' | awk -v v="v0.${K8S_V#1.}" '{print "\t"$1" => "$1" "v}'
    echo ")"
  } > "$d/go.mod"
  rm -f "$d/go.sum"
  printf '//go:build tools\n\npackage tools\n\nimport (\n\t_ "k8s.io/kubernetes/cmd/kube-apiserver"\n\t_ "k8s.io/kubernetes/cmd/kube-controller-manager"\n\t_ "k8s.io/kubernetes/cmd/kube-scheduler"\n\t_ "k8s.io/kubernetes/cmd/kubelet"\n\t_ "k8s.io/kubernetes/cmd/kube-proxy"\n\t_ "k8s.io/kubernetes/cmd/kubectl"\n)\n' > "$d/tools.go"
  (cd "$d" && go mod tidy)
}
k8s_build() { # stepname binary
  local minor=${K8S_V#1.}; minor=${minor%%.*}
  stamped "$BIN/$2" "$K8S_V" && { echo "== $1: up to date"; return; }
  k8s_mod
  local ld="-s -w"
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld="$ld -X $pkg.gitVersion=v$K8S_V -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
  done
  (cd "$W/k8s-build" && go build -p "$P" -ldflags "$ld" -o "$BIN/$2" "k8s.io/kubernetes/cmd/$2")
  echo "$K8S_V" > "$BIN/$2.stamp"
}
step_apiserver() { k8s_build apiserver kube-apiserver; }
step_kcm() { k8s_build kcm kube-controller-manager; }
step_scheduler() { k8s_build scheduler kube-scheduler; }

# ── the node: kubelet, kube-proxy (same wrapper module), CoreDNS ──────────────────────
step_kubelet() { k8s_build kubelet kubelet; }
step_kubectl() { k8s_build kubectl kubectl; }
step_kube-proxy() { k8s_build kube-proxy kube-proxy; }
step_coredns() {
  stamped "$BIN/coredns" "$COREDNS_V" && { echo "== coredns: up to date"; return; }
  local d=$W/coredns-build; mkdir -p "$d"
  if ! grep -q "coredns $COREDNS_V" "$d/go.mod" 2>/dev/null; then
    printf 'module localnode.local/corednsbuild\n\ngo 1.25.0\n\nrequire github.com/coredns/coredns %s\n' "$COREDNS_V" > "$d/go.mod"
    cat > "$d/main.go" <<'GO'
// CoreDNS with only the plugins a one-node test cluster needs (the full build pulls in every
// cloud SDK). The directive order stays CoreDNS's own (dnsserver.Directives).
package main

import (
	"github.com/coredns/coredns/coremain"

	_ "github.com/coredns/coredns/core/dnsserver"
	_ "github.com/coredns/coredns/plugin/bind"
	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/ready"
)

func main() { coremain.Run() }
GO
    rm -f "$d/go.sum"; (cd "$d" && go mod tidy)
  fi
  (cd "$d" && go build -p "$P" -ldflags "-s -w" -o "$BIN/coredns" .)
  echo "$COREDNS_V" > "$BIN/coredns.stamp"
}

# ── register the providers with the CLI (so it never tries to download them) ──────────
step_plugins() {
  # Dynamic providers (components/storage-guard.ts) run through this plugin, which the Pulumi
  # CLI's release archive ships beside the binary; the npm SDK carries the same shim.
  printf '#!/bin/sh\nPULUMI_DYNAMIC_PROVIDER_SCRIPT_PATH=$(node -e "console.log(require.resolve(\x27@pulumi/pulumi/cmd/dynamic-provider\x27))")\nif [ ! -z "$PULUMI_DYNAMIC_PROVIDER_SCRIPT_PATH" ]; then\n    node "$PULUMI_DYNAMIC_PROVIDER_SCRIPT_PATH" $@\nfi\n' > "$BIN/pulumi-resource-pulumi-nodejs"
  chmod 755 "$BIN/pulumi-resource-pulumi-nodejs"
  "$BIN/pulumi" plugin install resource kubernetes "$K8SPROV_PLUGIN_V" --file "$BIN/pulumi-resource-kubernetes" --reinstall
  if [ -x "$BIN/pulumi-resource-random" ]; then
    "$BIN/pulumi" plugin install resource random "$RANDOM_PLUGIN_V" --file "$BIN/pulumi-resource-random" --reinstall
  fi
  "$BIN/pulumi" plugin ls
}

ALL="pulumi langhost k8sprov random etcd apiserver kcm scheduler kubelet kube-proxy kubectl coredns plugins"
for s in ${*:-$ALL}; do
  declare -F "step_$s" >/dev/null || { echo "unknown step $s (steps: $ALL)" >&2; exit 2; }
  timed "$s" "step_$s"
done
echo "== total $(( $(date +%s) - TOTAL0 ))s; bin: $(du -sh "$BIN" | cut -f1), work: $(du -sh "$W" | cut -f1), go caches: $(du -sh "$(go env GOMODCACHE)" | cut -f1) + $(du -sh "$(go env GOCACHE)" | cut -f1)"
