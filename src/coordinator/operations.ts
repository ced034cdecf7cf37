/**
 * The coordinator's side effects: configure's steps, switchover and failover, each in the documented order,
 * through the agents' RPCs and the platform adapter only. Every step is idempotent on the agent side; the
 * first failure aborts the operation and the next observation starts over.
 */
import type { Flavor } from '../gtid/index.ts';
import { MocoError, messageOf } from '../shared/errors.ts';
import { sleep } from '../shared/abort.ts';
import type { InstanceStatus } from '../shared/agent-client.ts';
import type { ReplicationSource } from '../api/spec.ts';
import { chooseFailoverCandidate, receivedLost, replicasNeededForFailover, type Step } from './decide.ts';
import type { InstanceAddress, Observation } from './types.ts';
import type { Role } from '../api/types.ts';

/** The agent RPCs the coordinator uses (AgentClient implements it; unit tests use a fake). */
export interface AgentApi {
  getStatus(o?: { timeoutMs?: number }): Promise<InstanceStatus>;
  configurePrimary(waitForReplicaCount: number): Promise<{ changed: boolean; effectiveWaitCount: number }>;
  configureReplica(req: { sourceHost: string; sourcePort: number; semiSync: boolean; user?: string; password?: string }): Promise<{ changed: boolean }>;
  stopReplicaIO(): Promise<{ changed: boolean }>;
  waitForGtid(gtidSet: string, timeoutMs: number): Promise<{ waitedMs: number }>;
  setReadOnly(o?: { timeoutMs?: number }): Promise<{ changed: boolean }>;
  setWritable(): Promise<{ changed: boolean }>;
  killConnections(): Promise<{ killed: number }>;
  clone(req: {
    donorAgentAddress: string; donorHost: string; donorPort: number; bootTimeoutSeconds: number;
    donorUser?: string; donorPassword?: string; initUser?: string; initPassword?: string; passwords?: Record<string, string>;
  }): Promise<{ durationMs: number }>;
}

/**
 * What operations change besides the agents. Not a platform seam (that is ClusterPlatform, platform.ts): the
 * manager implements it, through the platform for roles, the switchover request and events, and through its own
 * status writes for the primary index and the acknowledgement count.
 */
export interface OperationEffects {
  publishRoles(roles: Role[]): Promise<void>;
  /** Records the new primary (the commit point of a switchover or failover); throws if it could not be recorded. */
  setPrimaryIndex(index: number, why: 'switchover' | 'failover'): Promise<void>;
  /** Removes the switchover request (the demote annotation) once served. */
  clearSwitchoverRequest(): Promise<void>;
  event(type: 'Normal' | 'Warning', reason: string, message: string): void;
  recordSemiSyncAcks(acks: number): Promise<void>;
  /**
   * setPrimaryIndex follows soon: the status store may prepare its write now (locally: start taking its lock).
   * Called where the operation waits anyway (the fence's settle, the read-only switch's pause), so that what the
   * preparation costs does not delay the operation.
   */
  prepareCommit?(): void;
}

export interface OperationTimings {
  /** Switchover: wait for read-only before killing connections (seed: PreStop/2 = 10 s). */
  readOnlyWaitMs: number;
  /** Switchover and failover: wait for the candidate to apply what it must have (seed: 50 s). */
  gtidWaitMs: number;
  /** Failover: pause after the fence before observing again (seed: 100 ms). */
  fenceSettleMs: number;
  /** Clone: mysqld boot timeout on the recipient. */
  cloneBootSeconds: number;
}

export const DEFAULT_TIMINGS: OperationTimings = { readOnlyWaitMs: 10_000, gtidWaitMs: 50_000, fenceSettleMs: 100, cloneBootSeconds: 600 };

/** Everything an operation uses; the manager builds one for its lifetime. */
export interface Executor {
  agents: (index: number) => AgentApi;
  addresses: (index: number) => InstanceAddress;
  platform: OperationEffects;
  timings: OperationTimings;
  /** The external replication source (spec.replicationSource, as last read), when the cluster replicates from one. */
  external: () => ReplicationSource | undefined;
  /** This cluster's passwords (a MySQL clone from an external source re-creates the accounts with them). */
  passwords: () => Promise<Record<string, string>>;
  /** Called when a step made an instance writable (ends a write-unavailability window). */
  onWritable?: (index: number) => void;
  /** Waits `ms` (default: real time); the manager passes its clock's. */
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Runs configure's steps in order; returns whether anything changed. A `fail` step (one replica cannot be
 * configured) does not hold up the others: it is thrown after the remaining steps ran.
 */
