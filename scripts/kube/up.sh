#!/usr/bin/env bash
# up.sh [--clean]: starts the Kubernetes test bed on this machine and waits until its three nodes are Ready:
#   etcd, kube-apiserver, kube-controller-manager, kube-scheduler, three nodes (node-a, node-b, node-c: each its
#   own containerd and kubelet, start-node.sh), one kube-proxy, local PersistentVolumes (6 per node) with the
#   default StorageClass `local-storage`, and the loop that empties a volume whose claim was deleted.
# The Kubernetes binaries come from build.sh (built once, cached); missing Debian packages are installed.
# kubectl: `. scripts/kube/env.sh && "$KUBECTL" get nodes` (KUBECONFIG is $MOCO_KUBE_ROOT/kubeconfig).
#
# When the test bed already runs and is healthy, it says so and exits 0. When a stopped or broken one is in the
# way it refuses; --clean stops and removes that one first (down.sh). A start that fails is cleaned up.
# Everything stays on this machine: the API server and the kubelets listen on 10.244.0.1 (the bridge
# moco-kube0), and forwarding from the Pod and Service ranges to any interface but the test bed's is dropped.
# Host settings it changes are recorded first and restored by down.sh.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
clean=0
for a in "$@"; do
  case $a in --clean) clean=1 ;; *) die "usage: up.sh [--clean]" ;; esac
done
need_root
bash "$KUBE_SCRIPTS/build.sh" >/dev/null
bash "$KUBE_SCRIPTS/install.sh"
bash "$KUBE_SCRIPTS/images.sh" pause --no-import
lock_testbed
T0=$(date +%s.%N)

if testbed_healthy; then
  log "the test bed in $MOCO_KUBE_ROOT is already up and healthy"
  exit 0
