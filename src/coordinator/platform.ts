/**
 * The platform port: everything the coordinator needs from where it runs, and nothing else. The local platform
 * (src/platform/local/platform.ts: a state directory stands in for the API server) implements it today; the
 * Kubernetes platform implements the same interface, and test/contract/platform.ts is the contract both pass.
 * docs/architecture.md ("The platform port") has the same table for readers of the docs.
 *
 * Status has two writers, each owning its fields ({@link STATUS_FIELDS}): the coordinator (clustering) and the
 * backup/restore runner (a Job on Kubernetes; the coordinator process locally). A writer reads the status with
 * its version, patches only its own fields against that version, and on {@link StatusConflictError} reads
 * again and recomputes ({@link updateStatus}), so neither can overwrite the other's update.
 */
import type { ClusterSpec } from '../api/spec.ts';
import { initialStatus, type ClusterStatus, type Role } from '../api/types.ts';
import type { StatusEvent } from '../shared/agent-client.ts';
import type { Clock } from '../shared/clock.ts';
import { MocoError } from '../shared/errors.ts';
import { retry } from '../shared/retry.ts';
import type { AgentApi } from './operations.ts';
import type { InstanceAddress } from './types.ts';

/** Who writes a status field. */
export type StatusOwner = 'coordinator' | 'backup';

export type CoordinatorStatusField =
  | 'conditions' | 'currentPrimaryIndex' | 'syncedReplicas' | 'errantReplicas' | 'errantReplicaList' | 'cloned' | 'state'
  | 'availableOnce' | 'semiSyncAcks' | 'lastFailover' | 'lastSwitchover' | 'lastCloneFailure';
export type BackupStatusField = 'backup' | 'lastBackupFailure' | 'restoredTime' | 'restore';

interface OwnedFieldNames {
  coordinator: CoordinatorStatusField;
  backup: BackupStatusField;
}

/** The fields each writer owns; no field has two owners, and a writer's patch may touch only its own. */
export const STATUS_FIELDS: { readonly [O in StatusOwner]: ReadonlyArray<OwnedFieldNames[O]> } = {
  coordinator: ['conditions', 'currentPrimaryIndex', 'syncedReplicas', 'errantReplicas', 'errantReplicaList', 'cloned', 'state',
    'availableOnce', 'semiSyncAcks', 'lastFailover', 'lastSwitchover', 'lastCloneFailure'],
  backup: ['backup', 'lastBackupFailure', 'restoredTime', 'restore'],
};

/**
 * A change to some of `O`'s fields. Each field given replaces the stored one whole (no deep merge); a field given
 * as `undefined` is removed.
 */
export type StatusPatch<O extends StatusOwner = StatusOwner> = { [K in OwnedFieldNames[O]]?: ClusterStatus[K] | undefined };

/** The status and its opaque version (Kubernetes: metadata.resourceVersion; locally a counter in status.json). */
export interface VersionedStatus {
  status: ClusterStatus;
  version: string;
}

/** The status changed since the version a patch was computed from: read it again and recompute. */
export class StatusConflictError extends MocoError {
  constructor(readonly expected: string, readonly actual: string) {
    super('FAILED_PRECONDITION', `the status changed since it was read (version ${expected}, now ${actual}); read it again and retry`,
      { retryable: true, details: { expected, actual } });
    this.name = 'StatusConflictError';
  }
}

export function isStatusConflict(err: unknown): err is StatusConflictError {
  return err instanceof StatusConflictError;
}

/** Throws INVALID_ARGUMENT unless every field of `patch` is owned by `owner` (checked before anything is written). */
export function checkOwned(owner: StatusOwner, patch: Record<string, unknown>): void {
  const own = STATUS_FIELDS[owner] as readonly string[];
  const foreign = Object.keys(patch).filter((k) => !own.includes(k));
  if (foreign.length > 0) {
    throw new MocoError('INVALID_ARGUMENT', `the ${owner} may not write status field(s) ${foreign.join(', ')}: they belong to another writer`);
  }
}

