// Shared by the bin shims: import dist/<name>.mjs when it is newer than every source file (npm ci builds it),
// else cmd/<name>.ts through tsx, so a command always runs the code as checked out.
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function newestSource(dir) {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestSource(p));
    else if (e.name.endsWith('.ts') || e.name.endsWith('.proto')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

export async function runEntry(name) {
  const bundle = path.join(root, 'dist', `${name}.mjs`);
  const fresh = existsSync(bundle) &&
    statSync(bundle).mtimeMs >= Math.max(...['src', 'cmd', 'proto'].map((d) => newestSource(path.join(root, d))));
  if (fresh) {
    await import(pathToFileURL(bundle).href);
  } else {
    const { register } = await import('tsx/esm/api');
    register();
    await import(pathToFileURL(path.join(root, 'cmd', `${name}.ts`)).href);
  }
}
