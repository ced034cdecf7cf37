#!/usr/bin/env bash
# The project's test command (npm test): installs what the tests need, checks generated code, types and lint,
# then runs the unit, integration and end-to-end tests against real mysqld processes.
#   npm test                 everything
#   npm test -- unit         unit tests only (no mysqld needed)
#   npm test -- integration  integration tests only
#   npm test -- e2e          end-to-end tests only (local clusters driven through the moco CLI)
#   npm test -- kube         the Kubernetes test bed's tests (scripts/kube/: three real nodes on this machine;
#                            needs root; the first run builds Kubernetes, about 20 minutes, cached for later runs)
set -euo pipefail
shopt -s globstar nullglob
cd "$(dirname "$0")/.."
suite="${1:-all}"
case $suite in all | unit | integration | e2e | kube) ;; *) echo "unknown suite '$suite' (use all, unit, integration, e2e or kube)" >&2; exit 2 ;; esac
[ -d node_modules ] || npm ci --no-audit --no-fund
# The first run on a machine builds Kubernetes for the kube suite (about 20 minutes): in the background, at the
# lowest priority, while the other suites run; it is cached outside the clone, so later runs skip this.
kube_build_pid=""
if [ "$suite" = all ] && [ ! -x "$(bash -c '. scripts/kube/env.sh && echo "$KUBECTL"')" ]; then
  mkdir -p tmp
  echo "== building Kubernetes for the kube suite in the background (log: tmp/kube-build.log)"
  nice -n 19 bash scripts/kube/build.sh >tmp/kube-build.log 2>&1 </dev/null &
  kube_build_pid=$!
fi
echo "== generated code, types, lint"
bash scripts/gen-proto.sh --check
npx --no-install tsc --noEmit -p .
npx --no-install eslint .
files=()
if [ "$suite" = all ] || [ "$suite" = unit ]; then files+=(test/unit/**/*.test.ts); fi
if [ "$suite" != unit ] && [ "$suite" != kube ]; then
  echo "== mysqld for the integration and end-to-end tests"
  bash scripts/ensure-mysqld.sh
  echo "== S3-compatible store (OpenStack Swift) and zstd for the backup tests"
  bash scripts/ensure-s3-store.sh
fi
if [ "$suite" = all ] || [ "$suite" = integration ]; then files+=(test/integration/**/*.test.ts); fi
if [ "$suite" = all ] || [ "$suite" = e2e ]; then files+=(test/e2e/**/*.test.ts); fi
# One file at a time: integration tests start real mysqld processes, and the machine may have two cores.
# A file or test that hangs fails after 10 minutes (the slowest file takes about 1.5) instead of using up CI's time.
run_tests() { node --import tsx --test --test-concurrency=1 --test-timeout=600000 --test-reporter=spec "$@"; }
rc=0
if [ "${#files[@]}" -gt 0 ]; then
  echo "== tests (${#files[@]} files)"
  run_tests "${files[@]}" || rc=$?
fi
if [ "$suite" = all ] || [ "$suite" = kube ]; then
  kube_files=(test/kube/**/*.test.ts)
  if [ -n "$kube_build_pid" ]; then
    echo "== waiting for the Kubernetes build (tmp/kube-build.log)"
    wait "$kube_build_pid" || { tail -n 30 tmp/kube-build.log >&2; echo "building Kubernetes failed" >&2; exit 1; }
  fi
  echo "== Kubernetes test bed: build (cached), start, images"
  bash scripts/kube/build.sh >/dev/null
  # A test bed that already runs (started by hand) is used and left running; one started here is stopped.
  if bash -c '. scripts/kube/lib.sh && testbed_healthy' 2>/dev/null; then
    echo "using the test bed that already runs (scripts/kube/down.sh stops it)"
  else
    trap 'echo "== stopping the Kubernetes test bed"; bash scripts/kube/down.sh' EXIT
    bash scripts/kube/up.sh
  fi
  bash scripts/kube/images.sh
  export MOCO_KUBE_IMAGES_READY=1
  echo "== kube tests (${#kube_files[@]} files)"
  run_tests "${kube_files[@]}" || rc=$?
fi
exit "$rc"
