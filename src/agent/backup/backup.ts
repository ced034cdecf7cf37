/**
 * Backup (agent side): a full physical copy of this instance streamed to object storage, then the binlogs
 * since the previous backup, then manifest.json last. MariaDB: mariadb-backup's xbstream, compressed on the
 * way; it restores fastest (no re-insert, no index rebuild) and carries the consistent binlog position. MySQL
 * 8.4: a local clone (CLONE LOCAL DATA DIRECTORY) next to the data directory, archived as tar and removed
 * (mysql.ts; unit-tested only).
 */
import { hostname } from 'node:os';
import { MocoError, messageOf } from '../../shared/errors.ts';
import type { Logger } from '../../shared/logger.ts';
import { mariadbMerge, parseGtid, formatGtid, type Flavor } from '../../gtid/index.ts';
import type { BackupRequest__Output } from '../../generated/moco/agent/v1/BackupRequest.ts';
import type { BackupResult } from '../../generated/moco/agent/v1/BackupResult.ts';
import { defaultCompression } from '../../backup/archive.ts';
import {
  BINLOG_MANIFEST, FORMAT_VERSION, MANIFEST, compressionSuffix, type BackupManifest, type BinlogManifest, type Compression,
  type StoredObject,
} from '../../backup/layout.ts';
import type { BucketClient, BucketTarget } from '../../backup/storage/types.ts';
import { packFiles } from '../../backup/tar.ts';
import { uploadArchive } from '../../backup/transfer.ts';
import type { Agent } from '../agent.ts';
import { startBackupStream } from '../clone/donor.ts';
import { str } from '../flavor/common.ts';
import { readInstanceId } from '../instance-id.ts';
import { selectBinlogs } from './binlogs.ts';
import { bucketTarget, checkLocation } from './bucket.ts';
import { acquireExclusive } from './exclusive.ts';
import { MYSQL_BACKUP_FORMAT, backupMysqlBase } from './mysql.ts';

export interface BackupDeps {
  mariadbBackup: string;
  openBucket: (t: BucketTarget) => BucketClient;
  log: Logger;
}

export interface BackupProgressEvent {
  phase: 'backup' | 'binlog' | 'manifest' | 'done';
  bytes: number;
}

/** Runs one backup; `signal` is the caller's (cancelling it aborts everything). */
export async function runBackup(agent: Agent, req: BackupRequest__Output, deps: BackupDeps, signal: AbortSignal,
  progress: (p: BackupProgressEvent) => void): Promise<BackupResult> {
  const target = bucketTarget(req.bucket);
  checkLocation(req.prefix, req.time);
  if (req.previousTime !== '') checkLocation(req.prefix, req.previousTime, 'previous_time');
  const compression: Compression = req.compression === 'zstd' || req.compression === 'gzip' ? req.compression : defaultCompression();
  const { flavor } = await agent.flavor();
  const release = acquireExclusive(agent, 'a backup');
  const bucket = deps.openBucket(target);
  const log = deps.log.child({ backup: req.time });
  try {
    await bucket.check(signal);
    const before = await agent.readFlavorStatus();
    // MySQL's identity is server_uuid; MariaDB's the id the agent keeps in the data directory.
    const instanceId = flavor === 'mysql' ? before.serverUuid : await readInstanceId(agent.options.dataDir);
    const dir = `${req.prefix}${req.time}/`;
    log.info({ bucket: bucket.describe(), dir, compression, flavor }, 'backup started');

    // 1. The full copy, streamed (MySQL: a local clone, archived).
    const onBase = (bytes: number): void => progress({ phase: 'backup', bytes });
    const copy = flavor === 'mysql'
      ? await backupMysql(agent, bucket, `${dir}base.tar.${compressionSuffix(compression)}`, compression, signal, log, onBase)
      : await backupMariadb(agent, deps, bucket, `${dir}base.xbstream.${compressionSuffix(compression)}`, compression, signal, before.executed, onBase);
    const { base, gtid, binlogFile, startedAt, finishedAt } = copy;
    log.info({ bytes: base.size, gtid, ms: finishedAt.getTime() - startedAt.getTime() }, 'full backup stored');

    // 2. The binlogs since the previous backup (a failure here leaves a gap, not a failed backup).
    const warnings: string[] = [];
    let binlog: StoredObject | undefined;
    if (req.previousTime !== '') {
      try {
        binlog = await archiveBinlogs(agent, req, bucket, compression, signal, (bytes) => progress({ phase: 'binlog', bytes }), warnings,
          flavor, instanceId);
      } catch (err) {
        if (signal.aborted) throw err;
        warnings.push(`failed to back up binary logs: ${messageOf(err)}`);
        log.warn({ err }, 'binlog backup failed');
      }
    }

    // 3. manifest.json, last.
    progress({ phase: 'manifest', bytes: 0 });
    const manifest: BackupManifest = {
      formatVersion: FORMAT_VERSION, format: copy.format, flavor, version: before.version,
      cluster: { namespace: req.clusterNamespace, name: req.clusterName }, sourceIndex: req.sourceIndex, instanceId,
      time: req.time, startedAt: startedAt.toISOString(), finishedAt: finishedAt.toISOString(), gtid, binlogFile, base,
      host: hostname(),
    };
    if (signal.aborted) throw new MocoError('CANCELLED', 'the backup was cancelled');
    await bucket.putObject(`${dir}${MANIFEST}`, `${JSON.stringify(manifest, null, 2)}\n`,
      { contentType: 'application/json', signal });
    const done = new Date();
    log.info({ dumpBytes: base.size, binlogBytes: binlog?.size ?? 0, warnings }, 'backup complete');
    return {
      time: req.time, gtid, instanceId, binlogFile, dumpSize: base.size, binlogSize: binlog?.size ?? 0, workDirUsage: copy.workDirUsage,
      warnings, format: manifest.format, compression, startedAtMs: startedAt.getTime(), finishedAtMs: done.getTime(),
      manifestKey: `${dir}${MANIFEST}`,
    };
  } finally {
    bucket.close();
    release();
  }
}

