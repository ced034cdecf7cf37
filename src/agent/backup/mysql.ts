/**
 * The MySQL 8.4 parts of Backup and Restore (agent side). Unit-tested only: the development machine has no
 * MySQL 8.4 mysqld, so every statement, command line and parser here is covered by tests with fakes, and the
 * behaviour relied on is MySQL 8.4's documented one.
 *
 * Backup: `CLONE LOCAL DATA DIRECTORY` makes a consistent physical copy (InnoDB only, as every clone) in a work
 * directory next to the data directory; performance_schema.clone_status then gives the copy's GTID set and
 * binlog position; the directory is streamed as a tar archive (compressed and uploaded like the MariaDB
 * archive) and removed.
 *
 * Restore: the archive is unpacked into the staging directory; a temporary mysqld on it (no network, no binlog,
 * a private socket) re-creates the cluster's accounts from an init file and is shut down again; the staged
 * directory is then swapped in like a MariaDB restore.
 */
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { makeScratchDir } from '../scratch.ts';
import { MocoError, messageOf } from '../../shared/errors.ts';
import { sleep } from '../../shared/abort.ts';
import type { Logger } from '../../shared/logger.ts';
import { parseGtid } from '../../gtid/index.ts';
import type { Compression, StoredObject } from '../../backup/layout.ts';
import type { BucketClient } from '../../backup/storage/types.ts';
import { packTree, unpackTree } from '../../backup/tar.ts';
import { downloadArchive, uploadArchive } from '../../backup/transfer.ts';
import { MysqlDb, type Db, type Row } from '../db.ts';
import { num, oneLine, str } from '../flavor/common.ts';
import { reinitStatements } from '../clone/mysql.ts';
import { exited, tailLines } from '../../shared/tools.ts';
import type { Passwords } from '../../shared/accounts.ts';

/** `manifest.json` format of a MySQL backup. */
export const MYSQL_BACKUP_FORMAT = 'mysql-clone/tar';

/** Where the local clone is made: next to the data directory (MySQL creates it; it must not exist). */
export const cloneWorkDirOf = (dataDir: string): string => `${dataDir}.backup-clone`;

/** The copy; the directory is a parameter (client-side quoting, like every other value the agent sends). */
export const CLONE_LOCAL_SQL = 'CLONE LOCAL DATA DIRECTORY = ?';

/** The status of the last clone: one row (or none) on the instance that ran it. */
export const CLONE_STATUS_SQL = 'SELECT STATE AS state, SOURCE AS source, DESTINATION AS destination, ERROR_NO AS errno, ' +
  'ERROR_MESSAGE AS error, BINLOG_FILE AS binlogFile, BINLOG_POSITION AS binlogPosition, GTID_EXECUTED AS gtid ' +
  'FROM performance_schema.clone_status';

/** Where a copy ends: its GTID set and the binlog file and position of its last transaction. */
export interface ClonePosition {
  gtid: string;
  binlogFile: string;
  binlogPosition: number;
}

/**
 * Reads the clone_status row of a finished local clone. MySQL shows `LOCAL INSTANCE` as SOURCE for a local
 * clone; GTID_EXECUTED comes with newlines after its commas, BINLOG_FILE possibly with a directory.
 */
export function parseCloneStatus(rows: Row[], dir: string): ClonePosition {
  const r = rows[0];
  if (!r) {
    throw new MocoError('INTERNAL', `performance_schema.clone_status is empty after the clone into ${dir}; ` +
      'check that the clone plugin is active (SHOW PLUGINS) and performance_schema is ON');
  }
  const source = str(r.source);
  if (source !== 'LOCAL INSTANCE') {
    throw new MocoError('INTERNAL', `performance_schema.clone_status describes a clone from ${source} into ` +
      `${str(r.destination)}, not the local clone into ${dir}; another clone ran at the same time, try again`);
  }
  const state = str(r.state);
  if (state !== 'Completed') {
    throw new MocoError('INTERNAL', `the local clone into ${dir} ended in state "${state}": error ${num(r.errno)} ${str(r.error)}`);
  }
  const gtid = oneLine(r.gtid);
  try {
    parseGtid('mysql', gtid);
  } catch (err) {
    throw new MocoError('INTERNAL', `performance_schema.clone_status gives the unreadable GTID set "${gtid}": ${messageOf(err)}`, { cause: err });
  }
  const file = str(r.binlogFile);
  return { gtid, binlogFile: file === '' ? '' : path.basename(file), binlogPosition: num(r.binlogPosition) };
}

/**
 * Clones this instance into `dir` (removed first if a failed backup left it) and returns where the copy ends.
 * Runs on a connection of its own: cancelling `signal` kills the statement (KILL QUERY stops a clone).
 */
