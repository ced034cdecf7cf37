/**
 * Restore (agent side): a backup from object storage becomes this instance's data, then the archived binlogs
 * are replayed up to the restore point. The instance stays read-only throughout; replaying runs as moco-agent
 * (the only account that may write on a read-only MariaDB) with sql_log_bin=0, and the instance then starts a
 * fresh GTID history: it is the first instance of a new cluster, and its replicas are cloned from it.
 * MySQL 8.4 (mysql.ts; unit-tested only): the clone's tar is unpacked, a temporary mysqld resets the accounts,
 * and moco-admin replays with super_read_only off and read_only on.
 */
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { MocoError, failedPrecondition, invalidArgument } from '../../shared/errors.ts';
import type { Logger } from '../../shared/logger.ts';
import type { RestoreRequest__Output } from '../../generated/moco/agent/v1/RestoreRequest.ts';
import type { RestoreResult } from '../../generated/moco/agent/v1/RestoreResult.ts';
import { BINLOG_MANIFEST, MANIFEST, binlogDateTime, requireRestorePoint, type BackupManifest, type BinlogManifest } from '../../backup/layout.ts';
import type { BucketClient, BucketTarget } from '../../backup/storage/types.ts';
import { downloadArchive } from '../../backup/transfer.ts';
import type { Agent } from '../agent.ts';
import { markStagedComplete, stagedDirOf } from '../datadir.ts';
import { writeNewInstanceId } from '../instance-id.ts';
import { exited, run, tailLines } from '../../shared/tools.ts';
import { PASSWORD_KEYS, type Passwords } from '../../shared/accounts.ts';
import { requireMysqld } from '../mysqld.ts';
import { restartMysqld } from '../clone/restart.ts';
import { bucketTarget, checkLocation } from './bucket.ts';
import { acquireExclusive } from './exclusive.ts';
import { MYSQL_BACKUP_FORMAT, resetAccountsOffline, unpackMysqlBase, type OfflineResetOptions } from './mysql.ts';
import { replayBinlogs, resetAccounts, type ReplayTarget } from './replay.ts';

export interface RestoreDeps {
  mariadbBackup: string;
  mbstream: string;
  openBucket: (t: BucketTarget) => BucketClient;
  /** Aborts when the agent shuts down. */
  lifetime: AbortSignal;
  log: Logger;
  /** MySQL: how to reach the temporary mysqld that resets the accounts (default: over its socket; tests: a fake). */
  offlineConnect?: OfflineResetOptions['connect'];
}

export interface RestoreProgressEvent {
  phase: 'download' | 'prepare' | 'restart' | 'binlog' | 'done';
  bytes: number;
}

/** Written into the data directory when a restore finished: makes a repeated call return the same result. */
export const RESTORED_FILE = 'moco-restored.json';
const BOOT_TIMEOUT_MS = 10 * 60_000;

interface RestoredRecord {
  prefix: string;
  time: string;
  restorePoint: string;
  result: RestoreResult;
}

