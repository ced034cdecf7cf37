/**
 * The coordinator's pure decision: observed state in, cluster state and the operation to run out. No I/O, no
 * clock. The order of checks and of configure's steps follows docs/clustering.md; the table tests
 * in test/unit/coordinator/decide.test.ts keep them in lock-step.
 */
import { errantSources, gtidContains, gtidUnion, isEmptyGtid, parseGtid, toIntervals, type Flavor, type Gtid } from '../gtid/index.ts';
import type { InstanceStatus, InstanceView, Observation } from './types.ts';
import type { ClusterState, Role } from '../api/types.ts';

export type Step =
  | { kind: 'publishRoles'; roles: Role[] }
  | { kind: 'sleep'; ms: number; why: string }
  | { kind: 'killConnections'; index: number }
  | { kind: 'stopReplicaIO'; index: number }
  | { kind: 'waitForGtid'; index: number; gtid: string; timeoutMs: number }
  | { kind: 'configurePrimary'; index: number; waitForReplicaCount: number }
  | { kind: 'setReadOnly'; index: number }
  | { kind: 'clone'; index: number; donor: number }
  /** `source`: an instance index, or 'external' (the replication source outside the cluster). */
  | { kind: 'configureReplica'; index: number; source: number | 'external'; semiSync: boolean }
  | { kind: 'setWritable'; index: number }
  | { kind: 'fail'; message: string };

export type Operation =
  | { kind: 'none' }
  | { kind: 'configure'; steps: Step[] }
  | { kind: 'switchover'; from: number; to: number }
  /** Copy the external source into the primary (the Cloning state). */
  | { kind: 'cloneExternal'; index: number }
  | { kind: 'failover'; from: number };

export interface Decision {
  state: ClusterState;
  primary: number;
  /** Errant replicas (recomputed while the primary answers, else the recorded list). */
  errant: number[];
  /** Replicas fit to take over in a switchover, the most caught-up first (ties: lowest index). */
  candidates: number[];
  /** Instances, other than the primary, whose sessions wait for semi-sync acks: their connections are killed. */
  hung: number[];
  /** A replica is further behind than maxDelaySecondsForPodDeletion: switchovers are held. */
  holdSwitchover: boolean;
  /** Ready instances, the primary included. */
  syncedReplicas: number;
  /** Why, in one sentence (for logs and the Healthy condition's message). */
  message: string;
  operation: Operation;
}

/** Tunables of configure; defaults as in the seed system. */
export interface DecideOptions {
  roleSettleMs?: number;
  /** How long a new primary may take to apply what it received before it becomes writable. */
  applyWaitMs?: number;
}

function waitCountFor(replicas: number): number {
  return Math.floor(replicas / 2);
}

/**
 * Replicas that must be observed (and not errant) before a failover may choose: with `acks` required per
 * commit and `r` replicas, at least one observed replica holds every acknowledged transaction iff
 * `observed >= r - acks + 1`. Unknown acks count as 1, the safe side.
 */
export function failoverQuorum(replicas: number, acks: number | undefined): number {
  const r = replicas - 1;
  return r - Math.max(1, Math.min(acks ?? 1, r)) + 1;
}

/**
 * The replicas a failover needs. An intermediate cluster acknowledges nothing (its writes come from the
 * external source, which keeps them; the new primary fetches what it lacks from there): one replica is enough.
 */
export function replicasNeededForFailover(obs: Pick<Observation, 'spec' | 'status'>): number {
  return isIntermediate(obs) ? Math.min(1, obs.spec.replicas - 1) : failoverQuorum(obs.spec.replicas, obs.status.semiSyncAcks);
}

/** The primary replicates from an external source and stays read-only. */
export function isIntermediate(obs: Pick<Observation, 'spec'>): boolean {
  return !!obs.spec.replicationSourceSecretName;
}

/** The primary replicates from the external source (the one the Secret names now). */
function replicatesFromExternal(obs: Observation, s: InstanceStatus): boolean {
  const src = obs.spec.replicationSource;
  const r = s.replica;
  return !!src && !!r && r.ioRunning && r.sourceHost === src.host && r.sourcePort === src.port;
}

/**
 * Errant sources that matter. In an intermediate cluster a replica may be ahead of the primary with the external
 * source's transactions (the primary fetches them from the source): only transactions that originated on a
 * member of this cluster make it errant.
 */
