#!/bin/sh
# The moco-init init container's command on Kubernetes, run in the mysqld image (no Node there):
#   /shared/moco-init.sh
# Environment: POD_NAME (moco-<cluster>-<index>), MOCO_SERVER_ID_BASE.
# Mounts: /moco-templates (ConfigMap: mysql.cnf and mariadb.cnf, the controller's my.cnf for each flavor),
#         /etc/mysql (emptyDir: my.cnf is written here), /moco-init (Secret: bootstrap-mysql.sql and
#         bootstrap-mariadb.sql, the accounts), /var/lib/mysql (the mysql-data volume).
#
# 1. Writes /etc/mysql/my.cnf: the template of the image's flavor plus this instance's server_id.
# 2. Prepares an empty data directory once, offline: mariadb-install-db or mysqld --initialize-insecure with the
#    account SQL, which writes no binary log, so every new instance starts with the same clean GTID state. The
#    marker moco-initialized beside the data directory says it is done; .moco-initializing marks a run that
#    crashed half-way (redone). A non-empty data directory without either marker is never touched.
set -eu

mysql_root=${MOCO_MYSQL_ROOT:-/var/lib/mysql}
conf_dir=${MOCO_CONF_DIR:-/etc/mysql}
templates=${MOCO_TEMPLATES:-/moco-templates}
init_sql=${MOCO_INIT_SQL:-/moco-init}
data="$mysql_root/data"

: "${POD_NAME:?POD_NAME must be set (the Pod name, moco-<cluster>-<index>)}"
: "${MOCO_SERVER_ID_BASE:?MOCO_SERVER_ID_BASE must be set}"
index=${POD_NAME##*-}
case $index in
  ''|*[!0-9]*) echo "moco-init: POD_NAME $POD_NAME does not end in -<index>" >&2; exit 2 ;;
esac
server_id=$((MOCO_SERVER_ID_BASE + index))

if command -v mariadbd >/dev/null 2>&1; then
  flavor=mariadb
elif command -v mysqld >/dev/null 2>&1; then
  flavor=mysql
else
  echo "moco-init: neither mysqld nor mariadbd is on PATH in this image" >&2
  exit 127
fi

tmp="$conf_dir/.my.cnf.tmp"
cat "$templates/$flavor.cnf" > "$tmp"
printf '\n[mysqld]\nserver_id = %s\n' "$server_id" >> "$tmp"
mv "$tmp" "$conf_dir/my.cnf"
echo "moco-init: wrote $conf_dir/my.cnf ($flavor, server_id $server_id)"

if [ -e "$mysql_root/moco-initialized" ]; then
  if [ ! -d "$data" ]; then
    echo "moco-init: $data is missing but $mysql_root/moco-initialized says it was initialized; check the volume" >&2
    exit 1
  fi
  echo "moco-init: data directory already initialized"
  exit 0
fi
if [ -d "$data" ] && [ -n "$(ls -A "$data")" ] && [ ! -e "$mysql_root/.moco-initializing" ]; then
  echo "moco-init: $data is not empty and was not initialized by moco; refusing to touch it" >&2
  exit 1
fi
: > "$mysql_root/.moco-initializing"
rm -rf "$data"
mkdir -m 750 "$data"
started=$(date +%s)
if [ "$flavor" = mariadb ]; then
  mariadb-install-db --defaults-file="$conf_dir/my.cnf" --skip-test-db --auth-root-authentication-method=normal \
    --extra-file="$init_sql/bootstrap-mariadb.sql"
else
  mysqld --defaults-file="$conf_dir/my.cnf" --initialize-insecure --init-file="$init_sql/bootstrap-mysql.sql"
fi
sync
: > "$mysql_root/moco-initialized"
sync
rm -f "$mysql_root/.moco-initializing"
echo "moco-init: initialized $data in $(( $(date +%s) - started )) s"
