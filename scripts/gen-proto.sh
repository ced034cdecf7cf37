#!/usr/bin/env bash
# Generates TypeScript types for the agent API from proto/ into src/generated/ (never edit those by hand).
# --check regenerates into a temporary folder and fails when src/generated/ differs (CI runs it).
set -euo pipefail
cd "$(dirname "$0")/.."
out=src/generated
if [ "${1:-}" = "--check" ]; then out=$(mktemp -d); trap 'rm -rf "$out"' EXIT; fi
rm -rf "${out:?}"/* 2>/dev/null || true
mkdir -p "$out"
# Keep these options identical to the loader's in src/shared/proto.ts.
npx --no-install proto-loader-gen-types --longs=Number --enums=String --defaults --oneofs \
  --grpcLib=@grpc/grpc-js --includeDirs=proto --outDir="$out" moco/agent/v1/agent.proto >/dev/null
if [ "${1:-}" = "--check" ]; then
  if ! diff -r "$out" src/generated >/dev/null; then
    echo "src/generated is out of date with proto/: run 'npm run gen:proto' and commit the result" >&2
    diff -r "$out" src/generated | head -40 >&2
    exit 1
  fi
  echo "generated code is current"
fi