function errantIn(obs: Observation, flavor: Flavor, sources: string[]): boolean {
  if (!isIntermediate(obs)) return sources.length > 0;
  const base = obs.spec.serverIdBase;
  const uuids = new Set(obs.instances.map((i) => i.status?.gtidSourceId.toLowerCase()).filter((u) => !!u));
  return sources.some((src) => {
    if (flavor === 'mysql') return uuids.has(src.toLowerCase());
    const id = Number(src.split('-')[1]);
    return id >= base && id < base + obs.spec.replicas;
  });
}

function flavorOf(obs: Observation): Flavor | undefined {
  const f = obs.primaryFresh?.flavor ?? obs.instances.find((i) => i.status)?.status?.flavor;
  return f === 'mysql' || f === 'mariadb' ? f : undefined;
}

function gtid(flavor: Flavor, text: string | undefined): Gtid {
  return parseGtid(flavor, text ?? '');
}

function executedText(s: InstanceStatus | null | undefined): string {
  return s?.executed?.text ?? '';
}

/**
 * How many transactions an executed set holds, as a measure of how far a replica of one primary has applied: MySQL,
 * the sum of its intervals; MariaDB, per domain the highest sequence number (sequence numbers count per domain).
 * Unparsable or absent text counts as 0.
 */
function appliedCount(flavor: Flavor, s: InstanceStatus | null): bigint {
  let g: Gtid;
  try {
    g = gtid(flavor, executedText(s));
  } catch {
    return 0n;
  }
  if (g.flavor === 'mysql') return toIntervals(g).reduce((n, i) => n + i.end - i.start + 1n, 0n);
  const max = new Map<number, bigint>();
  for (const i of toIntervals(g)) if (i.end > (max.get(i.domain) ?? 0n)) max.set(i.domain, i.end);
  return [...max.values()].reduce((n, v) => n + v, 0n);
}

/**
 * Switchover candidates, the most caught-up first (ties: lowest index): the old primary stays read-only until the
 * target has applied everything, so a lagging target would make clients wait for its catch-up.
 */
function byProgress(flavor: Flavor | undefined, replicas: InstanceView[]): number[] {
  const count = new Map(replicas.map((i) => [i.index, flavor ? appliedCount(flavor, i.status) : 0n]));
  return replicas.map((i) => i.index).sort((a, b) => {
    const d = (count.get(b) ?? 0n) - (count.get(a) ?? 0n);
    return d > 0n ? 1 : d < 0n ? -1 : a - b;
  });
}

/** True when the replica's relay log may have been discarded (both threads stopped after receiving). */
export function receivedLost(s: InstanceStatus): boolean {
  const r = s.replica;
  return r !== null && (r.received?.text ?? '') !== '' && !r.receivedReliable;
}

/** What a failover may rely on this replica having: received plus executed while the relay log is intact. */
export function positionOf(flavor: Flavor, s: InstanceStatus): Gtid {
  const executed = gtid(flavor, executedText(s));
  const r = s.replica;
  if (!r || !r.receivedReliable || !r.received?.text) return executed;
  return gtidUnion(executed, gtid(flavor, r.received.text));
}

/**
 * Picks the failover candidate: the replica whose position contains every other's (ties: lowest index).
 * Returns an error message instead when positions diverge or nobody has a position.
 */
export function chooseFailoverCandidate(flavor: Flavor, replicas: Array<{ index: number; status: InstanceStatus }>):
  { index: number } | { error: string } {
  let best: { index: number; pos: Gtid } | undefined;
  for (const r of [...replicas].sort((a, b) => a.index - b.index)) {
    const pos = positionOf(flavor, r.status);
    if (isEmptyGtid(pos)) continue;
    if (!best || (gtidContains(pos, best.pos) && !gtidContains(best.pos, pos))) {
      if (best && !gtidContains(pos, best.pos)) return { error: `replicas ${best.index} and ${r.index} diverge; refusing to choose` };
      best = { index: r.index, pos };
    } else if (!gtidContains(best.pos, pos)) {
      return { error: `replicas ${best.index} and ${r.index} hold transactions the other lacks; refusing to choose` };
    }
  }
  return best ? { index: best.index } : { error: 'no replica holds any transaction; nothing to promote' };
}

function sameAddress(i: InstanceView, host: string, port: number): boolean {
  return i.address.host === host && i.address.port === port;
}

