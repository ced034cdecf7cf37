#!/usr/bin/env bash
# Bundles each entry point in cmd/ into dist/*.mjs with esbuild (runs on `npm ci` via the prepare script).
# A bundle starts faster and uses about a third less memory than running the TypeScript through tsx; the bin
# shims use it whenever it is newer than the sources.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p dist
for entry in cmd/moco-agent.ts cmd/moco.ts; do
  name=$(basename "$entry" .ts)
  npx --no-install esbuild "$entry" --bundle --platform=node --format=esm --target=node20 \
    --outfile="dist/$name.mjs" --log-level=warning \
    --banner:js="import { createRequire as __mocoRequire } from 'module'; const require = __mocoRequire(import.meta.url);"
done
