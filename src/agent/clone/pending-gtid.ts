/**
 * After a MariaDB clone, the replica must resume replication exactly where the copy ends. The position comes
 * with the copy (mariadb-backup's binlog info); it is kept in a file in the new data directory until it has
 * been applied with SET GLOBAL gtid_slave_pos, so an agent that restarts in between still applies it.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Db } from '../db.ts';
import type { Logger } from '../../shared/logger.ts';
import { writeFileAtomic } from '../../shared/atomic-file.ts';

export const PENDING_GTID_FILE = 'moco-pending-gtid';

export async function writePendingGtid(dataDir: string, gtid: string): Promise<void> {
  await writeFileAtomic(path.join(dataDir, PENDING_GTID_FILE), `${gtid}\n`, 0o640);
}

/** Applies and removes a pending position, if any (MariaDB only writes one). Returns the position applied. */
export async function applyPendingGtid(db: Db, dataDir: string, log: Logger): Promise<string | undefined> {
  const file = path.join(dataDir, PENDING_GTID_FILE);
  let gtid: string;
  try {
    gtid = (await fs.readFile(file, 'utf8')).trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  await db.query('STOP SLAVE');
  await db.query('SET GLOBAL gtid_slave_pos = ?', [gtid]);
  await fs.rm(file, { force: true });
  log.info({ gtid }, 'applied the GTID position the clone ends at');
  return gtid;
}