function replicatesFromPrimary(i: InstanceView, primary: InstanceView): boolean {
  const r = i.status?.replica;
  return !!r && sameAddress(primary, r.sourceHost, r.sourcePort);
}

/** SHOW REPLICAS rows whose server id belongs to this cluster (foreign replicas are ignored). */
function replicasInCluster(obs: Observation, pst: InstanceStatus): number {
  const base = obs.spec.serverIdBase;
  return pst.connectedReplicas.filter((c) => c.serverId >= base && c.serverId < base + obs.spec.replicas).length;
}

export function decide(obs: Observation, options: DecideOptions = {}): Decision {
  const { spec, status } = obs;
  const R = spec.replicas;
  const P = status.currentPrimaryIndex;
  const flavor = flavorOf(obs);
  // A hung non-primary counts as down (the primary itself waits for acks as a matter of course).
  const views = obs.instances.map((i) => (i.hung && i.index !== P ? { ...i, status: null } : i));
  const hung = obs.instances.filter((i) => i.hung && i.index !== P).map((i) => i.index);
  const primary = views[P];
  const pst = primary?.status ?? null;
  const fresh = pst ? obs.primaryFresh : null;
  const others = views.filter((i) => i.index !== P);
  const syncedReplicas = views.filter((i) => i.ready).length;

  // Errant replicas: recomputed from the fresh primary status, else remembered. Before the hung rule (as in the
  // seed): a hung ex-primary's unacknowledged commits make it errant even while it counts as down.
  let errant: number[];
  const primaryExecuted = executedText(fresh);
  if (flavor && fresh && primaryExecuted !== '') {
    errant = obs.instances.filter((i) => i.index !== P && i.status &&
      errantIn(obs, flavor, errantSources(flavor, executedText(i.status), primaryExecuted, fresh.gtidSourceId)))
      .map((i) => i.index);
  } else {
    errant = [...status.errantReplicaList];
  }
  const isErrant = (i: InstanceView): boolean => errant.includes(i.index);
  const lostData = fresh !== null && primaryExecuted === '' && !fresh.hasUserData &&
    others.some((i) => i.status && executedText(i.status) !== '');

  const holdSwitchover = spec.maxDelaySecondsForPodDeletion > 0 && others.some((i) => {
    const d = i.status?.replica?.secondsBehindSource;
    return d !== undefined && d !== null && d > spec.maxDelaySecondsForPodDeletion;
  });
  const base = { primary: P, errant, hung, holdSwitchover, syncedReplicas };
  const result = (state: ClusterState, message: string, operation: Operation = { kind: 'none' }, candidates: number[] = []): Decision =>
    ({ ...base, state, message, operation, candidates });

  if (spec.offline) return result('Offline', 'the cluster is offline');
  if (spec.restore && !status.restoredTime) return result('Restoring', 'waiting for the restore to finish');
  const intermediate = isIntermediate(obs);
  if (intermediate && !status.cloned &&
    (!pst || (pst.clone && pst.clone.state !== '' && pst.clone.state !== 'completed') || (!pst.clone?.state && executedText(pst) === ''))) {
    if (!spec.replicationSource) {
      return result('Cloning', `waiting for Secret "${spec.replicationSourceSecretName}" with the external source's HOST, PORT, USER and PASSWORD`);
    }
    if (!pst) return result('Cloning', `waiting for the primary ${P} to start before cloning from the external source`);
    if (pst.clone?.state === 'in_progress') {
      const mb = Math.round(Number(pst.clone.bytesTransferred) / 1e6);
      return result('Cloning', `cloning from the external source (${pst.clone.phase}${mb > 0 ? `, ${mb} MB` : ''})`);
    }
    const again = pst.clone?.state === 'failed' ? ` again (the last attempt failed: ${pst.clone.error})` : '';
    return result('Cloning', `cloning from the external source ${spec.replicationSource.host}:${spec.replicationSource.port}${again}`,
      { kind: 'cloneExternal', index: P });
  }
  if (!primary) return result('Lost', `currentPrimaryIndex ${P} is not an instance of this ${R}-instance cluster`);

  // An intermediate primary stays read-only; any other primary must be writable.
  const primaryWritableOk = pst !== null && pst.readOnly === intermediate;
  const externalOk = !intermediate || (pst !== null && replicatesFromExternal(obs, pst));
  const fitReplica = (i: InstanceView): boolean =>
    i.status !== null && !isErrant(i) && i.status.readOnly && replicatesFromPrimary(i, primary);

  // Healthy
  if (pst && primaryWritableOk && externalOk && views.every((i) => i.ready) && others.every(fitReplica) && replicasInCluster(obs, pst) === R - 1) {
    const candidates = byProgress(flavor, others);
    if (obs.switchoverRequested && !holdSwitchover && candidates.length > 0) {
      return result('Healthy', 'switchover requested', { kind: 'switchover', from: P, to: candidates[0] as number }, candidates);
    }
    return result('Healthy', 'every instance is ready and replicating', { kind: 'none' }, candidates);
  }
  // Degraded
  const ok = others.filter((i) => i.ready && fitReplica(i));
  if (pst && primary.ready && !lostData && primaryWritableOk && replicasInCluster(obs, pst) >= Math.floor(R / 2) &&
    ok.length >= Math.floor(R / 2) && (ok.length !== R - 1 || !externalOk)) {
    const candidates = byProgress(flavor, ok);
    if (obs.switchoverRequested && !holdSwitchover && candidates.length > 0) {
      return result('Degraded', 'switchover requested', { kind: 'switchover', from: P, to: candidates[0] as number }, candidates);
    }
    const why = ok.length !== R - 1 ? `${R - 1 - ok.length} replica(s) not ready or not replicating`
      : !spec.replicationSource ? `the primary cannot replicate from the external source: Secret "${spec.replicationSourceSecretName}" is missing`
      : 'the primary does not replicate from the external source';
    return result('Degraded', why,
      { kind: 'configure', steps: configureSteps(obs, views, errant, options) }, candidates);
  }
  // Primary down (or empty while replicas hold data).
  if (!pst || lostData) {
    // A witness is connected to the primary and has heard from it lately (an event or a heartbeat within two
    // heartbeat periods): a connection to a hung primary, or over a cut path, stays "connected" until the network
    // timeout, but goes silent at once.
    const witnesses = others.filter((i) => !isErrant(i) && i.status?.replica?.ioConnected === true && !i.status.replica.sourceSilent &&
      replicatesFromPrimary(i, primary));
    if (!pst && witnesses.length > 0) {
      return result('Degraded', `the primary ${P} does not answer, but replica ${witnesses.map((w) => w.index).join(', ')} still receives from it; not failing over`);
    }
    // A cluster that was never available, was not cloned or restored, and whose instances hold nothing yet is
    // starting: nothing can be lost.
    if (!pst && !status.availableOnce && !status.cloned && !status.restoredTime && others.every((i) => !i.status || (executedText(i.status) === '' && !i.status.hasUserData))) {
      return result('Incomplete', `waiting for the primary ${P} to start`);
    }
    const usable = others.filter((i) => i.status && i.status.replica && !isErrant(i) && executedText(i.status) !== '' && !receivedLost(i.status));
    const needed = replicasNeededForFailover(obs);
    if (R > 1 && usable.length >= needed) {
      return result('Failed', lostData ? `the primary ${P} lost its data` : `the primary ${P} does not answer`, { kind: 'failover', from: P });
    }
    return result('Lost', `the primary ${P} is down and only ${usable.length} of the ${needed} replica(s) needed to be sure no ` +
      'acknowledged transaction is lost can be observed; restore it, or restore the cluster from a backup');
  }
  return result('Incomplete', !primaryWritableOk ? (intermediate ? 'the primary is not read-only yet' : 'the primary is not writable yet')
    : !externalOk ? 'the primary does not replicate from the external source yet' : 'some instances are not ready or not replicating',
    { kind: 'configure', steps: configureSteps(obs, views, errant, options) });
}

