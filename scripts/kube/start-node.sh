#!/usr/bin/env bash
# start-node.sh NODE [--no-wait]: starts one node of the running test bed (node-a, node-b or node-c): its own
# containerd and its kubelet, in a mount namespace of their own. up.sh starts all three this way; after
# fail-node.sh it brings the node back with its state (containerd's images and containers, the kubelet's
# directory) kept, and waits until the node is Ready again (unless --no-wait). Nothing happens when the node runs.
#
# How a node is kept apart from the others on one machine:
#   - containerd: root, state, socket, runc root and CNI configuration of its own; its bridge moco-cni-X with the
#     Pod subnet 10.244.<index>.0/24 (all bridges are on the host, so Pods on different nodes reach each other);
#   - kubelet: --root-dir, ports <index>*1000+9250 (API) and +9248 (healthz), the cgroup root /node-X;
#   - both run in `unshare -m --propagation private`, with per-node directories bind-mounted over the paths the
#     kubelet and the CNI plugins use whatever their flags say (/var/lib/kubelet, /var/log/pods,
#     /var/log/containers, /var/lib/cni). Pod network namespaces are mounted under containerd's state directory.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
x=${1:-}; wait=1
[ "${2:-}" = --no-wait ] && wait=0
[ -n "$x" ] || die "usage: start-node.sh NODE [--no-wait]   (NODE: ${MOCO_KUBE_NODES// /, })"
i=$(node_index "$x")
need_root
lock_testbed
[ -f "$MARKER" ] && [ -f "$KUBECONFIG" ] || die "the test bed is not running: start it with scripts/kube/up.sh"
if rec_alive "$x.kubelet" && rec_alive "$x.containerd"; then log "$x already runs"; exit 0; fi
# Half a node (one daemon died): stop the rest first.
node_stop "$x"
[ -f "$PAUSE_ARCHIVE" ] || bash "$KUBE_SCRIPTS/images.sh" pause --no-import
# shellcheck disable=SC2034 # lib.sh's log lines name the node
SELF="start-node $x"
N=$(node_dir "$x"); SOCK=$(node_sock "$x"); BR=$(node_bridge "$x")
mkdir -p "$N/containerd/root" "$N/containerd/state" "$N/containerd/opt" "$N/cni/net.d" "$N/cni/ipam" \
  "$N/kubelet/pki" "$N/bind/varlibkubelet" "$N/bind/logpods" "$N/bind/logcontainers" "$N/bind/varlibcni" \
  "/run/moco-kube/$x/runc" "$PIDS" "$LOGS"