export async function runSteps(ex: Executor, steps: Step[]): Promise<boolean> {
  const wait = ex.sleep ?? sleep;
  let changed = false;
  const failures: string[] = [];
  for (const step of steps) {
    const a = 'index' in step ? ex.agents(step.index) : undefined;
    switch (step.kind) {
      case 'publishRoles':
        await ex.platform.publishRoles(step.roles);
        changed = true;
        break;
      case 'sleep':
        await wait(step.ms);
        break;
      case 'killConnections':
        await a?.killConnections();
        break;
      case 'stopReplicaIO':
        changed = (await a!.stopReplicaIO()).changed || changed;
        break;
      case 'waitForGtid':
        await a!.waitForGtid(step.gtid, step.timeoutMs);
        changed = true;
        break;
      case 'configurePrimary': {
        const r = await a!.configurePrimary(step.waitForReplicaCount);
        if (step.waitForReplicaCount > 0) await ex.platform.recordSemiSyncAcks(r.effectiveWaitCount);
        changed = r.changed || changed;
        break;
      }
      case 'setReadOnly':
        changed = (await a!.setReadOnly()).changed || changed;
        break;
      case 'clone': {
        const donor = ex.addresses(step.donor);
        try {
          await a!.clone({ donorAgentAddress: donor.agent, donorHost: donor.host, donorPort: donor.port, bootTimeoutSeconds: ex.timings.cloneBootSeconds });
        } catch (err) {
          ex.platform.event('Warning', 'CloneFailed', `Clone from the primary failed for instance ${step.index}: ${messageOf(err)}`);
          throw err;
        }
        ex.platform.event('Normal', 'Cloned', `Clone from the primary succeeded for instance ${step.index}`);
        changed = true;
        break;
      }
      case 'configureReplica': {
        if (step.source === 'external') {
          const src = ex.external();
          if (!src) throw new MocoError('FAILED_PRECONDITION', 'the external source is not known (its Secret is missing)');
          const req = { sourceHost: src.host, sourcePort: src.port, user: src.user, password: src.password, semiSync: false };
          changed = (await a!.configureReplica(req)).changed || changed;
          break;
        }
        const src = ex.addresses(step.source);
        changed = (await a!.configureReplica({ sourceHost: src.host, sourcePort: src.port, semiSync: step.semiSync })).changed || changed;
        break;
      }
      case 'setWritable':
        if ((await a!.setWritable()).changed) {
          ex.platform.event('Normal', 'Writable', 'The primary became writable');
          ex.onWritable?.(step.index);
        }
        changed = true;
        break;
      case 'fail':
        failures.push(step.message);
        break;
    }
  }
  if (failures.length > 0) throw new MocoError('FAILED_PRECONDITION', failures.join('; '));
  return changed;
}

/**
 * The Cloning state: copy the external source into the primary (events InitCloned / InitCloneFailed, as in the
 * seed system). The boot timeout is spec.startupWaitSeconds.
 */
export async function cloneExternal(ex: Executor, index: number, bootTimeoutSeconds: number): Promise<void> {
  const src = ex.external();
  if (!src) throw new MocoError('FAILED_PRECONDITION', 'the external source is not known (its Secret is missing)');
  try {
    await ex.agents(index).clone({
      donorAgentAddress: '', donorHost: src.host, donorPort: src.port, donorUser: src.user, donorPassword: src.password,
      bootTimeoutSeconds,
      ...(src.initUser ? { initUser: src.initUser, initPassword: src.initPassword ?? '', passwords: await ex.passwords() } : {}),
    });
  } catch (err) {
    ex.platform.event('Warning', 'InitCloneFailed', `Clone from the external source ${src.host}:${src.port} failed for instance ${index}: ${messageOf(err)}`);
    throw err;
  }
  ex.platform.event('Normal', 'InitCloned', `Clone from the external source ${src.host}:${src.port} succeeded for instance ${index}`);
}

/**
 * Right after a new primary is recorded: its role is published at once (and the old primary's taken away), and
 * the user connections on it are ended (readers that came through the replica endpoint). Routing follows roles
 * with a delay of its own (on Kubernetes the Endpoints and then kube-proxy, which rewrites its rules at most once
 * a second by default), so it now runs while configure prepares the new primary instead of after it. Safe: a role
 * only routes clients; the new primary stays read-only until configure's last step, so a client that arrives early
 * gets a read-only error and retries. Best effort: configure publishes the same roles if this fails.
 */
async function routeToNewPrimary(ex: Executor, roles: readonly Role[], from: number, to: number): Promise<void> {
  const next = [...roles];
  if (next[from] === 'primary') next[from] = '';
  next[to] = 'primary';
  try {
    if (next.some((r, i) => r !== roles[i])) await ex.platform.publishRoles(next);
    await ex.agents(to).killConnections();
  } catch {
    // configure's first step publishes the roles again and ends the connections of every instance whose role changed.
  }
}

/**
 * Before a switchover fences the primary: while it still takes writes, the candidate applies what the primary
 * had executed when the switchover began (bounded by gtidWaitMs; a candidate that cannot catch up in time is
 * switched to anyway, as before). Clients cannot write from the fence until the candidate has applied
 * everything, so a candidate that lags (one that just restarted, say) would otherwise make that wait theirs.
 */
