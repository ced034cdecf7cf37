/**
 * The agent's private scratch space: option files with passwords, bootstrap SQL, a temporary mysqld's socket.
 * It lives next to the data directory (`<instance>/moco-tmp`, mode 0700; on Kubernetes on the instance's own
 * volume), never in the shared /tmp: a process killed half-way (SIGKILL, OOM, a node lost) cannot clean up
 * after itself, and what it leaves must stay private to the instance and be gone at the next start, which
 * sweeps the whole directory before the agent takes any call.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Logger } from '../shared/logger.ts';

export function scratchRoot(dataDir: string): string {
  return path.join(path.dirname(path.resolve(dataDir)), 'moco-tmp');
}

/** A new private directory under the instance's scratch space; the caller removes it when done. */
export async function makeScratchDir(dataDir: string, prefix: string): Promise<string> {
  const root = scratchRoot(dataDir);
  await fs.mkdir(root, { recursive: true, mode: 0o700 });
  await fs.chmod(root, 0o700);
  return fs.mkdtemp(path.join(root, prefix));
}

/**
 * Removes whatever an earlier agent (or init) left in the scratch space. Call only while nothing else of this
 * instance uses it: at agent start, before it serves a call. Returns how many entries were removed.
 */
export async function sweepScratch(dataDir: string, log?: Logger): Promise<number> {
  const root = scratchRoot(dataDir);
  const entries = await fs.readdir(root).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [] as string[];
    throw err;
  });
  for (const e of entries) await fs.rm(path.join(root, e), { recursive: true, force: true });
  if (entries.length > 0) log?.warn({ dir: root, entries }, 'removed what an interrupted run left in the scratch space');
  return entries.length;
}
