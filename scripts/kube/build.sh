#!/usr/bin/env bash
# Builds the test bed's Kubernetes binaries once and caches them outside the clone:
#   kube-apiserver, kube-controller-manager, kube-scheduler, kubelet, kube-proxy, kubectl (1.20.2, from Debian's
#   `kubernetes` source package, built with Debian's Go) and etcd (Debian's etcd-server package)
# into $MOCO_KUBE_BUILD_DIR/bin (default /var/cache/moco-ts/kube-1.20.2-<key>/bin; see env.sh). A later run, or
# CI in a fresh clone on the same machine, finds them there and returns at once.
#
# About 15-20 minutes on 2 cores the first time (the API server's code generation is most of it), 3-4 GB of
# disk while building, 450 MB after. Safe to run twice at once (the second waits for the first) and to interrupt
# (the build happens in a work directory; the result appears by one rename; Go's build cache is kept so that a
# second attempt is faster).
#
# Why Debian's reflect2: the vendored github.com/modern-go/reflect2 1.0.1 crashes under Go >= 1.18 on the first
# custom resource the API server stores ("fatal error: fault" in mapiterinit); Debian's 1.0.2 fixes it.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

components=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl)
complete() { # DIR: every binary is there
  local b
  for b in "${components[@]}" etcd; do [ -x "$1/$b" ] || return 1; done
}

if [ "$MOCO_KUBE_BIN" != "$MOCO_KUBE_BUILD_DIR/bin" ]; then
  complete "$MOCO_KUBE_BIN" || die "MOCO_KUBE_BIN=$MOCO_KUBE_BIN lacks some of: ${components[*]} etcd"
  echo "$MOCO_KUBE_BIN"
  exit 0
fi
if complete "$MOCO_KUBE_BIN"; then echo "$MOCO_KUBE_BIN"; exit 0; fi

need_root
take_lock "$MOCO_KUBE_BUILD_DIR.lock" "Kubernetes build"
if complete "$MOCO_KUBE_BIN"; then log "built meanwhile by another run"; echo "$MOCO_KUBE_BIN"; exit 0; fi
[ ! -e "$MOCO_KUBE_BUILD_DIR" ] || die "$MOCO_KUBE_BUILD_DIR exists but is incomplete; remove it and run again"

log "building Kubernetes $MOCO_KUBE_VERSION into $MOCO_KUBE_BUILD_DIR (once; about 15-20 min on 2 cores)"
apt_install golang-go make dpkg-dev ca-certificates tar gzip
W="$MOCO_CACHE_DIR/.kube-build-$MOCO_KUBE_BUILD_KEY"   # work dir: source tree, Go cache, output
DL="$MOCO_CACHE_DIR/downloads"                          # Debian source and packages, kept
mkdir -p "$W" "$DL"
ticker=""
cleanup() {
  [ -z "$ticker" ] || kill "$ticker" 2>/dev/null || true
  # The source tree may hold half-generated files: drop it, keep the Go cache (safe to reuse).
  rm -rf "$W/src" "$W/apt" "$W/final"
}
trap cleanup EXIT

# Debian's source packages, through a private apt configuration (the machine's own apt sources plus their
# deb-src twins; nothing under /etc or /var/lib/apt is changed).
fetch_debian() {
  local A="$W/apt" f
  rm -rf "$A"; mkdir -p "$A/lists/partial" "$A/sources.list.d"
  : >"$A/sources.list"
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] && sed -E 's/^Types:.*/Types: deb deb-src/' "$f" >"$A/sources.list.d/$(basename "$f")"
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] && grep -E '^deb ' "$f" | sed 'p; s/^deb /deb-src /' >>"$A/sources.list"
  done
  local apt=(apt-get -qq -o "Dir::Etc::SourceList=$A/sources.list" -o "Dir::Etc::SourceParts=$A/sources.list.d"
    -o "Dir::State::Lists=$A/lists" -o "Dir::Cache::pkgcache=" -o "Dir::Cache::srcpkgcache="
    -o APT::Sandbox::User=root)
  log "downloading Debian's kubernetes source package, reflect2 and etcd-server"
  "${apt[@]}" update
  (cd "$DL" && "${apt[@]}" source --download-only kubernetes >/dev/null \
    && "${apt[@]}" download golang-github-modern-go-reflect2-dev etcd-server)
}
orig() { find "$DL" -maxdepth 1 -name "kubernetes_*really${MOCO_KUBE_VERSION}.orig.tar.gz" | sort | tail -n 1; }
deb() { find "$DL" -maxdepth 1 -name "$1_*.deb" | sort | tail -n 1; }
if [ -z "$(orig)" ] || [ -z "$(deb golang-github-modern-go-reflect2-dev)" ] || [ -z "$(deb etcd-server)" ]; then
  fetch_debian
