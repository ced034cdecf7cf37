#!/usr/bin/env bash
# down.sh: stops the test bed and removes what it made, and restores the host settings it changed.
#   - processes, by their recorded PIDs: kube-proxy and the volume recycling loop, then per node (SIGKILL: the
#     node's state is thrown away) the kubelet, containerd, the containers (every process in the node's cgroup)
#     and containerd's shims, then the scheduler, the
#     controller-manager, the API server (slow on SIGTERM: SIGKILL after 5 s) and etcd;
#   - the KUBE-* iptables chains (only when no other kubelet or kube-proxy runs on the machine), the FORWARD rules,
#     route and bridges up.sh made, the node cgroups, etcd's tmpfs, the shim sockets of our shims, the paths
#     outside the root dir that up.sh found missing (/var/lib/kubelet, /var/log/pods, ...);
#   - the sysctls recorded by up.sh are set back (kubelet: vm.overcommit_memory, kernel.panic, ...; kube-proxy:
#     route_localnet; the bridge plugin: ip_forward), and any other sysctl that differs is reported;
#   - the root dir's contents, except the logs, which move to $MOCO_KUBE_ROOT/last-logs.
# Safe to run when nothing runs, after a failed start and twice in a row.
set -uo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
need_root
lock_testbed
T0=$(date +%s.%N)
if [ -n "$(find "$MOCO_KUBE_ROOT" -mindepth 1 -maxdepth 1 ! -name last-logs 2>/dev/null | head -n 1)" ] && [ ! -f "$MARKER" ]; then
  die "$MOCO_KUBE_ROOT has files but no $MARKER: not a test bed root dir; nothing done"
fi

log "stopping kube-proxy and the volume recycling loop"
stop_pidfile "$PIDS/kube-proxy" kube-proxy 10
# The loop's process group: the loop and the kubectl it runs.
if pid_is "$(pidof_rec pv-recycler)" pv-recycler; then kill -TERM -- "-$(pidof_rec pv-recycler)" 2>/dev/null; fi
rm -f "$PIDS/pv-recycler"
# The nodes' state is thrown away: no need for a graceful stop. All three at once.
log "stopping the nodes: kubelets, containers, containerd and shims"
node_pids=()
for x in $MOCO_KUBE_NODES; do node_stop "$x" & node_pids+=($!); done
wait "${node_pids[@]}"
log "stopping the scheduler, the controller-manager, the API server and etcd"
stop_pidfile "$PIDS/scheduler" kube-scheduler 10
stop_pidfile "$PIDS/kcm" kube-controller-manager 10
stop_pidfile "$PIDS/apiserver" kube-apiserver 5
stop_pidfile "$PIDS/etcd" etcd 10

log "removing iptables rules and chains, bridges, cgroups, mounts"
# iptables: our FORWARD rules; the chains kubelet and kube-proxy made, unless another one still needs them.
iptables -w -S FORWARD 2>/dev/null | grep -- '--comment moco-kube' | sed 's/^-A /-D /' \
  | while read -r rule; do eval "iptables -w $rule" 2>/dev/null || true; done
if ps -eo comm= | grep -qxE 'kubelet|kube-proxy'; then
  log "another kubelet or kube-proxy runs on this machine: the KUBE-* iptables chains are left to it"
else
  for ipt in iptables ip6tables; do
    for tb in filter nat mangle; do
      rules=$("$ipt" -w -t "$tb" -S 2>/dev/null) || continue
      # Rules in the built-in chains that jump to KUBE-* chains, then the KUBE-* chains themselves.
      echo "$rules" | grep -E '^-A (INPUT|OUTPUT|FORWARD|PREROUTING|POSTROUTING) .*-j KUBE-' | sed 's/^-A /-D /' \
        | while read -r rule; do eval "$ipt -w -t $tb $rule" 2>/dev/null || true; done
      chains=$(echo "$rules" | grep -oE '^-N KUBE-[A-Za-z0-9_-]+' | cut -d' ' -f2)
      for c in $chains; do "$ipt" -w -t "$tb" -F "$c" 2>/dev/null || true; done
      for c in $chains; do "$ipt" -w -t "$tb" -X "$c" 2>/dev/null || true; done
    done
  done
