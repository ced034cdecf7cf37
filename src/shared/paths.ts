/** The project's root directory (holding package.json and bin/), found from this module's location so it works both from the sources and from the dist/ bundle. */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

export function projectRoot(): string {
  if (cached) return cached;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'bin', 'moco.js'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error('cannot find the project root (bin/moco.js) above this module');
    dir = up;
  }
  cached = dir;
  return dir;
}
