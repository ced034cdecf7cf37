#!/usr/bin/env bash
# Installs what the test bed runs on, from Debian, when missing: containerd, runc, the CNI plugins, iptables,
# conntrack (kube-proxy), buildah and debootstrap (images without a registry), gcc and static libc (the pause
# binary). Quick and quiet when everything is there. up.sh and images.sh call it.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
apt_install containerd runc containernetworking-plugins iptables conntrack util-linux iproute2 openssl curl \
  ca-certificates buildah debootstrap gcc libc6-dev