async function catchUpFirst(ex: Executor, from: number, to: number): Promise<void> {
  try {
    const executed = (await ex.agents(from).getStatus()).executed?.text ?? '';
    if (executed !== '') await ex.agents(to).waitForGtid(executed, ex.timings.gtidWaitMs);
  } catch {
    // Best effort: the switchover's own steps fail, or wait, as they would have without this.
  }
}

/**
 * Switchover: the candidate first catches up while the primary still takes writes (catchUpFirst); then the old
 * primary read-only (connections killed if that takes longer than readOnlyWaitMs), its
 * connections killed again, the candidate waits for the old primary's executed set, then the new index is
 * recorded and the roles moved (routeToNewPrimary). The next configure makes the candidate writable.
 * `roles`: the roles as observed before the switchover.
 */
export async function switchover(ex: Executor, from: number, to: number, roles: readonly Role[], intermediate = false): Promise<void> {
  const wait = ex.sleep ?? sleep;
  const old = ex.agents(from);
  try {
    // An intermediate primary stops fetching from the external source first, so that what the candidate
    // waits for is final; the candidate fetches the rest from the source once it is the primary.
    if (intermediate) await old.stopReplicaIO();
    await catchUpFirst(ex, from, to);
    const ro = old.setReadOnly({ timeoutMs: ex.timings.readOnlyWaitMs * 3 });
    const first = await Promise.race([ro.then(() => 'done' as const), wait(ex.timings.readOnlyWaitMs).then(() => 'slow' as const)]);
    if (first === 'slow') await old.killConnections();
    await ro;
    ex.platform.prepareCommit?.();
    await wait(100);
    await old.killConnections();
    const st = await old.getStatus();
    const executed = st.executed?.text ?? '';
    if (executed !== '') await ex.agents(to).waitForGtid(executed, ex.timings.gtidWaitMs);
    await ex.platform.setPrimaryIndex(to, 'switchover');
    await routeToNewPrimary(ex, roles, from, to);
  } catch (err) {
    await old.killConnections().catch(() => undefined);
    ex.platform.event('Warning', 'SwitchOverFailed', `The primary could not be changed: ${messageOf(err)}`);
    throw err;
  }
  await ex.platform.clearSwitchoverRequest();
  ex.platform.event('Normal', 'SwitchOver', `The primary was changed to instance ${to} due to a switchover`);
}

/**
 * Failover: fence first (stop every reachable replica's receiver, so the old primary can collect no more
 * acknowledgements), observe again, choose the replica holding every other's transactions, wait until it has
 * applied what it received, record it as primary and move the roles (routeToNewPrimary). No replica is
 * restarted or re-pointed before that.
 */
export async function failover(ex: Executor, obs: Observation, errant: number[]): Promise<number> {
  const P = obs.status.currentPrimaryIndex;
  try {
    const reachable = obs.instances.filter((i) => i.index !== P && i.status && !i.hung);
    await Promise.all(reachable.map((i) => ex.agents(i.index).stopReplicaIO()));
    ex.platform.prepareCommit?.();
    await (ex.sleep ?? sleep)(ex.timings.fenceSettleMs);
    const fresh = await Promise.all(reachable.filter((i) => !errant.includes(i.index))
      .map(async (i) => ({ index: i.index, status: await ex.agents(i.index).getStatus() })));
    const flavor = fresh[0]?.status.flavor as Flavor | undefined;
    const usable = fresh.filter((f) => f.status.replica && (f.status.executed?.text ?? '') !== '' && !receivedLost(f.status));
    const needed = replicasNeededForFailover(obs);
    if (!flavor || usable.length < needed) {
      throw new MocoError('FAILED_PRECONDITION', `only ${usable.length} of the ${needed} replicas needed can be observed after the fence`);
    }
    const choice = chooseFailoverCandidate(flavor, usable);
    if ('error' in choice) throw new MocoError('FAILED_PRECONDITION', choice.error);
    const cand = usable.find((u) => u.index === choice.index) as (typeof usable)[number];
    const received = cand.status.replica?.receivedReliable ? cand.status.replica.received?.text ?? '' : '';
    if (received !== '') await ex.agents(choice.index).waitForGtid(received, ex.timings.gtidWaitMs);
    await ex.platform.setPrimaryIndex(choice.index, 'failover');
    await routeToNewPrimary(ex, obs.instances.map((i) => i.role), P, choice.index);
    ex.platform.event('Normal', 'FailOver', `The primary was changed to instance ${choice.index} due to a failover`);
    return choice.index;
  } catch (err) {
    ex.platform.event('Warning', 'FailOverFailed', `The primary could not be changed: ${messageOf(err)}`);
    throw err;
  }
}
