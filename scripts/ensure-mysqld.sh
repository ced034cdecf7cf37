#!/usr/bin/env bash
# Makes sure a mysqld is installed: MySQL 8.4 or MariaDB 10.11+ already on PATH (or MOCO_MYSQLD) is used as is;
# otherwise MariaDB is installed from Debian's packages when running as root, or the exact command is printed.
set -euo pipefail
have() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ]; }
if [ -n "${MOCO_MYSQLD:-}" ] && [ -x "${MOCO_MYSQLD}" ]; then exit 0; fi
if have mysqld || have mariadbd; then
  # MariaDB also needs its backup tools for clones.
  if have mariadbd && { ! have mariadb-backup || ! have mbstream; }; then need_backup=1; else exit 0; fi
fi
pkgs="mariadb-server mariadb-client mariadb-backup"
if [ "$(id -u)" != 0 ]; then
  echo "no mysqld found: install MariaDB with" >&2
  echo "  sudo apt-get update && sudo apt-get install -y $pkgs" >&2
  echo "or put MySQL 8.4's mysqld on PATH (or set MOCO_MYSQLD)" >&2
  exit 1
fi
echo "installing MariaDB from Debian's packages ($pkgs)..." >&2
export DEBIAN_FRONTEND=noninteractive
# The package's own service is not used: moco starts its own mysqld processes.
apt-get update -qq >&2 || echo "apt-get update failed; trying with the cached package lists" >&2
apt-get install -y -qq ${need_backup:+--no-install-recommends} $pkgs >&2
echo "MariaDB installed: $(/usr/sbin/mariadbd --version)" >&2
