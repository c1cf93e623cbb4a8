#!/bin/bash
# cluster.sh: a one-node Kubernetes cluster on this machine, for the cluster suite and for
# trying the Pulumi program by hand (docs/pulumi.md "Try it on a one-node cluster").
#
#   cluster.sh up       control plane (control-plane.sh), then a real node (node.sh)
#   cluster.sh down     the node's pods, processes, bridge, iptables rules and mounts, then the
#                       control plane and its data: nothing it started is left running
#   cluster.sh status
#   cluster.sh env      print the exports that point kubectl and pulumi at it
#
# Needs root (containerd, runc, iptables) and the binaries from build.sh. State lives under
# $CLUSTER_RUN (default /tmp/perch-cluster); the registry's NodePorts answer on 10.244.0.1.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
RUN=${CLUSTER_RUN:-/tmp/perch-cluster}
TOOLS=${CLUSTER_TOOLS:-${PERCH_TOOLS:-$HOME/.cache/perch-tools}/cluster}
export PATH=$TOOLS/bin:$PATH   # kubectl, built with the rest (build.sh)

case "${1:-}" in
  up)
    bash "$HERE/control-plane.sh" start
    bash "$HERE/node.sh" start
    ;;
  down)
    rc=0
    bash "$HERE/node.sh" stop || rc=$?
    bash "$HERE/control-plane.sh" reset || rc=$?
    rm -rf "$RUN/volumes"   # the hostPath volumes the suite (or you) made for claims
    exit $rc
    ;;
  status)
    bash "$HERE/control-plane.sh" status
    bash "$HERE/node.sh" status
    ;;
  env)
    echo "export KUBECONFIG=$RUN/control-plane/kubeconfig"
    echo "export PATH=$TOOLS/bin:\$PATH PULUMI_HOME=$TOOLS/pulumi-home PULUMI_SKIP_UPDATE_CHECK=true"
    ;;
  *) echo "usage: $0 up|down|status|env" >&2; exit 2 ;;
esac
