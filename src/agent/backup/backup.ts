/**
 * Backup (agent side): a full physical copy of this instance streamed to object storage, then the binlogs
 * since the previous backup, then manifest.json last. MariaDB: mariadb-backup's xbstream, compressed on the
 * way; it restores fastest (no re-insert, no index rebuild) and carries the consistent binlog position.
 */
import { hostname } from 'node:os';
import { MocoError, failedPrecondition, messageOf } from '../../shared/errors.ts';
import type { Logger } from '../../shared/logger.ts';
import { mariadbMerge, parseGtid, formatGtid } from '../../gtid/index.ts';
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
  const adapter = await agent.flavor();
  if (adapter.flavor !== 'mariadb') {
    throw failedPrecondition('backups of MySQL instances are not implemented yet in this version (MariaDB only)');
  }
  const release = acquireExclusive(agent, 'a backup');
  const bucket = deps.openBucket(target);
  const log = deps.log.child({ backup: req.time });
  try {
    await bucket.check(signal);
    const before = await agent.readFlavorStatus();
    const [master] = await agent.database().query('SHOW MASTER STATUS');
    const binlogFile = str(master?.File);
    const instanceId = await readInstanceId(agent.options.dataDir);
    const startedAt = new Date();
    const dir = `${req.prefix}${req.time}/`;
    log.info({ bucket: bucket.describe(), dir, compression }, 'backup started');

    // 1. The full copy, streamed.
    const tool = await startBackupStream({
      mariadbBackup: deps.mariadbBackup, myCnfPath: agent.options.myCnfPath, socketPath: agent.options.socketPath,
      dataDir: agent.options.dataDir, user: 'moco-clone-donor', password: agent.options.passwords.cloneDonor,
    });
    const base = await uploadArchive(bucket, `${dir}base.xbstream.${compressionSuffix(compression)}`, tool, {
      compression, signal, contentType: 'application/octet-stream',
      onProgress: (bytes) => progress({ phase: 'backup', bytes }),
    });
    const finishedAt = new Date();
    const toolGtid = tool.position()?.gtid ?? '';
    const gtid = formatGtid(mariadbMerge(parseGtid('mariadb', before.executed), parseGtid('mariadb', toolGtid)));
    log.info({ bytes: base.size, gtid, ms: finishedAt.getTime() - startedAt.getTime() }, 'full backup stored');

    // 2. The binlogs since the previous backup (a failure here leaves a gap, not a failed backup).
    const warnings: string[] = [];
    let binlog: StoredObject | undefined;
    if (req.previousTime !== '') {
      try {
        binlog = await archiveBinlogs(agent, req, bucket, compression, signal, (bytes) => progress({ phase: 'binlog', bytes }), warnings);
      } catch (err) {
        if (signal.aborted) throw err;
        warnings.push(`failed to back up binary logs: ${messageOf(err)}`);
        log.warn({ err }, 'binlog backup failed');
      }
    }

    // 3. manifest.json, last.
    progress({ phase: 'manifest', bytes: 0 });
    const manifest: BackupManifest = {
      formatVersion: FORMAT_VERSION, format: 'mariadb-backup/xbstream', flavor: 'mariadb', version: before.version,
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
      time: req.time, gtid, instanceId, binlogFile, dumpSize: base.size, binlogSize: binlog?.size ?? 0, workDirUsage: 0,
      warnings, format: manifest.format, compression, startedAtMs: startedAt.getTime(), finishedAtMs: done.getTime(),
      manifestKey: `${dir}${MANIFEST}`,
    };
  } finally {
    bucket.close();
    release();
  }
}

async function archiveBinlogs(agent: Agent, req: BackupRequest__Output, bucket: BucketClient, compression: Compression,
  signal: AbortSignal, onBytes: (n: number) => void, warnings: string[]): Promise<StoredObject | undefined> {
  const db = agent.database();
  // Everything committed before this moment is in a file the flush closes.
  const coversUntil = new Date();
  await db.query('FLUSH BINARY LOGS');
  const after = await agent.readFlavorStatus();
  const sel = await selectBinlogs(db, 'mariadb', req.previousBinlogFile, req.previousGtid);
  if (sel.gap) warnings.push(`some binlogs since the previous backup may be missing: ${sel.gap}`);
  if (sel.files.length === 0) return undefined;
  const dir = `${req.prefix}${req.previousTime}/`;
  const archive = await uploadArchive(bucket, `${dir}binlog.tar.${compressionSuffix(compression)}`, packFiles(sel.files, signal), {
    compression, signal, contentType: 'application/octet-stream', onProgress: onBytes,
  });
  const m: BinlogManifest = {
    formatVersion: FORMAT_VERSION, archive, files: sel.files.map((f) => f.slice(sel.dir.length + 1)),
    fromGtid: req.previousGtid, toGtid: after.executed, coversUntil: coversUntil.toISOString(),
    sourceIndex: req.sourceIndex, instanceId: await readInstanceId(agent.options.dataDir),
  };
  await bucket.putObject(`${dir}${BINLOG_MANIFEST}`, `${JSON.stringify(m, null, 2)}\n`, { contentType: 'application/json', signal });
  return archive;
}
