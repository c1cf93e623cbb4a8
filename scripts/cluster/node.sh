#!/bin/bash
# node.sh: a real worker node on control-plane.sh's control plane: its own containerd (CRI),
# a CNI bridge, kubelet, kube-proxy (iptables) and CoreDNS as host processes.
#
#   node.sh start    (the control plane must be up: cluster.sh up does both)
#   node.sh stop     delete every pod on the node, stop what start started (recorded PIDs only),
#                    remove the bridge, routes, iptables rules, mounts and netns files it made
#   node.sh status
#
# Addresses: everything host-side listens on 127.0.0.1, except CoreDNS on 10.244.0.1:53 and the
# NodePorts on 10.244.0.1 (kube-proxy), both on the bridge perchbr0 this script creates.
# Pods get 10.244.0.0/24 and routes only to that subnet and the Service range 10.96.0.0/16:
# no default route, and mangle-table rules drop anything forwarded to or from another
# interface, so nothing a pod sends can leave the machine.
set -euo pipefail

R=${CLUSTER_RUN:-/tmp/perch-cluster}/node
HERE=$(cd "$(dirname "$0")" && pwd)
BIN=${CLUSTER_TOOLS:-${PERCH_TOOLS:-$HOME/.cache/perch-tools}/cluster}/bin
R2=${CLUSTER_RUN:-/tmp/perch-cluster}/control-plane   # control-plane.sh's PKI and kubeconfig
PKI2=$R2/pki
RUN=$R/run
LOG=$R/log
NODE=$(hostname)     # must resolve to 127.0.0.1: the apiserver dials the kubelet by it
BR=perchbr0
GW=10.244.0.1
POD_CIDR=10.244.0.0/24
SVC_CIDR=10.96.0.0/16
CD=$R/containerd
SOCK=$CD/run/containerd.sock
KCFG=$R2/kubeconfig
CTL=${KUBECTL:-kubectl}
export PATH=$BIN:$PATH

die() { echo "node.sh: $*" >&2; exit 1; }
# shellcheck source=processes.sh
source "$HERE/processes.sh"
kc() { "$CTL" --kubeconfig "$KCFG" "$@"; }
ctrk() { ctr --address "$SOCK" -n k8s.io "$@"; }

certs() {
  local d=$R/pki; mkdir -p "$d"
  # Reuse them only for the same node name and the same control plane (reset makes a new CA).
  [ -f "$d/kubelet-client.crt" ] && [ "$(cat "$d/node-name" 2>/dev/null)" = "$NODE" ] &&
    openssl verify -CAfile "$PKI2/ca.crt" "$d/kubelet-client.crt" >/dev/null 2>&1 && return 0
  printf 'extendedKeyUsage=clientAuth\n' > "$d/client.ext"
  client() { # file CN O
    openssl req -newkey rsa:2048 -nodes -keyout "$d/$1.key" -out "$d/$1.csr" -subj "/O=$3/CN=$2" 2>/dev/null
    openssl x509 -req -in "$d/$1.csr" -CA "$PKI2/ca.crt" -CAkey "$PKI2/ca.key" -CAcreateserial \
      -CAserial "$d/ca.srl" -out "$d/$1.crt" -days 3650 -extfile "$d/client.ext" 2>/dev/null
    rm -f "$d/$1.csr"
  }
  client kubelet-client "system:node:$NODE" system:nodes   # Node authorizer identity
  client kube-proxy system:kube-proxy system:node-proxier   # bound to system:node-proxier by default
  echo "$NODE" > "$d/node-name"
}
kubeconfig() { # file user cert
  cat > "$1" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: localkube
  cluster: {server: "https://127.0.0.1:6443", certificate-authority: $PKI2/ca.crt}
users:
- name: $2
  user: {client-certificate: $R/pki/$3.crt, client-key: $R/pki/$3.key}
contexts:
- name: localkube
  context: {cluster: localkube, user: $2}
current-context: localkube
EOF
}

