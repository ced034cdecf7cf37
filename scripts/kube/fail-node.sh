#!/usr/bin/env bash
# fail-node.sh NODE: makes a node of the running test bed fail as a machine would: SIGKILL for its kubelet,
# containerd, containerd's shims and every container process (all by PID), at once. The node goes NotReady
# after the controller-manager's grace period (20 s). Its state is kept: start-node.sh NODE brings it back.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
x=${1:-}
[ -n "$x" ] || die "usage: fail-node.sh NODE   (NODE: ${MOCO_KUBE_NODES// /, })"
node_index "$x" >/dev/null
need_root
lock_testbed
[ -f "$MARKER" ] || die "the test bed is not running"
rec_alive "$x.kubelet" || rec_alive "$x.containerd" || { log "$x is not running"; exit 0; }
node_stop "$x"
log "$x failed (kubelet, containerd, shims and containers killed)"