/** The full copy of either flavor, as the manifest records it. */
interface BaseCopy {
  format: string;
  base: StoredObject;
  /** The GTID position (MariaDB) or set (MySQL) the copy ends at. */
  gtid: string;
  /** The binlog file the next backup's binlog archive starts from. */
  binlogFile: string;
  startedAt: Date;
  finishedAt: Date;
  workDirUsage: number;
}

/** MariaDB: mariadb-backup streamed straight into the upload. */
async function backupMariadb(agent: Agent, deps: BackupDeps, bucket: BucketClient, key: string, compression: Compression,
  signal: AbortSignal, executed: string, onProgress: (bytes: number) => void): Promise<BaseCopy> {
  const [master] = await agent.database().query('SHOW MASTER STATUS');
  const binlogFile = str(master?.File);
  const startedAt = new Date();
  const tool = await startBackupStream({
    mariadbBackup: deps.mariadbBackup, myCnfPath: agent.options.myCnfPath, socketPath: agent.options.socketPath,
    dataDir: agent.options.dataDir, user: 'moco-clone-donor', password: agent.options.passwords.cloneDonor,
  });
  const base = await uploadArchive(bucket, key, tool, { compression, signal, contentType: 'application/octet-stream', onProgress });
  const finishedAt = new Date();
  const toolGtid = tool.position()?.gtid ?? '';
  const gtid = formatGtid(mariadbMerge(parseGtid('mariadb', executed), parseGtid('mariadb', toolGtid)));
  return { format: 'mariadb-backup/xbstream', base, gtid, binlogFile, startedAt, finishedAt, workDirUsage: 0 };
}

/** MySQL: CLONE LOCAL DATA DIRECTORY next to the data directory, archived as tar (see mysql.ts). */
async function backupMysql(agent: Agent, bucket: BucketClient, key: string, compression: Compression, signal: AbortSignal,
  log: Logger, onProgress: (bytes: number) => void): Promise<BaseCopy> {
  const c = await backupMysqlBase(agent.database(), agent.options.dataDir, bucket, key, { compression, signal, log, onProgress });
  return {
    format: MYSQL_BACKUP_FORMAT, base: c.base, gtid: c.gtid, binlogFile: c.binlogFile, startedAt: c.startedAt,
    finishedAt: c.finishedAt, workDirUsage: c.workDirUsage,
  };
}

async function archiveBinlogs(agent: Agent, req: BackupRequest__Output, bucket: BucketClient, compression: Compression,
  signal: AbortSignal, onBytes: (n: number) => void, warnings: string[], flavor: Flavor, instanceId: string): Promise<StoredObject | undefined> {
  const db = agent.database();
  // Everything committed before this moment is in a file the flush closes.
  const coversUntil = new Date();
  await db.query('FLUSH BINARY LOGS');
  const after = await agent.readFlavorStatus();
  const sel = await selectBinlogs(db, flavor, req.previousBinlogFile, req.previousGtid);
  if (sel.gap) warnings.push(`some binlogs since the previous backup may be missing: ${sel.gap}`);
  if (sel.files.length === 0) return undefined;
  const dir = `${req.prefix}${req.previousTime}/`;
  const archive = await uploadArchive(bucket, `${dir}binlog.tar.${compressionSuffix(compression)}`, packFiles(sel.files, signal), {
    compression, signal, contentType: 'application/octet-stream', onProgress: onBytes,
  });
  const m: BinlogManifest = {
    formatVersion: FORMAT_VERSION, archive, files: sel.files.map((f) => f.slice(sel.dir.length + 1)),
    fromGtid: req.previousGtid, toGtid: after.executed, coversUntil: coversUntil.toISOString(),
    sourceIndex: req.sourceIndex, instanceId,
  };
  await bucket.putObject(`${dir}${BINLOG_MANIFEST}`, `${JSON.stringify(m, null, 2)}\n`, { contentType: 'application/json', signal });
  return archive;
}