configs() {
  mkdir -p "$CD/root" "$CD/state" "$CD/run" "$R/cni/net.d" "$R/cni/ipam" "$R/kubelet" "$R/pod-logs" "$R/coredns"
  cat > "$CD/config.toml" <<EOF
version = 2
root = "$CD/root"
state = "$CD/state"
disabled_plugins = ["io.containerd.internal.v1.opt", "io.containerd.internal.v1.tracing",
  "io.containerd.tracing.processor.v1.otlp", "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.zfs"]
[grpc]
  address = "$SOCK"
[ttrpc]
  address = "$SOCK.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "registry.k8s.io/pause:3.10"
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  disable_apparmor = true
  enable_selinux = false
  # root here lacks CAP_SYS_RESOURCE (bounding set): runc cannot lower oom_score_adj to the
  # sandbox's -998 ("nsexec: failed to update /proc/self/oom_score_adj: Permission denied").
  # This clamps every container's oom_score_adj to at least containerd's own.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "$CD/runc"
        BinaryName = "${RUNC:-/usr/sbin/runc}"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$R/cni/net.d"
    max_conf_num = 1
EOF
  # containerd adds the loopback plugin (from bin_dir) for `lo` by itself.
  cat > "$R/cni/net.d/10-perch.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "perch",
  "plugins": [
    {
      "type": "bridge", "bridge": "$BR", "isGateway": false, "isDefaultGateway": false,
      "ipMasq": false, "hairpinMode": true,
      "ipam": {
        "type": "host-local", "dataDir": "$R/cni/ipam",
        "ranges": [[{"subnet": "$POD_CIDR", "gateway": "$GW"}]],
        "routes": [{"dst": "$SVC_CIDR"}]
      }
    },
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
EOF
  certs
  kubeconfig "$R/kubelet.kubeconfig" "system:node:$NODE" kubelet-client
  kubeconfig "$R/kube-proxy.kubeconfig" system:kube-proxy kube-proxy
  printf 'search cluster.local\nnameserver %s\n' "$GW" > "$R/kubelet/resolv.conf"
  cat > "$R/kubelet/config.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: 127.0.0.1
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
# The apiserver (cluster.sh) has no --kubelet-client-certificate, so it calls the kubelet
# anonymously for logs/exec: anonymous + AlwaysAllow, on 127.0.0.1 only.
authentication:
  anonymous: {enabled: true}
  webhook: {enabled: false}
  x509: {clientCAFile: $PKI2/ca.crt}
authorization: {mode: AlwaysAllow}
cgroupDriver: cgroupfs
failCgroupV1: false
containerRuntimeEndpoint: unix://$SOCK
imageServiceEndpoint: unix://$SOCK
failSwapOn: false
clusterDNS: [$GW]
clusterDomain: cluster.local
resolvConf: $R/kubelet/resolv.conf
podLogsDir: $R/pod-logs
# The disk is ~89% used: the default eviction (nodefs.available<10%, imagefs<15%) would taint
# the node with DiskPressure and evict every pod; image GC at 85% would delete the local images.
evictionHard: {memory.available: 100Mi, nodefs.available: 1%, imagefs.available: 1%, nodefs.inodesFree: 1%}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
serializeImagePulls: false
# Mounted Secrets and ConfigMaps follow an update within ~10 s (default 1 min): the suite
# checks that a new password reaches the running registry without a restart.
syncFrequency: 10s
maxPods: 50
podCIDR: $POD_CIDR
rotateCertificates: false
serverTLSBootstrap: false
EOF
  cat > "$R/coredns/Corefile" <<EOF
.:53 {
    bind $GW
    errors
    health 127.0.0.1:18080
    ready 127.0.0.1:18181
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        kubeconfig $KCFG localkube
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
    }
    cache 10
}
EOF
}

network_up() {
  mkdir -p "$RUN"
  if ! ip link show "$BR" >/dev/null 2>&1; then
    ip link add "$BR" type bridge
    ip addr add "$GW/24" dev "$BR"
    ip link set "$BR" up
    echo "created bridge $BR $GW/24"
  fi
  # Forwarding on the bridge only (IPv4 checks the input device's flag): pod -> ClusterIP is
  # DNATed back out of the same bridge. net.ipv4.ip_forward stays as it was.
  sysctl -qw "net.ipv4.conf.$BR.forwarding=1"
  ip route replace "$SVC_CIDR" dev "$BR" src "$GW"   # host -> ClusterIP never goes to eth0
  # Only bridge-to-bridge forwarding, whatever kube-proxy's filter rules accept.
  iptables -t mangle -C FORWARD -i "$BR" ! -o "$BR" -j DROP 2>/dev/null || iptables -t mangle -I FORWARD -i "$BR" ! -o "$BR" -j DROP
  iptables -t mangle -C FORWARD -o "$BR" ! -i "$BR" -j DROP 2>/dev/null || iptables -t mangle -I FORWARD -o "$BR" ! -i "$BR" -j DROP
}

