#!/usr/bin/env bash
# Makes sure OpenStack Swift (with its s3api middleware) and memcached are installed, so that the tests can run a
# real S3-compatible object store (scripts/s3-store.sh). Quick and silent when they already are; installs them
# from Debian's packages when running as root; otherwise prints the exact command and exits 1.
set -euo pipefail
have() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/bin/$1" ]; }
if have swift-proxy-server && have swift-object-server && have swift-container-server \
  && have swift-account-server && have swift-ring-builder && have memcached && have zstd; then
  exit 0
fi
# zstd: backups are compressed with it (gzip when it is absent; the tests use what users get by default).
pkgs="swift-proxy swift-object swift-container swift-account memcached python3-swift zstd"
if [ "$(id -u)" != 0 ]; then
  echo "OpenStack Swift is not installed (the tests use it as a real S3-compatible store): install it with" >&2
  echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends $pkgs" >&2
  exit 1
fi
echo "installing OpenStack Swift from Debian's packages ($pkgs)..." >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2 || echo "apt-get update failed; trying with the cached package lists" >&2
apt-get install -y -qq --no-install-recommends $pkgs >&2
# The packages' own services are not used: scripts/s3-store.sh runs the servers in user space.
echo "Swift installed: $(dpkg-query -W -f='${Version}' swift-proxy 2>/dev/null || echo unknown)" >&2
