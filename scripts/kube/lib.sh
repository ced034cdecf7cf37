# shellcheck shell=bash
# Helpers shared by the test bed's scripts. Tests source env.sh instead.
KUBE_SCRIPTS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=env.sh
. "$KUBE_SCRIPTS/env.sh"

T0=$(date +%s.%N)
SELF=$(basename "$0" .sh)

elapsed() { awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
# Progress lines go to stderr with the time since the script started.
log() { printf '[kube %s %s +%ss] %s\n' "$SELF" "$(date +%T)" "$(elapsed)" "$*" >&2; }
die() { printf 'kube %s: %s\n' "$SELF" "$*" >&2; exit 1; }

need_root() {
  [ "$(id -u)" = 0 ] || die "must run as root: it starts containerd and kubelets, and changes iptables, routes and sysctls"
}

# True while PID runs; a zombie counts as gone (PID 1 here may never reap it).
alive() {
  local state
  [ -n "${1:-}" ] || return 1
  state=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 1
  [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

# True when PID runs and its command line contains TEXT (guards against a PID reused by another program).
pid_is() {
  alive "$1" && tr '\0' ' ' 2>/dev/null <"/proc/$1/cmdline" | grep -qF -- "$2"
}

# stop_pid PID TEXT [GRACE]: SIGTERM, wait up to GRACE seconds (default 10), then SIGKILL. Only when the PID
# still runs a command containing TEXT.
stop_pid() {
  local pid=$1 text=$2 grace=${3:-10} i
  pid_is "$pid" "$text" || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < grace * 10; i++)); do alive "$pid" || return 0; sleep 0.1; done
  log "pid $pid ($text) ignored SIGTERM for ${grace}s: SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do alive "$pid" || return 0; sleep 0.1; done
  log "pid $pid ($text) still runs after SIGKILL"
}

# stop_pidfile FILE TEXT [GRACE]: stop_pid on the PID recorded in FILE, then remove FILE.
stop_pidfile() {
  [ -f "$1" ] || return 0
  stop_pid "$(cat "$1")" "$2" "${3:-10}"
  rm -f "$1"
}

# apt_install PKG...: installs the packages that are missing, from Debian.
apt_install() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ "${#missing[@]}" -gt 0 ] || return 0
  [ "$(id -u)" = 0 ] || die "missing packages; install them with: sudo apt-get install -y --no-install-recommends ${missing[*]}"
  log "installing from Debian: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  local apt=(apt-get -o DPkg::Lock::Timeout=600 -qq)
  # Package lists older than a day may point at removed versions: refresh them once.
  if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mmin -1440 2>/dev/null | head -n 1)" ]; then
    "${apt[@]}" update >&2 || log "apt-get update failed; trying with the cached package lists"
  fi
  if ! "${apt[@]}" install -y --no-install-recommends "${missing[@]}" >/dev/null; then
    "${apt[@]}" update >&2 || true
    "${apt[@]}" install -y --no-install-recommends "${missing[@]}" >&2 \
      || die "could not install ${missing[*]} from Debian (apt-get install failed; see above)"
  fi
}

# take_lock FILE WHAT: holds an exclusive lock on FILE until the script exits; says when it has to wait.
take_lock() {
  mkdir -p "$(dirname "$1")"
  exec {KUBE_LOCK_FD}>"$1"
  export KUBE_LOCK_FD
  if ! flock -n "$KUBE_LOCK_FD"; then
    log "waiting for another $2 to finish (lock $1)"
    flock "$KUBE_LOCK_FD"
  fi
}

# Nothing from the Pod and Service ranges is forwarded out of the machine: through any interface that is not
# one of the test bed's bridges (moco-*). These two rules go first in FORWARD, also ahead of the rules
# kube-proxy puts there when it starts (they accept, for one, packets marked for masquerading): call again after
# kube-proxy has started. kube-proxy only checks that its rules exist, so the order stays.
pin_forward_rules() {
  local r
  for r in "-s $MOCO_KUBE_POD_CIDR" "-d $MOCO_KUBE_SERVICE_CIDR"; do
    # shellcheck disable=SC2086 # r is two words on purpose
    while iptables -w -D FORWARD $r ! -o moco-+ -m comment --comment moco-kube -j DROP 2>/dev/null; do :; done
    # shellcheck disable=SC2086
    iptables -w -I FORWARD 1 $r ! -o moco-+ -m comment --comment moco-kube -j DROP
  done
}

# spawn_daemon PIDFILE LOGFILE CMD...: starts CMD in a session of its own (it outlives this script and Ctrl-C
# of it) and records its PID. The lock's file descriptor is closed first: a daemon holding it would keep every
# later start or stop of the test bed waiting.
spawn_daemon() {
  local pidfile=$1 logfile=$2
  shift 2
  (
    [ -z "${KUBE_LOCK_FD:-}" ] || eval "exec ${KUBE_LOCK_FD}>&-"
    exec setsid "$@" </dev/null >>"$logfile" 2>&1
  ) &
  echo $! >"$pidfile"
}

node_index() {
  case $1 in
    node-a) echo 1 ;; node-b) echo 2 ;; node-c) echo 3 ;;
    *) die "unknown node '$1': use one of $MOCO_KUBE_NODES" ;;
  esac
}
node_dir() { echo "$MOCO_KUBE_ROOT/$1"; }
node_sock() { echo "$MOCO_KUBE_ROOT/$1/containerd/containerd.sock"; }
node_bridge() { echo "moco-cni-${1#node-}"; }
kctl() { "$KUBECTL" --kubeconfig="$KUBECONFIG" "$@"; }

