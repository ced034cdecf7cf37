#!/usr/bin/env bash
# pv-recycler.sh KUBECTL KUBECONFIG VOLUMES_DIR: the test bed's reclaim loop for its local PersistentVolumes.
# Kubernetes 1.20 cannot delete the data of a static `local` volume (only provisioners do, and the Recycle
# policy is for NFS and hostPath). So the PVs have reclaimPolicy Retain, and this loop (started by up.sh, its
# process group stopped by down.sh) watches them: when one is Released (its claim was deleted; the claim's
# protection finalizer guarantees that no Pod uses it any more) it empties the directory and removes the claim
# reference, and the volume is Available again, empty. Log: $MOCO_KUBE_ROOT/log/pv-recycler.log.
set -uo pipefail
kubectl=$1 kubeconfig=$2 volumes=$3
k() { "$kubectl" --kubeconfig="$kubeconfig" "$@"; }
recycle() { # NAME PATH
  case $2 in "$volumes"/*) ;; *) echo "$(date +%T) $1: path $2 is not under $volumes: left alone"; return 0 ;; esac
  [ -d "$2" ] || return 0
  # The watch may report an old state: act only on a volume that is Released now. Nothing but this loop makes
  # a Released volume usable again, so it stays Released until the claim reference is removed below.
  [ "$(k get pv "$1" -o jsonpath='{.status.phase}' 2>/dev/null)" = Released ] || return 0
  find "$2" -mindepth 1 -delete && chown 0:0 "$2" && chmod u-s,g-s,o-t "$2" && chmod 0755 "$2" \
    || { echo "$(date +%T) $1: could not empty $2; trying again within a minute"; return 0; }
  if k patch pv "$1" --type=json -p='[{"op":"remove","path":"/spec/claimRef"}]' >/dev/null; then
    echo "$(date +%T) $1: emptied $2, Available again"
  fi
}
while true; do
  # A watch lists every PV first, then streams changes; it is started again every minute, so that a volume
  # whose recycling failed (say, the API server was busy) is tried again.
  timeout --foreground 60 "$kubectl" --kubeconfig="$kubeconfig" get pv -l moco-testbed/local-volume=true --watch \
    -o jsonpath='{.metadata.name} {.status.phase} {.spec.local.path}{"\n"}' 2>/dev/null \
    | while read -r name phase path; do
        [ "$phase" = Released ] && recycle "$name" "$path"
      done
  sleep 1
done