# The kubelet refuses a cgroup root that does not exist: /node-X in every cgroup v1 hierarchy.
for h in /sys/fs/cgroup/*/; do
  h=${h%/}
  [ "$(basename "$h")" = unified ] && continue
  mkdir -p "$h/$x"
done
cat /sys/fs/cgroup/cpuset/cpuset.cpus >"/sys/fs/cgroup/cpuset/$x/cpuset.cpus"
cat /sys/fs/cgroup/cpuset/cpuset.mems >"/sys/fs/cgroup/cpuset/$x/cpuset.mems"
ip link show "$BR" >/dev/null 2>&1 || { ip link add "$BR" type bridge; ip addr add "10.244.$i.1/24" dev "$BR"; }
ip link set "$BR" up

# restrict_oom_score_adj: this VM lacks CAP_SYS_RESOURCE, so runc cannot lower oom_score_adj as CRI asks.
cat >"$N/containerd/config.toml" <<C
version = 2
root = "$N/containerd/root"
state = "$N/containerd/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"]
[grpc]
  address = "$SOCK"
[plugins."io.containerd.internal.v1.opt"]
  path = "$N/containerd/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$MOCO_PAUSE_IMAGE"
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$N/cni/net.d"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        Root = "/run/moco-kube/$x/runc"
C
# ipMasq false: Pods talk to each other, the host and Services; nothing is masqueraded out of the machine.
cat >"$N/cni/net.d/10-$x.conflist" <<C
{ "cniVersion": "0.4.0", "name": "moco-$x",
  "plugins": [
    { "type": "bridge", "bridge": "$BR", "isGateway": true, "ipMasq": false, "hairpinMode": true,
      "ipam": { "type": "host-local", "ranges": [[{ "subnet": "10.244.$i.0/24" }]], "routes": [{ "dst": "0.0.0.0/0" }],
                "dataDir": "$N/cni/ipam" } },
    { "type": "portmap", "capabilities": { "portMappings": true } } ] }
C
# imageGCHighThresholdPercent 100: images come from archives, not a registry; never collect them.
cat >"$N/kubelet-config.yaml" <<C
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $MOCO_KUBE_HOST_IP
port: $((i * 1000 + 9250))
healthzBindAddress: 127.0.0.1
healthzPort: $((i * 1000 + 9248))
readOnlyPort: 0
cgroupDriver: cgroupfs
cgroupRoot: /$x
authentication: {anonymous: {enabled: true}, webhook: {enabled: false}}
authorization: {mode: AlwaysAllow}
failSwapOn: false
clusterDomain: cluster.local
evictionHard: {memory.available: "100Mi", nodefs.available: "2%", imagefs.available: "2%"}
imageGCHighThresholdPercent: 100
serializeImagePulls: false
C
# Runs inside the node's mount namespace; the daemons are started with setsid so that they outlive it.
cat >"$N/inner.sh" <<C
#!/usr/bin/env bash
set -euo pipefail
[ -z "\${KUBE_LOCK_FD:-}" ] || eval "exec \${KUBE_LOCK_FD}>&-"
mount --bind "$N/bind/varlibkubelet" /var/lib/kubelet
mount --bind "$N/bind/logpods" /var/log/pods
mount --bind "$N/bind/logcontainers" /var/log/containers
mount --bind "$N/bind/varlibcni" /var/lib/cni
setsid nice -n 5 containerd --config "$N/containerd/config.toml" </dev/null >>"$LOGS/$x.containerd.log" 2>&1 &
echo \$! >"$PIDS/$x.containerd"
for ((t = 0; t < 300; t++)); do ctr -a "$SOCK" version >/dev/null 2>&1 && break; sleep 0.1; done
ctr -a "$SOCK" version >/dev/null 2>&1 || { echo "containerd did not start: see $LOGS/$x.containerd.log" >&2; exit 1; }
ctr -a "$SOCK" -n k8s.io images ls -q | grep -qxF "$MOCO_PAUSE_IMAGE" \
  || ctr -a "$SOCK" -n k8s.io images import "$PAUSE_ARCHIVE" >/dev/null
AWS_EC2_METADATA_DISABLED=true setsid nice -n 5 "$MOCO_KUBE_BIN/kubelet" --kubeconfig="$KUBECONFIG" \
  --config="$N/kubelet-config.yaml" --root-dir="$N/kubelet" --cert-dir="$N/kubelet/pki" \
  --container-runtime=remote --container-runtime-endpoint="unix://$SOCK" --runtime-request-timeout=5m \
  --oom-score-adj=0 --hostname-override="$x" --node-ip="$MOCO_KUBE_HOST_IP" \
  --pod-infra-container-image="$MOCO_PAUSE_IMAGE" --v=1 </dev/null >>"$LOGS/$x.kubelet.log" 2>&1 &
echo \$! >"$PIDS/$x.kubelet"
C
chmod +x "$N/inner.sh"
for d in /var/lib/kubelet /var/log/pods /var/log/containers /var/lib/cni; do [ -d "$d" ] || die "$d is missing (up.sh makes it)"; done
unshare -m --propagation private "$N/inner.sh" || { node_stop "$x"; die "starting $x failed"; }
log "containerd $(pidof_rec "$x.containerd"), kubelet $(pidof_rec "$x.kubelet") (logs: $LOGS/$x.*.log)"
if [ "$wait" = 1 ]; then
  wait_nodes_ready 120 "$x" || die "$x is not Ready after 120s: see $LOGS/$x.kubelet.log"
  log "$x Ready"
fi