images() { # the sandbox (pause) image: registry.k8s.io/pause can't be pulled, so a static stand-in
  local b=$R/buildah ref=registry.k8s.io/pause:3.10 dir=$R/images/pause g
  g=(--root "$b/root" --runroot "$b/runroot" --storage-driver vfs)
  ctrk images ls -q | grep -qxF "$ref" && return 0
  mkdir -p "$b/tmp" "$dir"
  if [ ! -x "$dir/pause" ]; then
    cp "$HERE/pause/main.go" "$dir/main.go"; printf 'module perch-cluster.local/pause\n\ngo 1.24\n' > "$dir/go.mod"
    (cd "$dir" && CGO_ENABLED=0 GOFLAGS=-buildvcs=false go build -ldflags "-s -w" -o pause .)
    printf 'FROM scratch\nCOPY pause /pause\nUSER 65535:65535\nENTRYPOINT ["/pause"]\n' > "$dir/Dockerfile"
  fi
  TMPDIR=$b/tmp buildah "${g[@]}" bud --isolation chroot --pull=never -q -t localhost/perch-cluster-pause "$dir" >/dev/null
  rm -f "$dir.tar"
  TMPDIR=$b/tmp buildah "${g[@]}" push -q localhost/perch-cluster-pause "docker-archive:$dir.tar:$ref"
  ctrk images import "$dir.tar" >/dev/null
  echo "imported $ref"
}

start() {
  [ "$(id -u)" = 0 ] || die "needs root"
  for b in kubelet kube-proxy coredns; do [ -x "$BIN/$b" ] || die "$BIN/$b missing: run scripts/cluster/build.sh"; done
  mkdir -p "$RUN" "$LOG"
  kc get --raw /readyz >/dev/null 2>&1 || die "the control plane is not up: scripts/cluster/cluster.sh up starts both"
  getent hosts "$NODE" | grep -q '^127\.' || die "the node name $NODE must resolve to 127.0.0.1 (the apiserver dials the kubelet by it): add it to /etc/hosts"
  configs
  [ -d /run/netns ] || [ -f "$RUN/netns.before" ] || touch "$RUN/netns.dir-made"   # containerd makes it
  [ -f "$RUN/netns.before" ] || ls /run/netns 2>/dev/null > "$RUN/netns.before" || true
  network_up
  launch containerd containerd --config "$CD/config.toml"
  wait_for containerd 30 ctr --address "$SOCK" version
  images
  launch coredns "$BIN/coredns" -conf "$R/coredns/Corefile"
  launch kubelet "$BIN/kubelet" --config "$R/kubelet/config.yaml" --kubeconfig "$R/kubelet.kubeconfig" \
    --root-dir "$R/kubelet" --cert-dir "$R/kubelet/pki" --hostname-override "$NODE" --node-ip "$GW" -v=1
  launch kube-proxy "$BIN/kube-proxy" --kubeconfig "$R/kube-proxy.kubeconfig" --hostname-override "$NODE" \
    --proxy-mode iptables --bind-address 127.0.0.1 --healthz-bind-address 127.0.0.1:10256 \
    --metrics-bind-address 127.0.0.1:10249 --cluster-cidr "$POD_CIDR" \
    --nodeport-addresses "$GW/32" --iptables-localhost-nodeports=false \
    --conntrack-max-per-core 0 --conntrack-tcp-timeout-established 0 --conntrack-tcp-timeout-close-wait 0 -v=1
  wait_for "node $NODE Ready" 90 bash -c "'$CTL' --kubeconfig '$KCFG' get node '$NODE' -o jsonpath='{.status.conditions[?(@.type==\"Ready\")].status}' | grep -qx True"
  wait_for coredns 30 curl -sf http://127.0.0.1:18181/ready
  kc uncordon "$NODE" >/dev/null   # stop cordons it; the Node object outlives the kubelet
  kc get nodes -o wide
  echo "export KUBECONFIG=$KCFG"
}

