#!/usr/bin/env node
// Runs moco-agent: the esbuild bundle in dist/ when it is newer than every source file (npm ci builds it),
// else the TypeScript sources through tsx, so the command always runs the code as checked out.
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bundle = path.join(root, 'dist', 'moco-agent.mjs');

function newestSource(dir) {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestSource(p));
    else if (e.name.endsWith('.ts') || e.name.endsWith('.proto')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

const fresh = existsSync(bundle) &&
  statSync(bundle).mtimeMs >= Math.max(...['src', 'cmd', 'proto'].map((d) => newestSource(path.join(root, d))));
if (fresh) {
  await import(bundle);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../cmd/moco-agent.ts');
}
