#!/usr/bin/env bash
# Bundles the entry points in cmd/ into dist/*.mjs with esbuild (runs on `npm ci` via the prepare script).
# A bundle starts faster and uses about a third less memory than running the TypeScript through tsx; the bin
# shims use it whenever it is newer than the sources. Code splitting: what a command imports dynamically (the
# demo, backups, the S3 SDK, certificate generation) goes to dist/chunks/ and is read only when used, so the
# long-lived `moco-agent serve` process does not hold the source text of code it never runs.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf dist/chunks
mkdir -p dist
npx --no-install esbuild cmd/moco-agent.ts cmd/moco.ts cmd/moco-controller.ts cmd/kubectl-moco.ts --bundle --splitting --platform=node --format=esm \
  --target=node20 --outdir=dist --out-extension:.js=.mjs --chunk-names='chunks/[name]-[hash]' --log-level=warning \
  --banner:js="import { createRequire as __mocoRequire } from 'module'; const require = __mocoRequire(import.meta.url);"