fi

ip route del "$MOCO_KUBE_SERVICE_CIDR" 2>/dev/null || true
for br in $(ip -o link show 2>/dev/null | grep -oE ' moco-(kube0|cni-[a-z]):' | tr -d ' :'); do ip link del "$br" 2>/dev/null; done

# Node cgroups, deepest first (processes leave their cgroups a moment after they die: try a few times).
for x in $MOCO_KUBE_NODES; do
  for ((t = 0; t < 20; t++)); do
    left=0
    for h in /sys/fs/cgroup/*/"$x"; do
      [ -d "$h" ] || continue
      find "$h" -depth -type d -exec rmdir {} \; 2>/dev/null
      [ -d "$h" ] && left=1
    done
    [ "$left" = 0 ] && break
    sleep 0.25
  done
  [ "$left" = 0 ] || log "cgroups /sys/fs/cgroup/*/$x could not be removed (a process still in them?)"
done

# Mounts in the host's namespace (etcd's tmpfs); those of the nodes went with their mount namespaces.
awk -v r="$MOCO_KUBE_ROOT/" 'index($5, r) == 1 { print $5 }' /proc/self/mountinfo | sort -r \
  | while read -r m; do umount "$m" 2>/dev/null || umount -l "$m"; done

# Paths outside the root dir: remove those up.sh made, when they are empty (they are mount points on the host).
rm -rf /run/moco-kube
if [ -f "$HOSTSTATE/created" ]; then
  while read -r d; do
    [ -n "$d" ] || continue
    [ "$d" = /run/containerd ] && rmdir /run/containerd/s 2>/dev/null
    mountpoint -q "$d" 2>/dev/null || rmdir "$d" 2>/dev/null || [ ! -e "$d" ] \
      || log "left $d in place: it is not empty"
  done < <(sort -r "$HOSTSTATE/created")
fi

if [ -f "$HOSTSTATE/sysctls" ]; then
  while IFS='=' read -r k v; do
    [ "$(sysctl -n "$k" 2>/dev/null)" = "$v" ] && continue
    sysctl -qw "$k=$v" >/dev/null 2>&1 && log "restored $k = $v" || log "could not restore $k to $v"
  done <"$HOSTSTATE/sysctls"
  if [ -f "$HOSTSTATE/sysctl-all.before" ]; then
    # Values that move by themselves are not reported.
    volatile='^(fs\.(dentry-state|file-nr|inode-nr|inode-state|quota)|kernel\.(random|ns_last_pid|pty\.nr|sched_domain)|net\.netfilter\.nf_conntrack_count|vm\.(stat|nr_)|dev\.|.*\.stable_secret|kernel\.tainted|fs\.binfmt_misc)'
    changed=$(diff <(grep -vE "$volatile" "$HOSTSTATE/sysctl-all.before") <(sysctl -a 2>/dev/null | sort | grep -vE "$volatile") \
      | grep '^>' | grep -vE '\.(moco-|veth)' | cut -c3-)
    [ -z "$changed" ] || log "note: these sysctls differ from before up.sh (changed by something else?): $(echo "$changed" | tr '\n' ';')"
  fi
fi

if [ -f "$MARKER" ]; then
  log "deleting $MOCO_KUBE_ROOT (the nodes' image stores are most of it)"
  rm -rf "$MOCO_KUBE_ROOT/last-logs"
  [ -d "$LOGS" ] && mv "$LOGS" "$MOCO_KUBE_ROOT/last-logs"
  find "$MOCO_KUBE_ROOT" -mindepth 1 -maxdepth 1 ! -name last-logs -exec rm -rf {} +
fi
log "stopped in $(awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')s (logs of this run: $MOCO_KUBE_ROOT/last-logs)"