/** `status` with `patch` applied (pure): given fields replaced, fields given as undefined removed. */
export function applyStatusPatch(status: ClusterStatus, patch: StatusPatch): ClusterStatus {
  const next: Record<string, unknown> = { ...status };
  for (const [k, v] of Object.entries(patch)) {
    if (v === undefined) delete next[k];
    else next[k] = v;
  }
  return next as unknown as ClusterStatus;
}

/** Structural equality of JSON values (key order ignored). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  return ka.length === kb.length && ka.every((k) => jsonEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/** The patch that turns `prev`'s `owner` fields into `next`'s; undefined when they are equal (nothing to write). */
export function ownedChanges<O extends StatusOwner>(owner: O, prev: ClusterStatus, next: ClusterStatus): StatusPatch<O> | undefined {
  const patch: Record<string, unknown> = {};
  let changed = false;
  for (const k of STATUS_FIELDS[owner]) {
    if (jsonEqual(prev[k], next[k])) continue;
    patch[k] = next[k];
    changed = true;
  }
  return changed ? patch as StatusPatch<O> : undefined;
}

/** True when `a` and `b` agree on every field `owner` owns. */
export function sameOwnedFields(owner: StatusOwner, a: ClusterStatus, b: ClusterStatus): boolean {
  return ownedChanges(owner, a, b) === undefined;
}

/**
 * Where the status lives and how it is changed: the part of the port that a backup or restore runner needs too
 * (on Kubernetes it runs as a Job, in another process than the coordinator).
 */
export interface StatusStore {
  /**
   * The stored status (missing fields filled from {@link initialStatus}) and its version. Kubernetes: the
   * MySQLCluster's status subresource (from the informer cache, so possibly a little behind: a patch against it
   * may conflict, which the writer handles). Locally: status.json.
   */
  readStatus(): Promise<VersionedStatus>;
  /**
   * Changes `owner`'s fields to `patch`, only if the status is still at `version`; returns the new version.
   * Atomic against every other writer, in this process or another. Kubernetes: a JSON patch (a `test` of
   * metadata.resourceVersion, then replace/remove per field) on the status subresource, HTTP 409 becoming the
   * conflict. Locally: read-modify-write of status.json under a flock.
   * @throws StatusConflictError when the version moved (nothing written).
   * @throws MocoError INVALID_ARGUMENT when `patch` names a field `owner` does not own (nothing written).
   */
  patchStatus<O extends StatusOwner>(owner: O, patch: StatusPatch<O>, version: string): Promise<string>;
  /**
   * Optional hint: a patch will follow soon (the coordinator gives it during a failover's or switchover's wait,
   * before it records the new primary). Locally it starts taking the status lock ahead; Kubernetes has nothing to
   * prepare.
   */
  willPatch?(): void;
}

/** The status as a writer finds it: {@link initialStatus} for fields never written. */
export function withDefaults(stored: Partial<ClusterStatus> | undefined): ClusterStatus {
  return { ...initialStatus(), ...stored };
}

/**
 * Reads the status, lets `compute` derive `owner`'s patch from it (undefined: nothing to write), and patches;
 * on a conflict reads again and recomputes (up to `attempts` times, with a short jittered backoff). Returns the
 * status as written (or as read, when nothing was written).
 */
export async function updateStatus<O extends StatusOwner>(
  store: StatusStore, owner: O, compute: (current: ClusterStatus) => StatusPatch<O> | undefined,
  o: { attempts?: number; clock?: Clock; signal?: AbortSignal } = {},
): Promise<ClusterStatus> {
  return retry(async () => {
    const { status, version } = await store.readStatus();
    const patch = compute(status);
    if (!patch || Object.keys(patch).length === 0) return status;
    await store.patchStatus(owner, patch, version);
    return applyStatusPatch(status, patch);
  }, {
    backoff: { initialMs: 5, maxMs: 200, jitter: 0.5 }, attempts: o.attempts ?? 20, retryable: isStatusConflict,
    ...(o.clock ? { clock: o.clock } : {}), ...(o.signal ? { signal: o.signal } : {}),
  });
}

