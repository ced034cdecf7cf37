/**
 * Instance identity for flavors without server_uuid (MariaDB): a random id kept in the data directory, so it
 * changes whenever the directory is re-created (init, clone, restore) and survives restarts.
 */
import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../shared/atomic-file.ts';

export const INSTANCE_ID_FILE = 'moco-instance-id';

/** Writes a new id into `dataDir` (atomically) and returns it. */
export async function writeNewInstanceId(dataDir: string): Promise<string> {
  const id = randomUUID();
  await writeFileAtomic(path.join(dataDir, INSTANCE_ID_FILE), `${id}\n`, 0o640);
  return id;
}

/** Reads the id; creates one when the directory exists but has none. Returns '' when the directory is absent. */
export async function readInstanceId(dataDir: string): Promise<string> {
  try {
    return (await fs.readFile(path.join(dataDir, INSTANCE_ID_FILE), 'utf8')).trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  try {
    await fs.access(dataDir);
  } catch {
    return '';
  }
  return writeNewInstanceId(dataDir);
}

/**
 * The id as GetStatus reports it, without reading the file on every call (that was about a tenth of the call's
 * CPU). A new id only appears with a new data directory, and mysqld must restart to use one: the file is read
 * again when mysqld's uptime went down since the last read, and at least every `maxAgeMs` (which also covers a
 * restart within the same second of uptime).
 */
export class InstanceIdReader {
  private cached: { id: string; uptime: number; at: number } | undefined;

  constructor(private readonly dataDir: string, private readonly maxAgeMs = 1000, private readonly now = Date.now) {}

  async read(uptimeSeconds: number): Promise<string> {
    const c = this.cached;
    const now = this.now();
    if (c && uptimeSeconds >= c.uptime && now - c.at < this.maxAgeMs) return c.id;
    const id = await readInstanceId(this.dataDir);
    this.cached = id === '' ? undefined : { id, uptime: uptimeSeconds, at: now };
    return id;
  }
}
