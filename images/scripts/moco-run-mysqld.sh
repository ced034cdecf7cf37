#!/bin/sh
# The mysqld container's command on Kubernetes (the agent image's init container copies it into the shared
# emptyDir, so the mysqld image needs nothing but mysqld and a POSIX shell):
#   /shared/moco-run-mysqld.sh --defaults-file=/etc/mysql/my.cnf [mysqld options...]
# Before mysqld starts it swaps in a staged data directory (a clone or a restore prepared it in
# <data>.staged and marked it complete with moco-staged-complete), then it execs mysqld (or mariadbd).
#
# The swap is the run-mysqld contract of src/agent/datadir.ts, step for step: each step is a rename or a removal,
# so a start after a crash at any point finishes the swap; an incomplete staged directory is never swapped in.
# MOCO_TEST_CRASH_AT=<step> makes the script kill itself at that step (tests only).
set -eu

data=${MOCO_DATA_DIR:-/var/lib/mysql/data}
staged="$data.staged"
old="$data.old"
marker=moco-staged-complete

crash_point() {
  if [ "${MOCO_TEST_CRASH_AT:-}" = "$1" ]; then kill -9 $$; fi
}

if [ -e "$staged/$marker" ]; then
  if [ -e "$data" ]; then
    rm -rf "$old"
    crash_point after-remove-old
    mv "$data" "$old"
    crash_point after-move-data
  fi
  mv "$staged" "$data"
  crash_point after-move-staged
  sync
  echo "moco-run-mysqld: swapped in the staged data directory" >&2
fi
if [ -e "$data/$marker" ]; then
  rm -f "$data/$marker"
  crash_point after-remove-marker
fi
rm -rf "$old"
crash_point after-cleanup

if [ -n "${MOCO_TEST_NO_EXEC:-}" ]; then exit 0; fi
if [ -n "${MOCO_MYSQLD:-}" ]; then
  mysqld=$MOCO_MYSQLD
elif command -v mariadbd >/dev/null 2>&1; then
  mysqld=$(command -v mariadbd)
elif command -v mysqld >/dev/null 2>&1; then
  mysqld=$(command -v mysqld)
else
  echo "moco-run-mysqld: neither mysqld nor mariadbd is on PATH in this image" >&2
  exit 127
fi
exec "$mysqld" "$@"
