#!/usr/bin/env bash
# A real S3-compatible object store for the tests: OpenStack Swift (Debian's packages) with its s3api middleware,
# one replica, entirely in user space under ROOT (no /etc, no root-owned paths, no system services).
#
#   scripts/s3-store.sh install                   installs Swift + memcached (see scripts/ensure-s3-store.sh)
#   scripts/s3-store.sh start ROOT PROXY_PORT     writes config into ROOT, builds the rings, starts memcached and
#                                                 the account/container/object/proxy servers, waits until healthy
#   scripts/s3-store.sh start-proxy ROOT          starts the proxy again (after it was killed for fault injection)
#   scripts/s3-store.sh stop ROOT [NAME...]       stops what ROOT/pids/ records (all, or the named ones: proxy,
#                                                 object, container, account, memcached): TERM, then KILL
#
# Internal ports: S3_STORE_ACCOUNT_PORT, S3_STORE_CONTAINER_PORT, S3_STORE_OBJECT_PORT, S3_STORE_MEMCACHED_PORT
# (default: PROXY_PORT+1 .. PROXY_PORT+4). Pick free ones; the test helper does.
# S3 clients: http://127.0.0.1:PROXY_PORT, path-style, region us-east-1, access key test:tester, secret testing.
# Every server runs with workers = 0 (one process, no forked workers), so the recorded PID is the whole server.
# Processes are only ever signalled by their recorded PID, never by name.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
services="memcached account container object proxy"

die() { echo "s3-store: $*" >&2; exit 1; }

