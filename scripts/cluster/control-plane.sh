#!/bin/bash
# control-plane.sh: a Kubernetes control plane on 127.0.0.1 from the binaries build.sh made
# (node.sh adds the node; cluster.sh drives both).
#
#   control-plane.sh start     etcd + kube-apiserver + kube-controller-manager + kube-scheduler
#   control-plane.sh stop      stop what start started (by the PIDs it recorded), keep the data
#   control-plane.sh reset     stop, then delete etcd data, logs and PKI
#   control-plane.sh status    which components run, and `kubectl get --raw /readyz`
#
# Everything listens on 127.0.0.1 only: etcd 2379 (peer 2380, metrics 2381), apiserver 6443,
# controller-manager 10257, scheduler 10259. Admin access: a client certificate
# (CN=localkube-admin, O=system:masters) in $CLUSTER_RUN/control-plane/kubeconfig.
set -euo pipefail

BIN=${CLUSTER_TOOLS:-${PERCH_TOOLS:-$HOME/.cache/perch-tools}/cluster}/bin
DIR=${CLUSTER_RUN:-/tmp/perch-cluster}/control-plane
PKI=$DIR/pki
RUN=$DIR/run
LOG=$DIR/log
KCFG=$DIR/kubeconfig
TOKEN=localkube-admin-token
export PATH=$BIN:$PATH   # kubectl, built with the rest (build.sh)
CTL=${KUBECTL:-$(command -v kubectl || true)}

die() { echo "control-plane.sh: $*" >&2; exit 1; }

pki() {
  mkdir -p "$PKI"
  [ -f "$PKI/ca.crt" ] && return 0
  (
    cd "$PKI"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 3650 -subj "/CN=localkube-ca" 2>/dev/null
    cat > server.ext <<'EOF'
subjectAltName=IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local
extendedKeyUsage=serverAuth
EOF
    openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj "/CN=kube-apiserver" 2>/dev/null
    openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt -days 3650 -extfile server.ext 2>/dev/null
    printf 'extendedKeyUsage=clientAuth\n' > client.ext
    client() { # file CN [O]
      local subj="/CN=$2"; [ -n "${3:-}" ] && subj="/O=$3/CN=$2"
      openssl req -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.csr" -subj "$subj" 2>/dev/null
      openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -out "$1.crt" -days 3650 -extfile client.ext 2>/dev/null
    }
    client admin localkube-admin system:masters
    client controller-manager system:kube-controller-manager
    client scheduler system:kube-scheduler
    openssl genrsa -out sa.key 2048 2>/dev/null
    openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
    echo "$TOKEN,localkube-admin,localkube-admin,system:masters" > token.csv
    rm -f ./*.csr
  )
}

kubeconfig() { # file user cert key
  cat > "$1" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: localkube
  cluster:
    server: https://127.0.0.1:6443
    certificate-authority: $PKI/ca.crt
users:
- name: $2
  user:
    client-certificate: $PKI/$3.crt
    client-key: $PKI/$3.key
contexts:
- name: localkube
  context: {cluster: localkube, user: $2}
current-context: localkube
EOF
}

# shellcheck source=processes.sh
source "$(dirname "$0")/processes.sh"

start() {
  for b in etcd kube-apiserver; do [ -x "$BIN/$b" ] || die "$BIN/$b missing: run scripts/cluster/build.sh (or scripts/install-tools.sh cluster) first"; done
  [ -n "$CTL" ] || die "kubectl not found: run scripts/cluster/build.sh kubectl (or set KUBECTL=)"
  mkdir -p "$RUN" "$LOG" "$DIR/etcd"
  pki
  kubeconfig "$KCFG" localkube-admin admin
  kubeconfig "$DIR/controller-manager.kubeconfig" kcm controller-manager
  kubeconfig "$DIR/scheduler.kubeconfig" scheduler scheduler

  launch etcd "$BIN/etcd" --name localkube --data-dir "$DIR/etcd" \
    --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
    --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
    --initial-cluster localkube=http://127.0.0.1:2380 --listen-metrics-urls http://127.0.0.1:2381 \
    --quota-backend-bytes 2147483648 --log-level warn
  wait_for etcd 30 curl -sf http://127.0.0.1:2379/health

  launch kube-apiserver "$BIN/kube-apiserver" \
    --etcd-servers http://127.0.0.1:2379 \
    --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port 6443 \
    --endpoint-reconciler-type none \
    --tls-cert-file "$PKI/server.crt" --tls-private-key-file "$PKI/server.key" \
    --client-ca-file "$PKI/ca.crt" --token-auth-file "$PKI/token.csv" \
    --service-account-issuer https://kubernetes.default.svc.cluster.local \
    --service-account-key-file "$PKI/sa.pub" --service-account-signing-key-file "$PKI/sa.key" \
    --service-cluster-ip-range 10.96.0.0/16 --service-node-port-range 30000-32767 \
    --authorization-mode Node,RBAC --allow-privileged=true \
    --enable-priority-and-fairness=false --profiling=false -v=1
  wait_for kube-apiserver 90 "$CTL" --kubeconfig "$KCFG" get --raw /readyz

  if [ -x "$BIN/kube-controller-manager" ]; then
    launch kube-controller-manager "$BIN/kube-controller-manager" \
      --kubeconfig "$DIR/controller-manager.kubeconfig" \
      --authentication-kubeconfig "$DIR/controller-manager.kubeconfig" \
      --authorization-kubeconfig "$DIR/controller-manager.kubeconfig" \
      --bind-address 127.0.0.1 --secure-port 10257 --leader-elect=false \
      --service-account-private-key-file "$PKI/sa.key" --root-ca-file "$PKI/ca.crt" \
      --use-service-account-credentials=true \
      --cluster-signing-cert-file "$PKI/ca.crt" --cluster-signing-key-file "$PKI/ca.key" \
      --controllers '*,-nodeipam,-cloud-node-lifecycle,-service-lb-controller,-route' -v=1
  fi
  if [ -x "$BIN/kube-scheduler" ]; then
    launch kube-scheduler "$BIN/kube-scheduler" \
      --kubeconfig "$DIR/scheduler.kubeconfig" \
      --authentication-kubeconfig "$DIR/scheduler.kubeconfig" \
      --authorization-kubeconfig "$DIR/scheduler.kubeconfig" \
      --bind-address 127.0.0.1 --secure-port 10259 --leader-elect=false -v=1
  fi
  echo "export KUBECONFIG=$KCFG"
}

stop() {
  for c in kube-scheduler kube-controller-manager kube-apiserver etcd; do stop_pid "$c"; done
}

status() {
  for c in etcd kube-apiserver kube-controller-manager kube-scheduler; do
    if running "$c"; then echo "$c: running (pid $(cat "$RUN/$c.pid"))"; else echo "$c: stopped"; fi
  done
  [ -f "$KCFG" ] && "$CTL" --kubeconfig "$KCFG" get --raw /readyz 2>&1 | head -1 || true
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  reset) stop; rm -rf "$DIR" ;;
  status) status ;;
  *) echo "usage: $0 start|stop|reset|status" >&2; exit 2 ;;
esac