/** configure, in the seed system's order (clustering.md). Assumes the primary answers. */
function configureSteps(obs: Observation, views: InstanceView[], errant: number[], options: DecideOptions): Step[] {
  const { spec, status } = obs;
  const R = spec.replicas;
  const P = status.currentPrimaryIndex;
  const primary = views[P] as InstanceView;
  const pst = primary.status as InstanceStatus;
  const flavor = pst.flavor as Flavor;
  const steps: Step[] = [];
  const isErrant = (i: number): boolean => errant.includes(i);
  const wanted = (i: InstanceView): Role => (i.index === P ? 'primary' : isErrant(i.index) ? '' : 'replica');

  // 1. Remove stale roles: a wrong role, or any role on an errant instance (reachable or not).
  const roles: Role[] = views.map((i) => i.role);
  const noRole: number[] = [];
  for (const i of views) {
    if (i.role !== '' && i.role === wanted(i)) continue;
    noRole.push(i.index);
    roles[i.index] = '';
  }
  if (views.some((i) => i.role !== roles[i.index])) steps.push({ kind: 'publishRoles', roles: [...roles] });
  // 2-3. Instances that will get a role: let routing settle, then cut their clients.
  const alive = noRole.filter((i) => views[i]?.status && !isErrant(i));
  if (alive.length > 0) {
    steps.push({ kind: 'sleep', ms: options.roleSettleMs ?? 300, why: 'let the endpoints drop the old roles' });
    for (const i of alive) steps.push({ kind: 'killConnections', index: i });
  }
  // 4. The primary: an intermediate one read-only and replicating from the external source (asynchronously);
  // any other stops replicating, applies what it received and waits for semi-sync acknowledgements.
  const intermediate = isIntermediate(obs);
  if (intermediate) {
    if (!pst.readOnly) steps.push({ kind: 'setReadOnly', index: P });
    if (spec.replicationSource && (!replicatesFromExternal(obs, pst) || pst.semiSync?.replicaEnabled)) {
      steps.push({ kind: 'configureReplica', index: P, source: 'external', semiSync: false });
    }
  } else {
    if (pst.replica?.ioRunning) steps.push({ kind: 'stopReplicaIO', index: P });
    // Only a received set that is still there to apply (a lost relay log would make this wait forever).
    const received = pst.replica?.receivedReliable ? pst.replica.received?.text ?? '' : '';
    if (received !== '' && !gtidContains(gtid(flavor, executedText(pst)), gtid(flavor, received))) {
      steps.push({ kind: 'waitForGtid', index: P, gtid: received, timeoutMs: options.applyWaitMs ?? 60_000 });
    }
    const w = R > 1 ? waitCountFor(R) : 0;
    const s = pst.semiSync;
    const semiOk = R > 1 ? !!s?.sourceEnabled && (s.waitForReplicaCount === w || s.waitForReplicaCount === status.semiSyncAcks) : !s?.sourceEnabled;
    if (!semiOk) steps.push({ kind: 'configurePrimary', index: P, waitForReplicaCount: w });
  }
  // 5. Each replica that answers.
  const primaryHasData = executedText(pst) !== '' || pst.hasUserData;
  for (const i of views) {
    if (i.index === P || !i.status) continue;
    const st = i.status;
    if (isErrant(i.index)) {
      if (st.replica?.ioRunning) steps.push({ kind: 'stopReplicaIO', index: i.index });
      if (!st.readOnly) steps.push({ kind: 'killConnections', index: i.index }, { kind: 'setReadOnly', index: i.index });
      continue;
    }
    if (!st.readOnly) steps.push({ kind: 'killConnections', index: i.index }, { kind: 'setReadOnly', index: i.index });
    if (executedText(st) === '' && !st.hasUserData && primaryHasData && !st.replica) {
      steps.push({ kind: 'clone', index: i.index, donor: P });
      continue;
    }
    const purged = pst.purged?.text ?? '';
    if (purged !== '' && !gtidContains(gtid(flavor, executedText(st)), gtid(flavor, purged))) {
      steps.push({ kind: 'fail', message: `primary ${P} has purged binary logs holding transactions ${purged} that instance ${i.index} ` +
        'still needs; re-initialize that instance (moco reinit) so it is cloned' });
      continue;
    }
    const r = st.replica;
    const semiSync = R > 1 && !intermediate;
    if (!r || !r.ioRunning || !sameAddress(primary, r.sourceHost, r.sourcePort) || st.semiSync?.replicaEnabled !== semiSync) {
      steps.push({ kind: 'configureReplica', index: i.index, source: P, semiSync });
    }
  }
  // 6. Publish roles for every instance that answers and is not errant.
  const final = [...roles];
  for (const i of views) if (i.status && !isErrant(i.index)) final[i.index] = wanted(i);
  if (final.some((r, k) => r !== roles[k])) steps.push({ kind: 'publishRoles', roles: final });
  // 7. Writable last (never an intermediate primary).
  if (pst.readOnly && !intermediate) steps.push({ kind: 'setWritable', index: P });
  return steps;
}
