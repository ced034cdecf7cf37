#!/usr/bin/env bash
# The project's test command (npm test): installs what the tests need, checks generated code, types and lint,
# then runs the unit, integration and end-to-end tests against real mysqld processes.
#   npm test                 everything
#   npm test -- unit         unit tests only (no mysqld needed)
#   npm test -- integration  integration tests only
#   npm test -- e2e          end-to-end tests only (local clusters driven through the moco CLI)
set -euo pipefail
shopt -s globstar nullglob
cd "$(dirname "$0")/.."
suite="${1:-all}"
[ -d node_modules ] || npm ci --no-audit --no-fund
echo "== generated code, types, lint"
bash scripts/gen-proto.sh --check
npx --no-install tsc --noEmit -p .
npx --no-install eslint .
files=()
if [ "$suite" = all ] || [ "$suite" = unit ]; then files+=(test/unit/**/*.test.ts); fi
if [ "$suite" != unit ]; then
  echo "== mysqld for the integration and end-to-end tests"
  bash scripts/ensure-mysqld.sh
  echo "== S3-compatible store (OpenStack Swift) and zstd for the backup tests"
  bash scripts/ensure-s3-store.sh
fi
if [ "$suite" = all ] || [ "$suite" = integration ]; then files+=(test/integration/**/*.test.ts); fi
if [ "$suite" = all ] || [ "$suite" = e2e ]; then files+=(test/e2e/**/*.test.ts); fi
[ "${#files[@]}" -gt 0 ] || { echo "no test files for suite '$suite' (use all, unit, integration or e2e)" >&2; exit 2; }
echo "== tests (${#files[@]} files)"
# One file at a time: integration tests start real mysqld processes, and the machine may have two cores.
# A file or test that hangs fails after 10 minutes (the slowest file takes about 1.5) instead of using up CI's time.
exec node --import tsx --test --test-concurrency=1 --test-timeout=600000 --test-reporter=spec "${files[@]}"