export async function cloneLocal(db: Db, dir: string, signal: AbortSignal): Promise<ClonePosition> {
  await fs.rm(dir, { recursive: true, force: true });
  try {
    await db.query(CLONE_LOCAL_SQL, [dir], { signal });
  } catch (err) {
    if (signal.aborted) throw err;
    throw new MocoError('INTERNAL', `CLONE LOCAL DATA DIRECTORY '${dir}' failed: ${messageOf(err)}. It needs the clone plugin ` +
      '(installed when the instance was initialised), the BACKUP_ADMIN privilege for moco-agent, room for a full copy ' +
      `of the data, and a parent directory (${path.dirname(dir)}) that mysqld's OS user may write to`, { cause: err });
  }
  return parseCloneStatus(await db.query(CLONE_STATUS_SQL), dir);
}

/** Bytes of the regular files under `dir`. */
export async function treeSize(dir: string): Promise<number> {
  let total = 0;
  for (const e of await fs.readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) total += await treeSize(p);
    else if (e.isFile()) total += (await fs.stat(p)).size;
  }
  return total;
}

export interface MysqlBaseCopy extends ClonePosition {
  base: StoredObject;
  startedAt: Date;
  finishedAt: Date;
  /** Bytes the clone took on local disk while it was archived. */
  workDirUsage: number;
}

/** Step 1 of a MySQL backup: the local clone, archived to `key`, and the work directory removed again. */
export async function backupMysqlBase(db: Db, dataDir: string, bucket: BucketClient, key: string,
  o: { compression: Compression; signal: AbortSignal; log: Logger; onProgress: (bytes: number) => void }): Promise<MysqlBaseCopy> {
  const dir = cloneWorkDirOf(dataDir);
  const startedAt = new Date();
  try {
    const position = await cloneLocal(db, dir, o.signal);
    const finishedAt = new Date();
    const workDirUsage = await treeSize(dir);
    o.log.info({ dir, bytes: workDirUsage, gtid: position.gtid, ms: finishedAt.getTime() - startedAt.getTime() }, 'local clone done; archiving it');
    const base = await uploadArchive(bucket, key, packTree(dir, o.signal), {
      compression: o.compression, signal: o.signal, contentType: 'application/octet-stream', expectedSize: workDirUsage,
      onProgress: o.onProgress,
    });
    return { ...position, base, startedAt, finishedAt, workDirUsage };
  } finally {
    await fs.rm(dir, { recursive: true, force: true }).catch((err: unknown) => {
      o.log.warn({ err, dir }, 'could not remove the clone work directory; the next backup removes it');
    });
  }
}

/** Restore step 1 (MySQL): downloads, checks and unpacks the archive into the (empty, existing) staging directory. */
export async function unpackMysqlBase(bucket: BucketClient, base: StoredObject, staged: string, signal: AbortSignal,
  onProgress: (bytes: number) => void): Promise<void> {
  const unpack = unpackTree(staged);
  await downloadArchive(bucket, base, unpack.sink, unpack.done.then(() => undefined), { signal, onProgress });
  // The restored instance is a new one: MySQL writes a new server_uuid when auto.cnf is missing. A clone does not
  // copy auto.cnf; removing it makes sure.
  await fs.rm(path.join(staged, 'auto.cnf'), { force: true });
}

/** The files of the temporary mysqld, all in a private directory. */
export function offlineFiles(work: string): { socket: string; pidFile: string; errorLog: string; initFile: string } {
  return {
    socket: path.join(work, 'mysqld.sock'), pidFile: path.join(work, 'mysqld.pid'),
    errorLog: path.join(work, 'error.log'), initFile: path.join(work, 'init.sql'),
  };
}

/**
 * The command line of the temporary mysqld that resets the accounts of a staged copy. After the instance's own
 * my.cnf (options later on the command line win): the staged directory; no TCP at all (skip-networking also
 * keeps the admin port closed; the X plugin is off), its own socket, pid file and error log; no binlog, so the
 * copy's GTID history stays as it is; no replication start; not read-only, so the init file may write.
 */
export function offlineMysqldArgs(myCnfPath: string, staged: string, work: string): string[] {
  const f = offlineFiles(work);
  return [
    `--defaults-file=${myCnfPath}`, `--datadir=${staged}`, '--skip-networking', '--mysqlx=OFF',
    `--socket=${f.socket}`, `--pid-file=${f.pidFile}`, `--log-error=${f.errorLog}`,
    '--skip-log-bin', '--skip-replica-start', '--read-only=OFF', '--super-read-only=OFF',
    '--innodb-buffer-pool-size=134217728', `--init-file=${f.initFile}`,
  ];
}

/**
 * The init file: the cluster's accounts dropped and re-created with this cluster's passwords, unbinlogged
 * (the statements of a clone from an external donor). The plugins are in the copy already, and an INSTALL
 * PLUGIN that fails would stop mysqld, so none is installed. One statement per line.
 */
