/** Crash-safe small-file writes: a reader sees the old content or the new, never a torn file. */
import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { MocoError } from './errors.ts';

/**
 * Writes `data` to a temp file in the same directory, fsyncs it, renames it over `path` and, with `syncDirectory`,
 * fsyncs the directory so that the rename itself survives a power loss.
 *
 * @param mode - the file's exact mode (not filtered by the umask).
 * @throws MocoError INTERNAL (with `cause`) naming `path`; the temp file is removed.
 */
export async function writeFileAtomic(path: string, data: string, mode: number, syncDirectory = false): Promise<void> {
  const tmp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    const fh = await open(tmp, 'wx', mode);
    try {
      await fh.chmod(mode); // open()'s mode is filtered by the umask; set it exactly
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
    if (syncDirectory) await syncDir(dirname(path));
  } catch (err) {
    await rm(tmp, { force: true });
    throw new MocoError('INTERNAL', `cannot write ${path}`, { cause: err });
  }
}

/** fsyncs a directory: renames and creations in it are durable afterwards. */
export async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
