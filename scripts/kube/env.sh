# shellcheck shell=bash
# The Kubernetes test bed's names and paths, for the scripts beside this file and for tests:
#   . scripts/kube/env.sh && "$KUBECTL" get nodes
# Only sets (and exports) variables; safe to source from any shell. Everything can be overridden from the
# environment before sourcing:
#   MOCO_CACHE_DIR   build outputs reused across clones and runs (default /var/cache/moco-ts)
#   MOCO_KUBE_BIN    a directory with the Kubernetes binaries to use instead of the cached build
#   MOCO_KUBE_ROOT   the running test bed's state: etcd, nodes, volumes, logs (default /var/tmp/moco-kube)

export MOCO_KUBE_VERSION=1.20.2
export MOCO_CACHE_DIR="${MOCO_CACHE_DIR:-/var/cache/moco-ts}"
# The build's cache key: change MOCO_KUBE_RECIPE when build.sh changes what it produces, and every machine
# builds again instead of reusing binaries made the old way.
MOCO_KUBE_RECIPE="kubernetes=$MOCO_KUBE_VERSION reflect2=debian-1.0.2 go=debian-bookworm etcd=debian-bookworm cgo=0 r1"
MOCO_KUBE_BUILD_KEY=$(printf '%s' "$MOCO_KUBE_RECIPE" | sha256sum | cut -c1-8)
export MOCO_KUBE_RECIPE MOCO_KUBE_BUILD_KEY
export MOCO_KUBE_BUILD_DIR="$MOCO_CACHE_DIR/kube-$MOCO_KUBE_VERSION-$MOCO_KUBE_BUILD_KEY"
export MOCO_KUBE_BIN="${MOCO_KUBE_BIN:-$MOCO_KUBE_BUILD_DIR/bin}"
export KUBECTL="$MOCO_KUBE_BIN/kubectl"

export MOCO_KUBE_ROOT="${MOCO_KUBE_ROOT:-/var/tmp/moco-kube}"
export KUBECONFIG="$MOCO_KUBE_ROOT/kubeconfig"
# Every node X runs its own containerd; its socket is $MOCO_KUBE_ROOT/X/containerd/containerd.sock.
export MOCO_KUBE_NODES="node-a node-b node-c"

# Addresses: the host side of the test bed lives on a bridge of its own (moco-kube0, 10.244.0.1/32), so that
# the API server and the kubelets listen on an address only this machine can reach. Node X (index 1..3) has
# the bridge moco-cni-X and the Pod subnet 10.244.X.0/24; Services get 10.96.0.0/24.
export MOCO_KUBE_HOST_IP=10.244.0.1
export MOCO_KUBE_POD_CIDR=10.244.0.0/16
export MOCO_KUBE_SERVICE_CIDR=10.96.0.0/24
export MOCO_KUBE_API_PORT=16543
export MOCO_KUBE_ETCD_PORT=23890
export MOCO_KUBE_API_URL="https://$MOCO_KUBE_HOST_IP:$MOCO_KUBE_API_PORT"

# Images (written by images.sh once they are imported into the nodes): MOCO_IMAGE (agent and controller),
# MOCO_MYSQLD_IMAGE (MariaDB), MOCO_PAUSE_IMAGE.
export MOCO_PAUSE_IMAGE=localhost/moco-pause:1
if [ -f "$MOCO_KUBE_ROOT/images.env" ]; then
  # shellcheck disable=SC1091
  . "$MOCO_KUBE_ROOT/images.env"
fi
