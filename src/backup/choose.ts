/**
 * The runners' pure decisions: which instance a backup is taken from (the seed system's rules, with the
 * instance identity the agents report), and which backup a restore point is restored from.
 */
import { failedPrecondition } from '../shared/errors.ts';
import type { BackupManifest, BinlogManifest } from './layout.ts';

export interface SourceCandidate {
  index: number;
  /** Ready (the Pod's Ready condition; locally the agent's /readyz). */
  ready: boolean;
  /** The identity the agent reports; undefined when its status could not be read. */
  instanceId?: string;
}

/** What the previous successful backup recorded (status.backup). */
export interface PreviousBackup {
  sourceIndex: number;
  sourceUUID: string;
  /** Ordinal (as a string) → identity of every instance readable at that backup. */
  uuidSet?: Record<string, string>;
}

export interface SourceChoice {
  index: number;
  /** Archive the binlogs since the previous backup from this instance. */
  binlog: boolean;
  /** Identities of the instances now (the next backup's continuity check). */
  uuidSet: Record<string, string>;
  warnings: string[];
}

/**
 * Picks the backup source. A first backup, or one after every instance was re-created, uses the lowest ready
 * replica (else the primary). Otherwise the source must be an instance whose identity is unchanged since the
 * previous backup (it still has the binlogs since then): the previous source unless it is now the primary,
 * else the lowest such replica, else the primary.
 * @throws FAILED_PRECONDITION when no instance is ready.
 */
export function chooseBackupSource(candidates: SourceCandidate[], primaryIndex: number, previous: PreviousBackup | undefined): SourceChoice {
  const uuidSet: Record<string, string> = {};
  for (const c of candidates) if (c.ready && c.instanceId) uuidSet[String(c.index)] = c.instanceId;
  const fallback = (): number => {
    const replica = candidates.filter((c) => c.ready && c.index !== primaryIndex).sort((a, b) => a.index - b.index)[0];
    if (replica) return replica.index;
    if (candidates.some((c) => c.ready && c.index === primaryIndex)) return primaryIndex;
    throw failedPrecondition('no ready instance to take a backup from; wait until the cluster is available');
  };
  if (!previous) return { index: fallback(), binlog: false, uuidSet, warnings: [] };
  const before = previous.uuidSet && Object.keys(previous.uuidSet).length > 0
    ? previous.uuidSet
    : { [String(previous.sourceIndex)]: previous.sourceUUID };
  const unchanged = Object.entries(uuidSet)
    .filter(([i, id]) => before[i] !== undefined && before[i] === id)
    .map(([i]) => Number(i))
    .sort((a, b) => a - b);
  if (unchanged.length === 0) {
    return {
      index: fallback(), binlog: false, uuidSet,
      warnings: ['skip binlog backups because some binlog files may be missing (every instance was re-created or is not ready since the previous backup)'],
    };
  }
  if (unchanged.includes(previous.sourceIndex) && previous.sourceIndex !== primaryIndex) {
    return { index: previous.sourceIndex, binlog: true, uuidSet, warnings: [] };
  }
  const replica = unchanged.find((i) => i !== primaryIndex);
  return { index: replica ?? primaryIndex, binlog: true, uuidSet, warnings: [] };
}

export interface BackupEntry {
  manifest: BackupManifest;
  binlog?: BinlogManifest;
}

export interface RestoreChoice {
  time: string;
  applyBinlog: boolean;
  warnings: string[];
}

/**
 * Picks the newest complete backup whose copy ended at or before the restore point (a copy that ended after
 * it may hold later transactions), and whether its binlog archive is replayed.
 * @param entries complete backups (with manifest.json), any order.
 * @throws FAILED_PRECONDITION when there is no backup, or the point is before the earliest one.
 */
export function chooseRestoreBackup(entries: BackupEntry[], point: Date, where: string): RestoreChoice {
  const sorted = [...entries].sort((a, b) => a.manifest.time.localeCompare(b.manifest.time));
  if (sorted.length === 0) {
    throw failedPrecondition(`no complete backup found in ${where}; check sourceName, sourceNamespace and the bucket`);
  }
  const usable = sorted.filter((e) => Date.parse(e.manifest.finishedAt) <= point.getTime());
  const chosen = usable[usable.length - 1];
  if (!chosen) {
    const first = sorted[0] as BackupEntry;
    throw failedPrecondition(`restore point ${point.toISOString()} is before the earliest complete backup in ${where} ` +
      `(taken at ${first.manifest.startedAt}, finished at ${first.manifest.finishedAt}); choose a later restorePoint`);
  }
  const warnings: string[] = [];
  const m = chosen.manifest;
  if (!chosen.binlog) {
    if (point.getTime() > Date.parse(m.finishedAt)) {
      warnings.push(`the binlogs after the backup ${m.time} (finished at ${m.finishedAt}) are not archived yet ` +
        `(the next backup archives them): transactions between then and ${point.toISOString()} are not restored`);
    }
    return { time: m.time, applyBinlog: false, warnings };
  }
  if (point.getTime() > Date.parse(chosen.binlog.coversUntil)) {
    warnings.push(`the archived binlogs of ${m.time} end at ${chosen.binlog.coversUntil}: ` +
      `transactions between then and ${point.toISOString()} are not restored`);
  }
  return { time: m.time, applyBinlog: true, warnings };
}
