/**
 * The backup and restore runners: what the seed system's backup CronJob and restore Job do, driven through
 * the agents. They pick the source (or the backup), call one agent's Backup or Restore stream, and return
 * what goes into the cluster's status. The platform (local coordinator, Kubernetes Job later) schedules them
 * and writes the status.
 */
import type { ClusterSpec } from '../api/spec.ts';
import type { BackupStatus } from '../api/types.ts';
import type { BucketConfig } from '../generated/moco/agent/v1/BucketConfig.ts';
import type { BackupRequest, BackupResult, InstanceStatus, Progress, RestoreRequest, RestoreResult } from '../shared/agent-client.ts';
import { failedPrecondition } from '../shared/errors.ts';
import { chooseBackupSource, chooseRestoreBackup, type BackupEntry, type PreviousBackup, type RestoreChoice } from './choose.ts';
import {
  BINLOG_MANIFEST, MANIFEST, clusterPrefix, formatKeyTime, groupBackups, isoSeconds, requireRestorePoint, type BackupManifest,
  type BinlogManifest,
} from './layout.ts';
import type { BucketClient, BucketTarget } from './storage/types.ts';

export type { BackupStatus };

export interface RunnerAgent {
  getStatus(o?: { timeoutMs?: number }): Promise<InstanceStatus>;
  backup(req: BackupRequest, onProgress: (p: Progress) => void, signal?: AbortSignal): Promise<BackupResult>;
  restore(req: RestoreRequest, onProgress: (p: Progress) => void, signal?: AbortSignal): Promise<RestoreResult>;
}

export interface BackupProgress extends Progress {
  sourceIndex: number;
}

export interface BackupRun {
  spec: Pick<ClusterSpec, 'name' | 'namespace' | 'replicas' | 'offline'>;
  primaryIndex: number;
  /** The previous `status.backup` (empty object or time null: none). */
  previous: Partial<BackupStatus> | undefined;
  target: BucketTarget;
  agent(index: number): RunnerAgent;
  ready(index: number): Promise<boolean>;
  signal: AbortSignal;
  onProgress?: (p: BackupProgress) => void;
  now?: () => Date;
}

export interface BackupOutcome {
  status: BackupStatus;
  manifestKey: string;
}

export function bucketConfigOf(t: BucketTarget): BucketConfig {
  return {
    backendType: t.backendType, bucket: t.bucket, region: t.region ?? '', endpointUrl: t.endpointURL ?? '',
    usePathStyle: t.usePathStyle ?? false, caCertPem: t.caCertPem ?? '', accessKeyId: t.credentials?.accessKeyId ?? '',
    secretAccessKey: t.credentials?.secretAccessKey ?? '', sessionToken: t.credentials?.sessionToken ?? '',
  };
}

const wholeSecond = (d: Date): Date => new Date(Math.floor(d.getTime() / 1000) * 1000);

/** Takes one backup of the cluster. Rejects (status unchanged) when it fails. */
export async function runClusterBackup(r: BackupRun): Promise<BackupOutcome> {
  if (r.spec.offline) throw failedPrecondition(`cluster ${r.spec.namespace}/${r.spec.name} is offline; start it before backing it up`);
  const now = r.now ?? (() => new Date());
  const candidates = await Promise.all(Array.from({ length: r.spec.replicas }, async (_, index) => {
    const [ready, status] = await Promise.all([
      r.ready(index).catch(() => false),
      r.agent(index).getStatus({ timeoutMs: 3000 }).catch(() => undefined),
    ]);
    return { index, ready: ready && status !== undefined, instanceId: status?.instanceId || undefined };
  }));
  const prev = r.previous?.time ? r.previous : undefined;
  const previous: PreviousBackup | undefined = prev
    ? { sourceIndex: prev.sourceIndex ?? 0, sourceUUID: prev.sourceUUID ?? '', uuidSet: prev.uuidSet }
    : undefined;
  const choice = chooseBackupSource(candidates, r.primaryIndex, previous);
  let start = wholeSecond(now());
  const previousTime = prev?.time ? formatKeyTime(new Date(prev.time)) : '';
  if (formatKeyTime(start) <= previousTime) start = new Date(Date.parse(prev?.time ?? '') + 1000);
  const time = formatKeyTime(start);
  const req: BackupRequest = {
    bucket: bucketConfigOf(r.target), prefix: clusterPrefix(r.spec.namespace, r.spec.name), time,
    previousTime: choice.binlog ? previousTime : '', previousGtid: choice.binlog ? prev?.gtidSet ?? '' : '',
    previousBinlogFile: choice.binlog && prev?.sourceIndex === choice.index ? prev.binlogFilename ?? '' : '',
    clusterNamespace: r.spec.namespace, clusterName: r.spec.name, sourceIndex: choice.index,
  };
  const result = await r.agent(choice.index).backup(req, (p) => r.onProgress?.({ ...p, sourceIndex: choice.index }), r.signal);
  const warnings = [...choice.warnings, ...result.warnings];
  return {
    manifestKey: result.manifestKey,
    status: {
      time: isoSeconds(start),
      elapsed: `${((now().getTime() - start.getTime()) / 1000).toFixed(1)}s`,
      sourceIndex: choice.index, sourceUUID: result.instanceId, uuidSet: choice.uuidSet, binlogFilename: result.binlogFile,
      gtidSet: result.gtid, dumpSize: Number(result.dumpSize), binlogSize: Number(result.binlogSize),
      workDirUsage: Number(result.workDirUsage), warnings: warnings.length > 0 ? warnings : null,
    },
  };
}