# Used by the scripts that source this file.
# shellcheck disable=SC2034
{
  PIDS="$MOCO_KUBE_ROOT/pids"
  LOGS="$MOCO_KUBE_ROOT/log"
  HOSTSTATE="$MOCO_KUBE_ROOT/host"
  MARKER="$MOCO_KUBE_ROOT/.moco-kube-root"
  PAUSE_ARCHIVE="$MOCO_CACHE_DIR/images/$(echo "$MOCO_PAUSE_IMAGE" | tr '/:' '__').tar"
}

# The lock every script that starts or stops something holds; a script called by one that holds it already
# (MOCO_KUBE_LOCKED=1) does not take it again.
lock_testbed() {
  [ "${MOCO_KUBE_LOCKED:-}" = 1 ] && return 0
  take_lock "$MOCO_KUBE_ROOT.lock" "start or stop of the test bed"
  export MOCO_KUBE_LOCKED=1
}

pidof_rec() { cat "$PIDS/$1" 2>/dev/null || true; }   # the recorded PID of a component (empty when none)
rec_alive() { alive "$(pidof_rec "$1")"; }

# Sysctls the components change (kubelet: overcommit, panic, keys; kube-proxy: route_localnet; the bridge CNI
# plugin: forwarding; br_netfilter settings kube-proxy relies on). up.sh records them, down.sh restores them.
# shellcheck disable=SC2034
HOST_SYSCTLS="net.ipv4.ip_forward net.ipv4.conf.all.forwarding net.ipv4.conf.default.forwarding
net.ipv6.conf.all.forwarding net.ipv6.conf.default.forwarding vm.overcommit_memory vm.panic_on_oom kernel.panic
kernel.panic_on_oops kernel.keys.root_maxkeys kernel.keys.root_maxbytes net.ipv4.conf.all.route_localnet
net.bridge.bridge-nf-call-iptables net.bridge.bridge-nf-call-ip6tables net.bridge.bridge-nf-call-arptables
net.netfilter.nf_conntrack_max net.netfilter.nf_conntrack_tcp_timeout_established
net.netfilter.nf_conntrack_tcp_timeout_close_wait"

# Processes of node X's containers: everything in its cgroup /node-X (the kubelet's cgroupRoot).
node_container_pids() {
  local d="/sys/fs/cgroup/pids/$1"
  [ -d "$d" ] || return 0
  find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null | sort -un
}
# The containerd shims of node X: "PID ID" per line (found by the node's socket in their command line).
node_shims() {
  local sock
  sock=$(node_sock "$1")
  ps -eo pid=,args= | awk -v s="-address $sock" '/containerd-shim/ && (index($0, s " ") || substr($0, length($0) - length(s) + 1) == s) {
    for (i = 2; i < NF; i++) if ($i == "-id") { print $1, $(i + 1); break }
  }'
}

# node_stop X: stops node X at once, as when its machine dies: SIGKILL (by PID) for its kubelet and containerd,
# then every process in the node's cgroup (its containers) and containerd's shims for it.
node_stop() {
  local x=$1 sock kubelet containerd shims pids p id state i
  sock=$(node_sock "$x")
  kubelet=$(pidof_rec "$x.kubelet"); containerd=$(pidof_rec "$x.containerd")
  shims=$(node_shims "$x")
  pid_is "$kubelet" kubelet && kill -KILL "$kubelet" 2>/dev/null
  pid_is "$containerd" containerd && kill -KILL "$containerd" 2>/dev/null
  # Containers: freeze the node's cgroup so that nothing forks meanwhile, SIGKILL every process, thaw.
  state="/sys/fs/cgroup/freezer/$x/freezer.state"
  [ -f "$state" ] && echo FROZEN >"$state" 2>/dev/null
  pids=$(node_container_pids "$x")
  for p in $pids; do kill -KILL "$p" 2>/dev/null || true; done
  [ -f "$state" ] && echo THAWED >"$state" 2>/dev/null
  while read -r p id; do
    [ -n "$p" ] || continue
    kill -KILL "$p" 2>/dev/null || true
    # The socket of a killed shim stays behind: /run/containerd/s/sha256(<containerd address>/<namespace>/<id>).
    rm -f "/run/containerd/s/$(printf '%s' "$sock/k8s.io/$id" | sha256sum | cut -c1-64)"
  done <<<"$shims"
  for p in $kubelet $containerd $pids $(echo "$shims" | cut -d' ' -f1); do
    for ((i = 0; i < 50; i++)); do alive "$p" || break; sleep 0.1; done
    alive "$p" && log "node $x: pid $p still runs after SIGKILL"
  done
  rm -f "$PIDS/$x.kubelet" "$PIDS/$x.containerd"
  return 0
}

# Waits until the named nodes are Ready (or TIMEOUT seconds pass).
wait_nodes_ready() {
  local timeout=$1 i n ok
  shift
  for ((i = 0; ; i++)); do
    ok=1
    for n in "$@"; do
      [ "$(kctl get node "$n" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" = True ] \
        || { ok=0; break; }
    done
    [ "$ok" = 1 ] && return 0
    [ "$i" -lt $((timeout * 2)) ] || return 1
    sleep 0.5
  done
}

api_ready() { [ "$(curl -sk --max-time 2 "$MOCO_KUBE_API_URL/readyz" 2>/dev/null)" = ok ]; }

# True when every recorded process runs, the API server is ready and the three nodes are Ready.
testbed_healthy() {
  local f
  [ -f "$MARKER" ] && [ -d "$PIDS" ] || return 1
  for f in etcd apiserver kcm scheduler kube-proxy pv-recycler; do rec_alive "$f" || return 1; done
  for f in $MOCO_KUBE_NODES; do rec_alive "$f.kubelet" && rec_alive "$f.containerd" || return 1; done
  api_ready || return 1
  wait_nodes_ready 0 $MOCO_KUBE_NODES
}