/** An agent as the coordinator reaches it: the RPCs of operations plus the status stream. */
export interface InstanceAgent extends AgentApi {
  /**
   * Opens the agent's status stream: `onEvent` for each message (changes, and a heartbeat every second), `onEnd`
   * once when it ends (with the error, if any). Returns a function that closes it (onEnd is then not called).
   */
  watchStatus(onEvent: (e: StatusEvent) => void, onEnd: (err: MocoError | undefined) => void): () => void;
}

/** The annotations the coordinator reads (moco.cybozu.com/clustering-stopped, reconciliation-stopped). */
export interface ClusterAnnotations {
  clusteringStopped?: boolean;
  reconciliationStopped?: boolean;
}

/**
 * The one port between the coordinator and a platform. Every method may be called at any time, from one cycle
 * of one manager at a time; all are idempotent. Errors are MocoErrors (a read that fails makes the manager skip
 * the cycle and try again at the next one).
 */
export interface ClusterPlatform extends StatusStore {
  /** The cluster's identity (metrics labels, logs). */
  readonly name: string;
  readonly namespace: string;
  /**
   * The normalized, validated spec, with the external source's credentials resolved from its Secret (absent while
   * the Secret is). Kubernetes: the MySQLCluster's spec (and the BackupPolicy and Secret it names). Locally:
   * the manifest as `moco up` last applied it (manifest.yaml).
   */
  readSpec(): Promise<ClusterSpec>;
  /**
   * Clustering / reconciliation stopped. Kubernetes: the moco.cybozu.com/clustering-stopped and
   * reconciliation-stopped annotations. Locally: annotations.json (moco stop/start).
   */
  readAnnotations(): Promise<ClusterAnnotations>;
  /**
   * Says the coordinator is alive and observed at `observedAt`: called after every observation, once the status
   * computed from it is stored (so a heartbeat newer than a moment means the status reflects an observation since).
   * An implementation may write less often. Kubernetes: renews a Lease (holderIdentity, renewTime). Locally:
   * run/coordinator-heartbeat.json ({pid, observedAt}), which moco status reads.
   */
  heartbeat(observedAt: Date): Promise<void>;
  /**
   * The role published for each of `replicas` instances ('' for none or unknown). Kubernetes: the
   * moco.cybozu.com/role Pod label. Locally: roles.json.
   */
  readRoles(replicas: number): Promise<Role[]>;
  /**
   * Publishes roles, which route the primary and replica endpoints. Kubernetes: the moco.cybozu.com/role Pod labels
   * (the primary and replica Services select on them). Locally: roles.json, which the endpoints process follows.
   */
  publishRoles(roles: Role[]): Promise<void>;
  /**
   * A switchover was asked for. Kubernetes: the moco.cybozu.com/demote annotation on the primary Pod, or the primary
   * Pod being deleted (deletionTimestamp). Locally: the file requests/switchover (moco switchover).
   */
  switchoverRequested(): Promise<boolean>;
  /** Marks the switchover request served (idempotent). Kubernetes: removes the demote annotation. Locally: the file. */
  clearSwitchoverRequest(): Promise<void>;
  /**
   * Whether the instance takes traffic (never throws: false when unknown). Kubernetes: the Pod's Ready condition
   * (the agent's /readyz as the readiness probe). Locally: the agent's /readyz, asked directly.
   */
  readiness(index: number): Promise<boolean>;
  /**
   * Where other instances reach the instance's mysqld (replication source) and its agent (clone donor).
   * Kubernetes: the Pod's IP from the informer cache. Locally: 127.0.0.1 and the ports in cluster.json.
   */
  address(index: number): InstanceAddress;
  /** The instance's agent (gRPC over mTLS with the coordinator's certificate on both platforms). */
  agent(index: number): InstanceAgent;
  /**
   * The cluster's passwords (user name variables to passwords), for a clone that re-creates the accounts.
   * Kubernetes: the Secret in the controller's namespace. Locally: the state directory's passwords/.
   */
  passwords(): Promise<Record<string, string>>;
  /**
   * Records an event about the cluster. Best effort: never throws, never blocks the caller; events appear in the
   * order recorded. Kubernetes: an Event on the MySQLCluster (reporter moco-controller). Locally: events.jsonl
   * (moco events).
   */
  event(type: 'Normal' | 'Warning', reason: string, message: string): void;
}