export interface RestoreRun {
  source: { name: string; namespace: string };
  restorePoint: string;
  target: BucketTarget;
  bucket: BucketClient;
  agent: RunnerAgent;
  /** This cluster's passwords (ADMIN_PASSWORD, ...). */
  passwords: Record<string, string>;
  signal: AbortSignal;
  onProgress?: (p: Progress) => void;
  now?: () => Date;
}

export interface RestoreOutcome {
  restoredTime: string;
  backupTime: string;
  binlogApplied: boolean;
  warnings: string[];
}

/** Lists the complete backups under a cluster prefix with their manifests. */
export async function listBackups(bucket: BucketClient, prefix: string, signal: AbortSignal): Promise<BackupEntry[]> {
  const listed = groupBackups(prefix, (await bucket.list(prefix, signal)).map((o) => o.key));
  const entries: BackupEntry[] = [];
  for (const b of listed.filter((x) => x.hasManifest)) {
    const text = await bucket.readText(`${prefix}${b.time}/${MANIFEST}`, signal);
    if (text === undefined) continue;
    const entry: BackupEntry = { manifest: JSON.parse(text) as BackupManifest };
    if (b.hasBinlog) {
      const bl = await bucket.readText(`${prefix}${b.time}/${BINLOG_MANIFEST}`, signal);
      if (bl !== undefined) entry.binlog = JSON.parse(bl) as BinlogManifest;
    }
    entries.push(entry);
  }
  return entries;
}

/** Which backup a restore would use; the same checks the restore runs first (bucket, listing, choice). */
export async function planRestore(bucket: BucketClient, source: { name: string; namespace: string }, restorePoint: string,
  signal: AbortSignal): Promise<RestoreChoice> {
  const point = requireRestorePoint(restorePoint);
  await bucket.check(signal);
  const prefix = clusterPrefix(source.namespace, source.name);
  const entries = await listBackups(bucket, prefix, signal);
  return chooseRestoreBackup(entries, point, `${bucket.describe()} under ${prefix}`);
}

/** Restores the newest suitable backup into the agent's (empty) instance. */
export async function runClusterRestore(r: RestoreRun): Promise<RestoreOutcome> {
  const point = requireRestorePoint(r.restorePoint);
  const prefix = clusterPrefix(r.source.namespace, r.source.name);
  const choice = await planRestore(r.bucket, r.source, r.restorePoint, r.signal);
  const result = await r.agent.restore({
    bucket: bucketConfigOf(r.target), prefix, time: choice.time, applyBinlog: choice.applyBinlog,
    restorePoint: isoSeconds(point), passwords: r.passwords,
  }, (p) => r.onProgress?.(p), r.signal);
  return {
    restoredTime: (r.now ?? (() => new Date()))().toISOString(),
    backupTime: choice.time, binlogApplied: result.binlogApplied, warnings: [...choice.warnings, ...result.warnings],
  };
}