async function readRecord(dataDir: string): Promise<RestoredRecord | undefined> {
  try {
    return JSON.parse(await fs.readFile(path.join(dataDir, RESTORED_FILE), 'utf8')) as RestoredRecord;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

function passwordsOf(req: RestoreRequest__Output): Passwords {
  const missing = PASSWORD_KEYS.filter((k) => !req.passwords[k]);
  if (missing.length > 0) throw invalidArgument(`passwords ${missing.join(', ')} are missing; the restored copy's accounts are reset to them`);
  return Object.fromEntries(PASSWORD_KEYS.map((k) => [k, req.passwords[k] as string])) as Passwords;
}

async function readJson<T>(bucket: BucketClient, key: string, signal: AbortSignal): Promise<T> {
  const text = await bucket.readText(key, signal);
  if (text === undefined) throw new MocoError('NOT_FOUND', `${key} is not in ${bucket.describe()}: that backup is missing or incomplete`);
  return JSON.parse(text) as T;
}

/**
 * The statements around a restore's binlog replay, per flavor: `before` it, `after` it (a fresh GTID history,
 * no replication settings from the source), and `always` at the end, also after a failure. MariaDB: RESET
 * MASTER and an empty slave position. MySQL: super_read_only blocks every account, so it is off while
 * moco-admin replays (read_only stays on: only accounts with CONNECTION_ADMIN may write) and back on in any
 * case; RESET BINARY LOGS AND GTIDS is 8.4's name of RESET MASTER.
 */
export function restoreStatements(flavor: 'mysql' | 'mariadb'): { before: string[]; after: string[]; always: string[] } {
  if (flavor === 'mysql') {
    return {
      before: ['SET GLOBAL super_read_only = OFF'],
      after: ['STOP REPLICA', 'RESET REPLICA ALL', 'RESET BINARY LOGS AND GTIDS'],
      always: ['SET GLOBAL super_read_only = ON'],
    };
  }
  return { before: [], after: ['STOP SLAVE', 'RESET SLAVE ALL', "SET GLOBAL gtid_slave_pos = ''", 'RESET MASTER'], always: [] };
}

/** MySQL 8.4's mysqld, which a MySQL restore runs once on the copy. */
function requireMysqlMysqld(): string {
  const install = requireMysqld();
  if (install.flavor !== 'mysql') {
    throw failedPrecondition(`the mysqld found (${install.mysqld}) is MariaDB's, but restoring a MySQL instance runs MySQL 8.4's ` +
      'mysqld once on the copy; put MySQL 8.4 first on PATH or set MOCO_MYSQLD');
  }
  return install.mysqld;
}

export async function runRestore(agent: Agent, req: RestoreRequest__Output, deps: RestoreDeps, signal: AbortSignal,
  progress: (p: RestoreProgressEvent) => void): Promise<RestoreResult> {
  const target = bucketTarget(req.bucket);
  checkLocation(req.prefix, req.time);
  const point = req.applyBinlog ? requireRestorePoint(req.restorePoint) : undefined;
  const passwords = passwordsOf(req);
  const { dataDir } = agent.options;
  const done = await readRecord(dataDir);
  if (done) {
    if (done.prefix === req.prefix && done.time === req.time && done.restorePoint === req.restorePoint) return done.result;
    throw failedPrecondition(`this instance was already restored from ${done.prefix}${done.time} (restore point ${done.restorePoint})`);
  }
  const { flavor } = await agent.flavor();
  const mysqld = flavor === 'mysql' ? requireMysqlMysqld() : undefined;
  if ((await agent.readFlavorStatus()).hasUserData) {
    throw failedPrecondition('this instance holds user data, so a restore would destroy it; after a failed restore, ' +
      're-initialise it (moco reinit NAME --index 0) to start over');
  }
  const release = acquireExclusive(agent, 'a restore');
  const bucket = deps.openBucket(target);
  const log = deps.log.child({ restore: `${req.prefix}${req.time}` });
  const started = Date.now();
  const beforeRestart = AbortSignal.any([signal, deps.lifetime]);
  const staged = stagedDirOf(dataDir);
  try {
    const dir = `${req.prefix}${req.time}/`;
    const manifest = await readJson<BackupManifest>(bucket, `${dir}${MANIFEST}`, beforeRestart);
    const expected = flavor === 'mysql' ? MYSQL_BACKUP_FORMAT : 'mariadb-backup/xbstream';
    if (manifest.format !== expected) {
      throw failedPrecondition(`backup ${dir} has format ${manifest.format}, which this instance (${flavor === 'mysql' ? 'MySQL' : 'MariaDB'}) ` +
        `cannot restore (it restores ${expected}); restore it into a cluster of the flavor it was taken from`);
    }
    const binlog = req.applyBinlog ? await readJson<BinlogManifest>(bucket, `${dir}${BINLOG_MANIFEST}`, beforeRestart) : undefined;
    log.info({ bucket: bucket.describe(), gtid: manifest.gtid, binlog: !!binlog, point: point?.toISOString() }, 'restore started');

    // 1. Download and unpack into the staging directory, checking the checksum.
    await fs.rm(staged, { recursive: true, force: true });
    await fs.mkdir(staged, { recursive: true, mode: 0o750 });
    let downloaded = 0;
    const onDownload = (bytes: number): void => {
      downloaded = bytes;
      progress({ phase: 'download', bytes });
    };
    if (mysqld !== undefined) {
      // MySQL: the clone's tar; then this cluster's accounts, set by a temporary mysqld on the copy.
      await unpackMysqlBase(bucket, manifest.base, staged, beforeRestart, onDownload);
      progress({ phase: 'prepare', bytes: 0 });
      await resetAccountsOffline({
        mysqld, myCnfPath: agent.options.myCnfPath, dataDir: agent.options.dataDir, staged, passwords, timeoutMs: BOOT_TIMEOUT_MS, signal: beforeRestart, log,
        connect: deps.offlineConnect,
      });
    } else {
      const unpack = spawn(deps.mbstream, ['-x', '-C', staged], { stdio: ['pipe', 'ignore', 'pipe'] });
      const tail = tailLines(unpack);
      const unpacked = exited(unpack).then((code) => {
        if (code !== 0) throw new MocoError('INTERNAL', `mbstream failed to unpack the backup (exit ${code}): ${tail()}`);
      });
      await downloadArchive(bucket, manifest.base, unpack.stdin, unpacked, { signal: beforeRestart, onProgress: onDownload })
        .catch((err: unknown) => {
          unpack.kill('SIGTERM');
          throw err;
        });

      // 2. Prepare, and give the copy this cluster's accounts and a new identity.
      progress({ phase: 'prepare', bytes: 0 });
      await run(deps.mariadbBackup, ['--prepare', `--target-dir=${staged}`], 'mariadb-backup --prepare', beforeRestart);
      await resetAccounts(agent, staged, passwords, beforeRestart);
      await writeNewInstanceId(staged);
    }
    await markStagedComplete(dataDir);

    // 3. From here on the instance's data is being replaced: finish even if the caller goes away.
    progress({ phase: 'restart', bytes: 0 });
    await restartMysqld(agent.database(), BOOT_TIMEOUT_MS, deps.lifetime);
    const warnings: string[] = [];
    const db = agent.database();
    const statements = restoreStatements(flavor);
    let failed = true;
    try {
      for (const sql of statements.before) await db.query(sql);
      if (binlog && point) {
        progress({ phase: 'binlog', bytes: 0 });
        // MariaDB: moco-agent may write on a read-only instance. MySQL: moco-agent has no data privileges, and
        // moco-admin (ALL, so CONNECTION_ADMIN) may write while read_only is on and super_read_only off.
        const replayAs: ReplayTarget = flavor === 'mysql'
          ? { flavor, user: 'moco-admin', password: passwords.ADMIN_PASSWORD }
          : { flavor, user: 'moco-agent', password: agent.options.passwords.agent };
        await replayBinlogs(agent, bucket, binlog, manifest.gtid, binlogDateTime(point), deps.lifetime, log,
          (bytes) => progress({ phase: 'binlog', bytes }), replayAs);
      }
      for (const sql of statements.after) await db.query(sql);
      failed = false;
    } finally {
      for (const sql of statements.always) {
        await db.query(sql).catch((err: unknown) => {
          if (!failed) throw err;
          log.warn({ err, sql }, 'after the failed restore step');
        });
      }
    }
    const result: RestoreResult = {
      backupTime: req.time, restorePoint: req.restorePoint, durationMs: Date.now() - started,
      downloadedBytes: downloaded, binlogApplied: !!binlog, warnings,
    };
    const record: RestoredRecord = { prefix: req.prefix, time: req.time, restorePoint: req.restorePoint, result };
    await fs.writeFile(path.join(dataDir, RESTORED_FILE), `${JSON.stringify(record, null, 2)}\n`, { mode: 0o640 });
    log.info({ ms: result.durationMs, downloaded }, 'restore complete');
    return result;
  } catch (err) {
    const complete = await fs.access(path.join(staged, 'moco-staged-complete')).then(() => true, () => false);
    if (!complete) await fs.rm(staged, { recursive: true, force: true });
    throw err;
  } finally {
    bucket.close();
    release();
  }
}