export function offlineInitSql(passwords: Passwords): string {
  return `${reinitStatements(passwords).statements.join('\n')}\n`;
}

export interface OfflineResetOptions {
  mysqld: string;
  myCnfPath: string;
  /** This instance's data directory (the temporary mysqld's files go to the scratch space next to it). */
  dataDir: string;
  staged: string;
  passwords: Passwords;
  timeoutMs: number;
  signal: AbortSignal;
  log: Logger;
  /** How to reach the temporary mysqld (tests pass a fake). */
  connect?: (socketPath: string, user: string, password: string) => Db & { close(): Promise<void> };
}

const POLL_MS = 200;
const SHUTDOWN_TIMEOUT_MS = 5 * 60_000;

async function logTail(file: string, lines = 20): Promise<string> {
  const text = await fs.readFile(file, 'utf8').catch(() => '');
  return text.split('\n').filter((l) => l.trim() !== '').slice(-lines).join('\n');
}

/**
 * Restore step 2 (MySQL): runs mysqld once on the staged copy with the init file, waits until it answers on
 * its socket as moco-agent with this cluster's password (mysqld stops when a statement of the init file fails,
 * and only takes connections after the file ran), then shuts it down and waits for the process to exit.
 * Only this process is ever signalled, by its PID.
 */
export async function resetAccountsOffline(o: OfflineResetOptions): Promise<void> {
  const work = await makeScratchDir(o.dataDir, 'restore-');
  const f = offlineFiles(work);
  const connect = o.connect ?? ((socketPath, user, password) => new MysqlDb({ socketPath, user, password, connectTimeoutMs: 2000, timeoutMs: 10_000 }));
  try {
    // The init file holds passwords: private, removed with the directory.
    await fs.writeFile(f.initFile, offlineInitSql(o.passwords), { mode: 0o600 });
    const args = offlineMysqldArgs(o.myCnfPath, o.staged, work);
    o.log.info({ mysqld: o.mysqld, staged: o.staged }, 'resetting the accounts of the restored copy');
    const child = spawn(o.mysqld, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    const stderr = tailLines(child);
    let exitCode: number | undefined;
    let spawnError: Error | undefined;
    const exit = exited(child).then((c) => {
      exitCode = c;
      return c;
    }, (err: unknown) => {
      spawnError = err instanceof Error ? err : new Error(String(err));
      exitCode = -1;
      return -1;
    });
    const failure = async (what: string): Promise<MocoError> => {
      const log = (await logTail(f.errorLog)) || stderr();
      return new MocoError('INTERNAL', `resetting the accounts of the restored copy failed: ${what}` +
        (log !== '' ? `; mysqld's log ends with:\n${log}` : ''));
    };
    const stop = async (): Promise<void> => {
      if (exitCode === undefined) child.kill('SIGTERM');
      await exit;
    };
    const db = connect(f.socket, 'moco-agent', o.passwords.AGENT_PASSWORD);
    try {
      const deadline = Date.now() + o.timeoutMs;
      for (;;) {
        if (spawnError) throw new MocoError('FAILED_PRECONDITION', `cannot run ${o.mysqld}: ${spawnError.message}`);
        if (exitCode !== undefined) throw await failure(`the temporary mysqld exited with code ${exitCode} before it answered`);
        if (o.signal.aborted) throw new MocoError('CANCELLED', 'the restore was cancelled');
        if (Date.now() > deadline) throw await failure(`the temporary mysqld did not answer within ${Math.round(o.timeoutMs / 1000)}s`);
        const ok = await db.query('SELECT 1 AS ok', [], { timeoutMs: 5000 }).then(() => true, () => false);
        if (ok) break;
        await sleep(POLL_MS).catch(() => undefined);
      }
      await db.query('SHUTDOWN', [], { timeoutMs: 30_000 }).catch(() => undefined); // the connection drops as it goes down
    } catch (err) {
      await stop();
      throw err;
    } finally {
      await db.close();
    }
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), SHUTDOWN_TIMEOUT_MS);
    });
    const onAbort = (): void => {
      child.kill('SIGTERM');
    };
    o.signal.addEventListener('abort', onAbort, { once: true });
    try {
      const code = await Promise.race([exit, timedOut]);
      if (code === 'timeout') {
        await stop();
        throw await failure(`the temporary mysqld did not stop within ${SHUTDOWN_TIMEOUT_MS / 1000}s of SHUTDOWN`);
      }
      if (o.signal.aborted) throw new MocoError('CANCELLED', 'the restore was cancelled');
      if (code !== 0) throw await failure(`the temporary mysqld exited with code ${code} after SHUTDOWN`);
    } finally {
      clearTimeout(timer);
      o.signal.removeEventListener('abort', onAbort);
    }
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}