# True while PID runs (a zombie does not count: its parent may never reap it).
alive() {
  local state
  state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
  [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

# True when PID is the process we recorded for NAME (guards against a reused PID).
is_ours() {
  local pid=$1 name=$2 cmd
  cmd=$(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null) || return 1
  if [ "$name" = memcached ]; then [[ "$cmd" == *memcached* ]]; else [[ "$cmd" == *"swift-$name-server"* ]]; fi
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

healthy() { curl -sf --max-time 2 "http://127.0.0.1:$1/healthcheck" >/dev/null 2>&1; }

launch() { # ROOT NAME: starts one server in the background and records its PID
  local root=$1 name=$2
  if [ "$name" = memcached ]; then
    local as_user=()
    [ "$(id -u)" = 0 ] && as_user=(-u root)
    memcached "${as_user[@]}" -l 127.0.0.1 -p "$(cat "$root/ports/memcached")" -m 64 \
      </dev/null >"$root/log/memcached.log" 2>&1 &
  else
    "swift-$name-server" "$root/etc/$name-server.conf" </dev/null >"$root/log/$name.log" 2>&1 &
  fi
  echo $! >"$root/pids/$name"
}

# Waits until NAME answers; on failure prints its log and returns 1.
await_ready() { # ROOT NAME
  local root=$1 name=$2 port pid i
  port=$(cat "$root/ports/$name")
  pid=$(cat "$root/pids/$name")
  for ((i = 0; i < 300; i++)); do
    alive "$pid" || { echo "s3-store: $name exited during start-up; its log:" >&2; tail -n 30 "$root/log/$name.log" >&2; return 1; }
    if [ "$name" = proxy ]; then healthy "$port" && return 0; else port_open "$port" && return 0; fi
    sleep 0.1
  done
  echo "s3-store: $name did not answer on 127.0.0.1:$port within 30 s; its log:" >&2
  tail -n 30 "$root/log/$name.log" >&2
  return 1
}

stop_one() { # ROOT NAME
  local root=$1 name=$2 pid i
  [ -f "$root/pids/$name" ] || return 0
  pid=$(cat "$root/pids/$name")
  if alive "$pid" && is_ours "$pid" "$name"; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do alive "$pid" || break; sleep 0.1; done
    if alive "$pid"; then
      echo "s3-store: $name (pid $pid) ignored SIGTERM for 5 s; sending SIGKILL" >&2
      kill -KILL "$pid" 2>/dev/null || true
      for ((i = 0; i < 50; i++)); do alive "$pid" || break; sleep 0.1; done
    fi
  fi
  rm -f "$root/pids/$name"
}

cmd_stop() {
  local root=${1:?usage: s3-store.sh stop ROOT [NAME...]}
  shift
  local names=("$@")
  [ ${#names[@]} -gt 0 ] || names=(proxy object container account memcached)
  local n
  for n in "${names[@]}"; do stop_one "$root" "$n"; done
}

write_config() { # ROOT PROXY_PORT
  local root=$1 proxy_port=$2 e=$1/etc user
  user=$(id -un)
  cat >"$e/swift.conf" <<C
[swift-hash]
swift_hash_path_suffix = moco-test-suffix
swift_hash_path_prefix = moco-test-prefix
[storage-policy:0]
name = Policy-0
default = yes
C
  local common="swift_dir = $e
devices = $root/node
mount_check = false
bind_ip = 127.0.0.1
workers = 0
recon_cache_path = $root/cache
log_facility = LOG_LOCAL0
log_level = WARNING
user = $user"
  local n
  for n in account container object; do
    cat >"$e/$n-server.conf" <<C
[DEFAULT]
$common
bind_port = $(cat "$root/ports/$n")
[pipeline:main]
pipeline = $n-server
[app:$n-server]
use = egg:swift#$n
C
  done
  # s3api and slo allow 10000 parts, as AWS S3 does (Swift's defaults are 1000).
  cat >"$e/proxy-server.conf" <<C
[DEFAULT]
swift_dir = $e
bind_ip = 127.0.0.1
bind_port = $proxy_port
workers = 0
user = $user
log_level = WARNING
[pipeline:main]
pipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats s3api tempauth copy slo dlo proxy-logging proxy-server
[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true
allow_account_management = true
[filter:s3api]
use = egg:swift#s3api
location = us-east-1
max_upload_part_num = 10000
[filter:tempauth]
use = egg:swift#tempauth
user_test_tester = testing .admin
[filter:healthcheck]
use = egg:swift#healthcheck
[filter:cache]
use = egg:swift#memcache
memcache_servers = 127.0.0.1:$(cat "$root/ports/memcached")
[filter:catch_errors]
use = egg:swift#catch_errors
[filter:gatekeeper]
use = egg:swift#gatekeeper
[filter:proxy-logging]
use = egg:swift#proxy_logging
[filter:listing_formats]
use = egg:swift#listing_formats
[filter:copy]
use = egg:swift#copy
[filter:slo]
use = egg:swift#slo
max_manifest_segments = 10000
[filter:dlo]
use = egg:swift#dlo
C
}

build_rings() { # ROOT
  local root=$1 n pids=()
  for n in account container object; do
    (
      cd "$root/etc"
      swift-ring-builder "$n.builder" create 8 1 1 >/dev/null
      swift-ring-builder "$n.builder" add "r1z1-127.0.0.1:$(cat "$root/ports/$n")/d1" 100 >/dev/null
      # rebalance exits 1 with a warning on a one-device ring; the ring is still written.
      swift-ring-builder "$n.builder" rebalance >/dev/null || true
      [ -f "$n.ring.gz" ] || { echo "s3-store: building the $n ring failed" >&2; exit 1; }
    ) &
    pids+=($!)
  done
  local p rc=0
  for p in "${pids[@]}"; do wait "$p" || rc=1; done
  return $rc
}

cmd_start() {
  local root=${1:?usage: s3-store.sh start ROOT PROXY_PORT} proxy_port=${2:?usage: s3-store.sh start ROOT PROXY_PORT}
  command -v swift-proxy-server >/dev/null 2>&1 || die "Swift is not installed; run: bash $here/ensure-s3-store.sh"
  local n pid
  for n in $services; do
    if [ -f "$root/pids/$n" ]; then
      pid=$(cat "$root/pids/$n")
      alive "$pid" && die "a store is already running in $root ($n, pid $pid); run: $0 stop $root"
    fi
  done
  mkdir -p "$root"
  rm -rf "$root/etc" "$root/node" "$root/cache" "$root/log" "$root/pids" "$root/ports"
  mkdir -p "$root/etc" "$root/node/d1" "$root/cache" "$root/log" "$root/pids" "$root/ports"
  echo "$proxy_port" >"$root/ports/proxy"
  echo "${S3_STORE_ACCOUNT_PORT:-$((proxy_port + 1))}" >"$root/ports/account"
  echo "${S3_STORE_CONTAINER_PORT:-$((proxy_port + 2))}" >"$root/ports/container"
  echo "${S3_STORE_OBJECT_PORT:-$((proxy_port + 3))}" >"$root/ports/object"
  echo "${S3_STORE_MEMCACHED_PORT:-$((proxy_port + 4))}" >"$root/ports/memcached"
  write_config "$root" "$proxy_port"
  build_rings "$root"
  # Back ends first, so that the proxy's first requests find them.
  for n in memcached account container object; do launch "$root" "$n"; done
  for n in memcached account container object; do
    await_ready "$root" "$n" || { cmd_stop "$root"; exit 1; }
  done
  launch "$root" proxy
  await_ready "$root" proxy || { cmd_stop "$root"; exit 1; }
  echo "s3-store: up at http://127.0.0.1:$proxy_port (pids: $(cat "$root"/pids/* | tr '\n' ' '))"
}

cmd_start_proxy() {
  local root=${1:?usage: s3-store.sh start-proxy ROOT} pid
  [ -f "$root/etc/proxy-server.conf" ] || die "no store configured in $root; run: $0 start $root PORT"
  if [ -f "$root/pids/proxy" ]; then
    pid=$(cat "$root/pids/proxy")
    alive "$pid" && die "the proxy already runs (pid $pid)"
  fi
  launch "$root" proxy
  await_ready "$root" proxy || { stop_one "$root" proxy; exit 1; }
}

case "${1:-}" in
  install) exec bash "$here/ensure-s3-store.sh" ;;
  start) shift; cmd_start "$@" ;;
  start-proxy) shift; cmd_start_proxy "$@" ;;
  stop) shift; cmd_stop "$@" ;;
  *) echo "usage: $0 install | start ROOT PROXY_PORT | start-proxy ROOT | stop ROOT [NAME...]" >&2; exit 2 ;;
esac
