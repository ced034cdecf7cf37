/**
 * The binlog part of a backup: close the current binlog, then archive the closed files that hold the
 * transactions since the previous backup. The files are read from this instance's own disk (the agent runs
 * beside mysqld), streamed into a tar archive and uploaded, never copied first.
 */
import path from 'node:path';
import { gtidContains, parseGtid, type Flavor } from '../../gtid/index.ts';
import type { Db } from '../db.ts';
import { str } from '../flavor/common.ts';

export interface BinlogSelection {
  dir: string;
  files: string[];
  /** Set when binlogs since the previous backup may be missing on this instance. */
  gap?: string;
}

/** The sequence number of a binlog file name (`binlog.000042` → 42). */
export const binlogNumber = (name: string): number => Number(/\.(\d+)$/.exec(name)?.[1] ?? NaN);

/**
 * The closed binlog files from `startFile` (or the oldest when it is empty or gone) to the newest closed one.
 * Call after FLUSH BINARY LOGS: the newest file is the open one and is left out.
 */
export async function selectBinlogs(db: Db, flavor: Flavor, startFile: string, previousGtid: string): Promise<BinlogSelection> {
  const [base] = await db.query('SELECT @@log_bin_basename AS b');
  const dir = path.dirname(str(base?.b));
  const logs = (await db.query('SHOW BINARY LOGS')).map((r) => str(r.Log_name)).sort((a, b) => binlogNumber(a) - binlogNumber(b));
  const closed = logs.slice(0, -1);
  let gap: string | undefined;
  let from = 0;
  if (startFile !== '') {
    const at = closed.indexOf(startFile);
    if (at >= 0) from = at;
    else gap = `binlog ${startFile} of the previous backup is no longer on this instance`;
  }
  const files = closed.slice(from);
  const first = files[0];
  if (first !== undefined && previousGtid !== '' && gap === undefined) {
    const before = await gtidsBefore(db, flavor, first);
    if (before !== undefined && !gtidContains(parseGtid(flavor, previousGtid), parseGtid(flavor, before))) {
      gap = `binlog ${first} starts after ${before}, but the previous backup ends at ${previousGtid}`;
    }
  }
  return { dir, files: files.map((f) => path.join(dir, f)), gap };
}

/** The GTIDs written before `file` (MariaDB: its Gtid_list event; MySQL: its Previous_gtids event). */
async function gtidsBefore(db: Db, flavor: Flavor, file: string): Promise<string | undefined> {
  const rows = await db.query('SHOW BINLOG EVENTS IN ? LIMIT 4', [file]);
  const type = flavor === 'mariadb' ? 'Gtid_list' : 'Previous_gtids';
  const info = rows.find((r) => str(r.Event_type) === type)?.Info;
  if (info === undefined) return undefined;
  return str(info).replace(/^\[|\]$/g, '').replace(/\s+/g, '').trim();
}
