/**
 * The recipient side of a MariaDB clone: receive the donor's xbstream, unpack it with mbstream into the
 * staging directory, prepare it with mariadb-backup, give it a new instance id and the GTID position it ends
 * at, mark it complete, and restart mysqld so that the run-mysqld contract swaps it in.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { MocoError } from '../../shared/errors.ts';
import type { Logger } from '../../shared/logger.ts';
import type { Db } from '../db.ts';
import { markStagedComplete, stagedDirOf } from '../datadir.ts';
import { writeNewInstanceId } from '../instance-id.ts';
import { exited, run, tailLines } from '../tools.ts';
import { applyPendingGtid, writePendingGtid } from './pending-gtid.ts';
import { restartMysqld } from './restart.ts';
import type { CloneTracker } from './tracker.ts';

export interface MariadbCloneOptions {
  db: Db;
  dataDir: string;
  mariadbBackup: string;
  mbstream: string;
  /** Opens the donor's stream (Donor.StreamClone). */
  openDonorStream: (signal: AbortSignal) => AsyncIterable<Buffer>;
  bootTimeoutMs: number;
  tracker: CloneTracker;
  log: Logger;
  signal: AbortSignal;
}

/** Reads the GTID position from mariadb-backup's binlog info file (10.11 and newer names). */
export async function readBackupGtid(dir: string): Promise<string> {
  for (const name of ['mariadb_backup_binlog_info', 'xtrabackup_binlog_info']) {
    try {
      const text = (await fs.readFile(path.join(dir, name), 'utf8')).trim();
      // "binlog.000001\t206871486\t0-2-104" (the GTID column is absent when the donor never binlogged)
      return text.split(/\s+/)[2] ?? '';
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  return '';
}

async function receive(o: MariadbCloneOptions, staged: string): Promise<void> {
  const unpack = spawn(o.mbstream, ['-x', '-C', staged], { stdio: ['pipe', 'ignore', 'pipe'] });
  const tail = tailLines(unpack);
  const unpacked = exited(unpack);
  try {
    for await (const chunk of o.openDonorStream(o.signal)) {
      o.tracker.addBytes(chunk.length);
      if (!unpack.stdin.write(chunk)) await once(unpack.stdin, 'drain', { signal: o.signal });
    }
    unpack.stdin.end();
  } catch (err) {
    unpack.kill('SIGTERM');
    await unpacked.catch(() => undefined);
    throw err;
  }
  const code = await unpacked;
  if (code !== 0) throw new MocoError('INTERNAL', `mbstream failed to unpack the clone (exit ${code}): ${tail()}`);
}

/** Runs the whole recipient side; returns the GTID position the copy ends at. */
export async function cloneMariadb(o: MariadbCloneOptions): Promise<string> {
  const staged = stagedDirOf(o.dataDir);
  await fs.rm(staged, { recursive: true, force: true });
  await fs.mkdir(staged, { recursive: true, mode: 0o750 });
  const t0 = Date.now();
  try {
    o.tracker.phase('streaming');
    await receive(o, staged);
    const streamedMs = Date.now() - t0;
    o.log.info({ bytes: o.tracker.bytesTransferred, ms: streamedMs }, 'clone received; preparing');
    o.tracker.phase('preparing');
    await run(o.mariadbBackup, ['--prepare', `--target-dir=${staged}`], 'mariadb-backup --prepare', o.signal);
    o.log.info({ ms: Date.now() - t0 - streamedMs }, 'clone prepared; restarting mysqld');
    const gtid = await readBackupGtid(staged);
    await writePendingGtid(staged, gtid);
    await writeNewInstanceId(staged);
    await markStagedComplete(o.dataDir);
    o.tracker.phase('restarting');
    await restartMysqld(o.db, o.bootTimeoutMs, o.signal);
    o.tracker.phase('positioning');
    await applyPendingGtid(o.db, o.dataDir, o.log);
    o.log.info({ ms: Date.now() - t0 }, 'clone restarted on the new data');
    return gtid;
  } catch (err) {
    // An incomplete staging directory is never swapped in; remove it unless it is complete and pending.
    const complete = await fs.access(path.join(staged, 'moco-staged-complete')).then(() => true, () => false);
    if (!complete) await fs.rm(staged, { recursive: true, force: true });
    throw err;
  }
}