fi
leftovers() { # what a previous test bed left: state in the root dir, our bridges
  find "$MOCO_KUBE_ROOT" -mindepth 1 -maxdepth 1 ! -name last-logs 2>/dev/null | head -n 1
  ip -o link show 2>/dev/null | grep -oE ' moco-(kube0|cni-[a-z]):' | head -n 1
}
# True when nothing of a previous test bed runs any more: no recorded component and no container of a node (its
# processes died with a machine or a session that ended); what it left is then only files and rules to remove.
nothing_runs() {
  local f n
  for f in "$PIDS"/*; do [ -f "$f" ] && alive "$(cat "$f" 2>/dev/null)" && return 1; done
  for n in $MOCO_KUBE_NODES; do [ -z "$(node_container_pids "$n")" ] || return 1; done
  return 0
}
if [ -n "$(leftovers)" ]; then
  if [ "$clean" = 0 ] && nothing_runs; then
    log "a previous test bed in $MOCO_KUBE_ROOT left files but runs nothing any more: removing it first (down.sh)"
    bash "$KUBE_SCRIPTS/down.sh"
  elif [ "$clean" = 1 ]; then
    log "removing the stopped or broken test bed first (down.sh)"
    bash "$KUBE_SCRIPTS/down.sh"
  else
    die "a test bed that is not healthy (stopped, half started or partly failed) is in $MOCO_KUBE_ROOT; remove it
  with scripts/kube/down.sh (or run up.sh --clean), then start again"
  fi
fi
# Another Kubernetes on the same ports would be taken for ours.
for port in "$MOCO_KUBE_ETCD_PORT" $((MOCO_KUBE_ETCD_PORT + 1)) "$MOCO_KUBE_API_PORT" 10249 10256 10257 10259 \
  10248 10250 11248 11250 12248 12250; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    die "port $port is in use (by another Kubernetes?): stop that first ($(ss -ltnpH "sport = :$port" 2>/dev/null | grep -oE 'users:.*' | head -n 1))"
  fi
done

started=0
on_exit() {
  local rc=$?
  if [ "$rc" != 0 ] && [ "$started" = 1 ]; then
    log "start failed: stopping what was started (down.sh); logs are kept in $MOCO_KUBE_ROOT/last-logs"
    bash "$KUBE_SCRIPTS/down.sh" >&2 || true
  fi
}
trap on_exit EXIT
started=1

mkdir -p "$MOCO_KUBE_ROOT" "$PIDS" "$LOGS" "$HOSTSTATE" "$MOCO_KUBE_ROOT/cp/certs"
touch "$MARKER"
# Host state, recorded before anything changes it: sysctls (restored by down.sh), a full sysctl listing (down.sh
# reports what else differs), and which paths outside the root dir do not exist yet (down.sh removes those).
for k in $HOST_SYSCTLS; do
  v=$(sysctl -n "$k" 2>/dev/null) && echo "$k=$v"
done >"$HOSTSTATE/sysctls"
sysctl -a 2>/dev/null | sort >"$HOSTSTATE/sysctl-all.before"
: >"$HOSTSTATE/created"
for d in /var/lib/kubelet /var/log/pods /var/log/containers /var/lib/cni /run/containerd /run/moco-kube; do
  [ -e "$d" ] || echo "$d" >>"$HOSTSTATE/created"
done
mkdir -p /var/lib/kubelet /var/log/pods /var/log/containers /var/lib/cni /run/moco-kube

log "network: bridges moco-kube0 ($MOCO_KUBE_HOST_IP) and moco-cni-a/b/c, Services routed to moco-cni-a, forwarding out of the machine dropped"
ip link add moco-kube0 type bridge
ip addr add "$MOCO_KUBE_HOST_IP/32" dev moco-kube0
ip link set moco-kube0 up
for x in $MOCO_KUBE_NODES; do
  i=$(node_index "$x"); br=$(node_bridge "$x")
  ip link add "$br" type bridge; ip addr add "10.244.$i.1/24" dev "$br"; ip link set "$br" up
done
ip route replace "$MOCO_KUBE_SERVICE_CIDR" dev "$(node_bridge node-a)"
pin_forward_rules

# etcd on a tmpfs: the test bed is thrown away anyway, and fsyncs on a disk busy with other tests slow every
# API call down.
D="$MOCO_KUBE_ROOT/cp"
mkdir -p "$D/etcd"
mount -t tmpfs -o size=1g,mode=0700 moco-kube-etcd "$D/etcd"
log "etcd"
spawn_daemon "$PIDS/etcd" "$LOGS/etcd.log" nice -n 5 "$MOCO_KUBE_BIN/etcd" --name moco-kube --data-dir "$D/etcd/data" \
  --listen-client-urls "http://127.0.0.1:$MOCO_KUBE_ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$MOCO_KUBE_ETCD_PORT" \
  --listen-peer-urls "http://127.0.0.1:$((MOCO_KUBE_ETCD_PORT + 1))" \
  --initial-advertise-peer-urls "http://127.0.0.1:$((MOCO_KUBE_ETCD_PORT + 1))" \
  --initial-cluster "moco-kube=http://127.0.0.1:$((MOCO_KUBE_ETCD_PORT + 1))" --quota-backend-bytes 805306368

openssl genrsa -out "$D/sa.key" 2048 2>/dev/null
echo "moco-kube-admin-token,admin,admin,system:masters" >"$D/tokens.csv"
chmod 600 "$D/sa.key" "$D/tokens.csv"
log "kube-apiserver on $MOCO_KUBE_API_URL"
# Admission: the defaults of 1.20 (webhooks included: the operator uses validating and mutating webhooks).
# --enable-aggregator-routing: webhooks and aggregated APIs are called at their Pod's IP, not through kube-proxy.
spawn_daemon "$PIDS/apiserver" "$LOGS/apiserver.log" nice -n 5 "$MOCO_KUBE_BIN/kube-apiserver" --etcd-servers="http://127.0.0.1:$MOCO_KUBE_ETCD_PORT" \
  --bind-address="$MOCO_KUBE_HOST_IP" --advertise-address="$MOCO_KUBE_HOST_IP" --secure-port="$MOCO_KUBE_API_PORT" \
  --cert-dir="$D/certs" --token-auth-file="$D/tokens.csv" --authorization-mode=Node,RBAC \
  --service-account-issuer=https://kubernetes.default.svc --service-account-key-file="$D/sa.key" \
  --service-account-signing-key-file="$D/sa.key" --service-cluster-ip-range="$MOCO_KUBE_SERVICE_CIDR" \
  --enable-admission-plugins=NamespaceLifecycle,LimitRanger,ServiceAccount,TaintNodesByCondition,Priority,DefaultTolerationSeconds,DefaultStorageClass,StorageObjectInUseProtection,PersistentVolumeClaimResize,RuntimeClass,MutatingAdmissionWebhook,ValidatingAdmissionWebhook,ResourceQuota \
  --enable-aggregator-routing=true --allow-privileged=true --kubelet-preferred-address-types=InternalIP \
  --profiling=false
for ((t = 0; t < 1200; t++)); do api_ready && break; rec_alive apiserver || break; sleep 0.1; done
api_ready || { tail -n 20 "$LOGS/apiserver.log" >&2; die "the API server did not become ready (log: $LOGS/apiserver.log)"; }
log "API server ready"
cat >"$KUBECONFIG" <<K
apiVersion: v1
kind: Config
clusters: [{name: moco-kube, cluster: {server: "$MOCO_KUBE_API_URL", insecure-skip-tls-verify: true}}]
users: [{name: admin, user: {token: moco-kube-admin-token}}]
contexts: [{name: moco-kube, context: {cluster: moco-kube, user: admin, namespace: default}}]
current-context: moco-kube
K
chmod 600 "$KUBECONFIG"

log "kube-controller-manager, kube-scheduler"
# The apiserver.crt it made holds its CA too: Pods' service account secrets get it as ca.crt.
spawn_daemon "$PIDS/kcm" "$LOGS/kcm.log" nice -n 5 "$MOCO_KUBE_BIN/kube-controller-manager" --kubeconfig="$KUBECONFIG" --leader-elect=false \
  --bind-address=127.0.0.1 --port=0 --service-account-private-key-file="$D/sa.key" \
  --root-ca-file="$D/certs/apiserver.crt" --use-service-account-credentials=false \
  --cluster-cidr="$MOCO_KUBE_POD_CIDR" --service-cluster-ip-range="$MOCO_KUBE_SERVICE_CIDR" \
  --node-monitor-grace-period=20s --pod-eviction-timeout=30s --profiling=false
spawn_daemon "$PIDS/scheduler" "$LOGS/scheduler.log" nice -n 5 "$MOCO_KUBE_BIN/kube-scheduler" --kubeconfig="$KUBECONFIG" --leader-elect=false \
  --bind-address=127.0.0.1 --port=0 --authentication-kubeconfig="$KUBECONFIG" \
  --authorization-kubeconfig="$KUBECONFIG" --profiling=false

node_pids=()
for x in $MOCO_KUBE_NODES; do bash "$KUBE_SCRIPTS/start-node.sh" "$x" --no-wait & node_pids+=($!); done
for p in "${node_pids[@]}"; do wait "$p" || die "a node did not start (logs: $LOGS/node-*.log)"; done

log "kube-proxy"
# conntrack settings 0: kube-proxy leaves the machine's conntrack sysctls alone. NodePorts only on 10.244.0.1.
spawn_daemon "$PIDS/kube-proxy" "$LOGS/kube-proxy.log" nice -n 5 "$MOCO_KUBE_BIN/kube-proxy" --kubeconfig="$KUBECONFIG" --hostname-override=node-a \
  --bind-address="$MOCO_KUBE_HOST_IP" --proxy-mode=iptables --oom-score-adj=0 --cluster-cidr="$MOCO_KUBE_POD_CIDR" \
  --nodeport-addresses="$MOCO_KUBE_HOST_IP/32" --conntrack-max-per-core=0 --conntrack-tcp-timeout-established=0 \
  --conntrack-tcp-timeout-close-wait=0 --metrics-bind-address=127.0.0.1:10249 --healthz-bind-address=127.0.0.1:10256 \
  --profiling=false

log "waiting for the nodes to be Ready"
# shellcheck disable=SC2086
wait_nodes_ready 180 $MOCO_KUBE_NODES || { kctl get nodes >&2 || true; die "the nodes are not Ready after 180s (logs: $LOGS/node-*.kubelet.log)"; }
log "nodes Ready"
for ((t = 0; t < 300; t++)); do iptables -w -S FORWARD 2>/dev/null | grep -q -- '-j KUBE-FORWARD' && break; sleep 0.1; done
pin_forward_rules

log "storage: 6 local PersistentVolumes per node, StorageClass local-storage (default), the recycling loop"
VOL="$MOCO_KUBE_ROOT/volumes"
{
  cat <<Y
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: local-storage
  annotations: {storageclass.kubernetes.io/is-default-class: "true"}
provisioner: kubernetes.io/no-provisioner
volumeBindingMode: WaitForFirstConsumer
reclaimPolicy: Retain
allowVolumeExpansion: false
Y
  for x in $MOCO_KUBE_NODES; do
    for v in 1 2 3 4 5 6; do
      mkdir -p "$VOL/$x/pv-$v"
      cat <<Y
---
apiVersion: v1
kind: PersistentVolume
metadata:
  name: local-$x-$v
  labels: {moco-testbed/local-volume: "true", moco-testbed/node: $x}
spec:
  capacity: {storage: 5Gi}
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Retain
  storageClassName: local-storage
  volumeMode: Filesystem
  local: {path: $VOL/$x/pv-$v}
  nodeAffinity:
    required:
      nodeSelectorTerms:
      - matchExpressions: [{key: kubernetes.io/hostname, operator: In, values: [$x]}]
Y
    done
  done
} >"$MOCO_KUBE_ROOT/storage.yaml"
kctl apply -f "$MOCO_KUBE_ROOT/storage.yaml" >/dev/null
# A copy: the loop must not depend on this clone staying where it is.
cp "$KUBE_SCRIPTS/pv-recycler.sh" "$MOCO_KUBE_ROOT/pv-recycler.sh"
spawn_daemon "$PIDS/pv-recycler" "$LOGS/pv-recycler.log" "$MOCO_KUBE_ROOT/pv-recycler.sh" "$KUBECTL" "$KUBECONFIG" "$VOL"

# Pods can be created once the default namespace has its service account.
for ((t = 0; t < 600; t++)); do kctl get serviceaccount default >/dev/null 2>&1 && break; sleep 0.1; done
kctl get serviceaccount default >/dev/null 2>&1 || die "the default service account did not appear (log: $LOGS/kcm.log)"
started=0
log "test bed up in $(awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')s: KUBECONFIG=$KUBECONFIG, kubectl $KUBECTL; logs in $LOGS"