fi
[ -n "$(orig)" ] || die "Debian's kubernetes source ($MOCO_KUBE_VERSION) was not downloaded into $DL"

log "extracting $(basename "$(orig)")"
rm -rf "$W/src" "$W/final"; mkdir -p "$W/src" "$W/final/bin"
tar -C "$W/src" -xzf "$(orig)"
dpkg-deb -x "$(deb golang-github-modern-go-reflect2-dev)" "$W/src/reflect2"
dpkg-deb -x "$(deb etcd-server)" "$W/src/etcd"
K="$W/src/kubernetes-$MOCO_KUBE_VERSION"
[ -d "$K" ] || die "the source tarball has no kubernetes-$MOCO_KUBE_VERSION/ directory"
R="$K/vendor/github.com/modern-go/reflect2"
rm -rf "$R"; mkdir -p "$R"
cp "$W/src/reflect2/usr/share/gocode/src/github.com/modern-go/reflect2/"*.go \
  "$W/src/reflect2/usr/share/gocode/src/github.com/modern-go/reflect2/"*.s "$R/"
rm -f "$R"/*_test.go
mkdir -p "$K/.go/src/k8s.io"; ln -sfn ../../.. "$K/.go/src/k8s.io/kubernetes"
# No git tree: give the build its version, so that `--version` and the API's /version say 1.20.2.
cat >"$W/src/version" <<V
KUBE_GIT_COMMIT='debian-source'
KUBE_GIT_TREE_STATE='clean'
KUBE_GIT_VERSION='v$MOCO_KUBE_VERSION'
KUBE_GIT_MAJOR='${MOCO_KUBE_VERSION%%.*}'
KUBE_GIT_MINOR='$(echo "$MOCO_KUBE_VERSION" | cut -d. -f2)'
V

export GOPATH="$K/.go" GOCACHE="$W/gocache" CGO_ENABLED=0 GOPROXY=off GOFLAGS=-mod=vendor HOME="$W" \
  KUBE_GIT_VERSION_FILE="$W/src/version"
log "Go: $(go version)"
n=0
for c in "${components[@]}"; do
  n=$((n + 1)); s=$(date +%s)
  log "building $c ($n/${#components[@]}$([ "$n" = 1 ] && echo '; it also generates code: the longest step'); log: $W/build.log)"
  ( while sleep 60; do log "still building $c ($(( $(date +%s) - s ))s)"; done ) & ticker=$!
  if ! (cd "$K" && nice -n 19 make WHAT="cmd/$c") >>"$W/build.log" 2>&1; then
    tail -n 40 "$W/build.log" >&2
    die "building $c failed (full log: $W/build.log)"
  fi
  kill "$ticker" 2>/dev/null || true; ticker=""
  cp "$K/_output/bin/$c" "$W/final/bin/"
  log "built $c in $(( $(date +%s) - s ))s"
done
cp "$W/src/etcd/usr/bin/etcd" "$W/final/bin/"
"$W/final/bin/kube-apiserver" --version >&2
{
  echo "recipe: $MOCO_KUBE_RECIPE"
  echo "built: $(date -u +%FT%TZ) in $(elapsed)s"
  echo "source: $(basename "$(orig)") $(basename "$(deb golang-github-modern-go-reflect2-dev)") $(basename "$(deb etcd-server)")"
  echo "go: $(go version)"
} >"$W/final/BUILD-INFO"
mv -T "$W/final" "$MOCO_KUBE_BUILD_DIR"
rm -rf "$W"
log "done: $MOCO_KUBE_BIN ($(du -sh "$MOCO_KUBE_BIN" | cut -f1))"
echo "$MOCO_KUBE_BIN"
