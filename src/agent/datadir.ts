/**
 * The run-mysqld contract: how a new data directory (a clone or a restore) replaces the live one.
 *
 * The agent prepares the replacement in `<dataDir>.staged` and marks it complete by creating the file
 * `moco-staged-complete` inside it, then asks mysqld to shut down. Whatever starts mysqld (the local
 * supervisor, or `moco-agent run-mysqld` as the mysqld container's command on Kubernetes) calls
 * {@link swapStagedData} before every start. The swap is crash-safe: each step is a rename, and a start after a
 * crash at any point finishes it. An incomplete staging directory (no marker) is never swapped in.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';

export const STAGED_MARKER = 'moco-staged-complete';

export const stagedDirOf = (dataDir: string): string => `${dataDir}.staged`;
const oldDirOf = (dataDir: string): string => `${dataDir}.old`;

async function exists(p: string): Promise<boolean> {
  try {
    await fs.access(p);
    return true;
  } catch {
    return false;
  }
}

async function fsyncDir(dir: string): Promise<void> {
  const h = await fs.open(dir, 'r');
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}

/** Marks a staged directory complete (after its contents are synced). */
export async function markStagedComplete(dataDir: string): Promise<void> {
  const staged = stagedDirOf(dataDir);
  await fsyncDir(staged);
  const h = await fs.open(path.join(staged, STAGED_MARKER), 'w', 0o640);
  await h.sync();
  await h.close();
  await fsyncDir(staged);
}

/**
 * Swaps a complete staged directory in, if there is one. Returns true when a swap happened (or was finished).
 * Must only run while mysqld is stopped.
 */
export async function swapStagedData(dataDir: string): Promise<boolean> {
  const staged = stagedDirOf(dataDir);
  const old = oldDirOf(dataDir);
  const parent = path.dirname(dataDir);
  let swapped = false;
  if (await exists(path.join(staged, STAGED_MARKER))) {
    if (await exists(dataDir)) {
      await fs.rm(old, { recursive: true, force: true });
      await fs.rename(dataDir, old);
    }
    await fs.rename(staged, dataDir);
    await fsyncDir(parent);
    swapped = true;
  }
  if (await exists(path.join(dataDir, STAGED_MARKER))) {
    await fs.rm(path.join(dataDir, STAGED_MARKER), { force: true });
    swapped = true;
  }
  await fs.rm(old, { recursive: true, force: true });
  return swapped;
}