stop() {
  # 1. pods away while the kubelet still runs, so it tears sandboxes down (CNI DEL) itself
  if running kubelet && kc get --raw /readyz >/dev/null 2>&1; then
    kc cordon "$NODE" >/dev/null 2>&1 || true
    kc delete pods -A --field-selector "spec.nodeName=$NODE" --wait=true --timeout=90s 2>&1 | tail -3 || true
    for _ in $(seq 1 30); do [ -z "$(ctrk tasks ls -q 2>/dev/null)" ] && break; sleep 2; done
  fi
  stop_pid kube-proxy
  if [ -x "$BIN/kube-proxy" ]; then "$BIN/kube-proxy" --cleanup >/dev/null 2>&1 || true; fi
  stop_pid kubelet
  stop_pid coredns
  # 2. whatever containers are left: kill the tasks, remove containers (and their snapshots)
  if running containerd; then
    for c in $(ctrk tasks ls -q 2>/dev/null); do ctrk tasks kill -s KILL "$c" >/dev/null 2>&1 || true; done
    sleep 1
    for c in $(ctrk tasks ls -q 2>/dev/null); do ctrk tasks rm -f "$c" >/dev/null 2>&1 || true; done
    for c in $(ctrk containers ls -q 2>/dev/null); do ctrk containers rm "$c" >/dev/null 2>&1 || true; done
  fi
  stop_pid containerd
  # shims outlive containerd: end the ones serving our socket (they were started by our containerd)
  for p in /proc/[0-9]*; do
    if tr '\0' ' ' < "$p/cmdline" 2>/dev/null | grep -q -- "-address $SOCK "; then
      echo "stopping shim ${p#/proc/}"; kill "${p#/proc/}" 2>/dev/null || true
    fi
  done
  # 3. mounts under $R (volumes, rootfs, shm) and the pod netns files containerd left behind
  { grep -o " $R/[^ ]*" /proc/self/mounts || true; } | sort -r | while read -r m; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; done
  if [ -f "$RUN/netns.before" ]; then
    for n in /run/netns/cni-*; do
      [ -e "$n" ] || continue
      grep -qxF "$(basename "$n")" "$RUN/netns.before" && continue
      umount "$n" 2>/dev/null || true; rm -f "$n" && echo "removed netns $n"
    done
    rm -f "$RUN/netns.before"
  fi
  if [ -f "$RUN/netns.dir-made" ]; then rmdir /run/netns 2>/dev/null || true; rm -f "$RUN/netns.dir-made"; fi
  # 4. network
  iptables -t mangle -D FORWARD -i "$BR" ! -o "$BR" -j DROP 2>/dev/null || true
  iptables -t mangle -D FORWARD -o "$BR" ! -i "$BR" -j DROP 2>/dev/null || true
  # the kubelet's own chains (kube-proxy --cleanup leaves them): KUBE-FIREWALL (hooked into
  # INPUT and OUTPUT), KUBE-KUBELET-CANARY in mangle/filter/nat, KUBE-IPTABLES-HINT in mangle
  for ipt in iptables ip6tables; do
    for hook in INPUT OUTPUT; do
      while $ipt -t filter -D "$hook" -j KUBE-FIREWALL 2>/dev/null; do :; done
    done
    $ipt -t filter -F KUBE-FIREWALL 2>/dev/null && $ipt -t filter -X KUBE-FIREWALL 2>/dev/null || true
    for t in mangle filter nat; do $ipt -t $t -X KUBE-KUBELET-CANARY 2>/dev/null || true; done
    $ipt -t mangle -X KUBE-IPTABLES-HINT 2>/dev/null || true
  done
  ip route del "$SVC_CIDR" dev "$BR" 2>/dev/null || true
  if ip link show "$BR" >/dev/null 2>&1; then ip link del "$BR" && echo "removed bridge $BR"; fi
  rm -rf "$R/cni/ipam"
}

status() {
  for c in containerd coredns kubelet kube-proxy; do
    if running "$c"; then echo "$c: running (pid $(cat "$RUN/$c.pid"))"; else echo "$c: stopped"; fi
  done
  kc get nodes -o wide 2>/dev/null || true
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
