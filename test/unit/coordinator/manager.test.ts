/**
 * ClusterManager, the loop around decide: a fake clock and timers, the fake agents of the operations tests made
 * to behave like a small cluster (configure changes what they report), and the in-memory platform (which passes
 * the platform contract). What is checked: the push path (a stream that ends is confirmed at once), a hung
 * instance's deadline, the clone retry delay, redo, stopped clustering, a restart from the stored status, why an
 * instance is unobserved, and status writes (only owned fields, only when changed, conflicts retried).
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { afterEach, describe, it } from 'node:test';
import type { ClusterSpec } from '../../../src/api/spec.ts';
import type { ClusterStatus, Role } from '../../../src/api/types.ts';
import { ClusterManager } from '../../../src/coordinator/manager.ts';
import { CoordinatorMetrics } from '../../../src/coordinator/metrics.ts';
import type { InstanceStatus } from '../../../src/coordinator/types.ts';
import { MocoError } from '../../../src/shared/errors.ts';
import { createLogger } from '../../../src/shared/logger.ts';
import { FakeClock, settle } from '../../helpers/fake-clock.ts';
import { MemoryPlatform } from '../../helpers/memory-platform.ts';
import { SERVER_ID_BASE, SEMI_SYNC_REPLICA, mysqlGtid, primaryStatus, replicaOfStatus, replicaStatus, spec as specOf, status } from './builders.ts';
import { World } from './fake-agents.ts';

const POLL = 1000;
const EXTERNAL = { host: 'source.example', port: 3307, user: 'donor', password: 'pw' };

/**
 * Makes the fake agents behave like mysqld under the agent: configure, writable/read-only and the replication
 * RPCs change what getStatus reports, so that the manager's loop converges the way it does on a real cluster.
 */
function simulate(w: World, replicas: number): void {
  const get = (i: number): InstanceStatus => {
    const s = w.statuses.get(i);
    if (!s) throw new MocoError('MYSQLD_UNAVAILABLE', `instance ${i} does not answer`);
    return s;
  };
  const set = (i: number, change: Partial<InstanceStatus>): void => {
    w.statuses.set(i, { ...get(i), ...change });
    // SHOW REPLICAS on every instance: who replicates from it now.
    for (let p = 0; p < replicas; p++) {
      const ps = w.statuses.get(p);
      if (!ps) continue;
      const conn = [...w.statuses.entries()].filter(([, s]) => s.replica?.ioRunning && s.replica.sourcePort === 13306 + p)
        .map(([k]) => ({ serverId: SERVER_ID_BASE + k, host: '127.0.0.1', port: 13306 + k }));
      w.statuses.set(p, { ...ps, connectedReplicas: conn });
    }
  };
  for (let i = 0; i < replicas; i++) {
    w.on(i, {
      configurePrimary: async (n) => {
        set(i, { replica: null, semiSync: { ...get(i).semiSync!, sourceEnabled: n > 0, replicaEnabled: false, waitForReplicaCount: n, sourceActive: n > 0 } });
        return { changed: true, effectiveWaitCount: n };
      },
      configureReplica: async (req) => {
        const from = req.sourcePort - 13306;
        const source = w.statuses.get(from);
        set(i, {
          replica: replicaStatus({ from, sourceHost: req.sourceHost, sourcePort: req.sourcePort }),
          semiSync: { ...get(i).semiSync!, sourceEnabled: false, replicaEnabled: req.semiSync },
          ...(source ? { executed: source.executed } : {}),
        });
        return { changed: true };
      },
      stopReplicaIO: async () => {
        const r = get(i).replica;
        if (!r?.ioRunning) return { changed: false };
        set(i, { replica: { ...r, ioRunning: false, ioConnected: false, ioState: '' } });
        return { changed: true };
      },
      setWritable: async () => {
        if (!get(i).readOnly) return { changed: false };
        set(i, { readOnly: false });
        return { changed: true };
      },
      setReadOnly: async () => {
        if (get(i).readOnly) return { changed: false };
        set(i, { readOnly: true });
        return { changed: true };
      },
    });
  }
}

interface Rig {
  clock: FakeClock;
  world: World;
  platform: MemoryPlatform;
  metrics: CoordinatorMetrics;
  manager: ClusterManager;
  logs: Array<{ level: number; msg: string; [k: string]: unknown }>;
  /** Waits `n` poll intervals, plus 100 ms for the short waits of the last cycle's operation (fence, role settle). */
  polls(n?: number): Promise<void>;
  /** Kills instance `index`'s mysqld and agent: no status, stream ended, not ready; replicas lose their source. */
  kill(index: number): void;
}

const rigs: Rig[] = [];
afterEach(async () => {
  for (const r of rigs.splice(0)) {
    const stopping = r.manager.stop();
    await r.clock.advance(60_000);
    await stopping;
  }
});

function rig(o: {
  replicas: number; statuses: InstanceStatus[]; roles?: Role[]; spec?: Partial<ClusterSpec>; status?: Partial<ClusterStatus>;
  platform?: MemoryPlatform; world?: World; clock?: FakeClock;
}): Rig {
  const clock = o.clock ?? new FakeClock();
  const world = o.world ?? new World();
  world.clock = clock;
  if (!o.world) {
    o.statuses.forEach((s, i) => world.statuses.set(i, s));
    simulate(world, o.replicas);
  }
  const platform = o.platform ?? new MemoryPlatform(specOf({ replicas: o.replicas, ...o.spec }), (i) => world.agent(i), o.status);
  if (o.roles) platform.roles = [...o.roles];
  const logs: Rig['logs'] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString().split('\n')) if (line.trim()) logs.push(JSON.parse(line) as Rig['logs'][number]);
      cb();
    },
  });
  const metrics = new CoordinatorMetrics();
  const manager = new ClusterManager({
    platform, clock, log: createLogger({ name: 'test', level: 'debug', destination: sink }),
    metrics: metrics.forCluster(platform.name, platform.namespace), pollMs: POLL, statusTimeoutMs: 1500,
    timings: { readOnlyWaitMs: 100, gtidWaitMs: 1000, fenceSettleMs: 10, cloneBootSeconds: 60 },
    decide: { roleSettleMs: 0 }, cloneRetry: { initialMs: 10_000 }, watchRetry: { initialMs: 500, maxMs: 2000 },
  });
  const r: Rig = {
    clock, world, platform, metrics, manager, logs,
    polls: async (n = 1) => {
      await clock.advance(n * POLL);
      await clock.advance(100);
    },
    kill: (index) => {
      world.statuses.delete(index);
      platform.ready.set(index, false);
      for (const [k, s] of world.statuses) {
        if (s.replica?.sourcePort === 13306 + index && s.replica.ioRunning) {
          world.statuses.set(k, { ...s, replica: { ...s.replica, ioConnected: false, ioState: 'Connecting to master' } });
        }
      }
      world.endStream(index);
    },
  };
  rigs.push(r);
  return r;
}

/** A configured, healthy 3-instance cluster with primary `p`. */
function healthy3(p = 0): { statuses: InstanceStatus[]; roles: Role[] } {
  const statuses = [0, 1, 2].map((i) => (i === p ? primaryStatus(i, 3) : replicaOfStatus(i, p, { executed: mysqlGtid(p, 4) })));
  return { statuses, roles: [0, 1, 2].map((i) => (i === p ? 'primary' : 'replica')) };
}

const cond = (s: ClusterStatus, type: string) => s.conditions.find((c) => c.type === type);
const calls = (w: World, method: string) => w.calls.filter((c) => c.method === method && c.index >= 0).map((c) => c.index);

describe('ClusterManager', () => {
  it('a healthy cluster: the status is written once, then only the heartbeat moves', async () => {
    const r = rig({ replicas: 3, ...healthy3() });
    await r.manager.start();
    await r.polls(1);
    const st = r.platform.status;
    assert.equal(st.state, 'Healthy');
    assert.equal(cond(st, 'Healthy')?.status, 'True');
    assert.equal(st.syncedReplicas, 3);
    assert.equal(st.availableOnce, true);
    assert.equal(r.platform.patches.length, 1, 'one write');
    assert.deepEqual(r.platform.journal, ['patch:coordinator', 'heartbeat'], 'the heartbeat follows the status of its observation');
    assert.ok(r.platform.patches.every((p) => p.owner === 'coordinator' && !('backup' in p.patch) && !('observedAt' in p.patch)));
    const since = cond(st, 'Healthy')?.lastTransitionTime;
    await r.polls(5);
    assert.equal(r.platform.patches.length, 1, 'nothing changed, nothing written');
    assert.equal(cond(r.platform.status, 'Healthy')?.lastTransitionTime, since, 'no churn of lastTransitionTime');
    assert.equal(r.platform.heartbeats.length, 6, 'a heartbeat per observation');
    assert.ok(r.clock.now() - (r.platform.heartbeats.at(-1)?.getTime() ?? 0) < POLL, 'the last one is from the last poll');
    assert.deepEqual(calls(r.world, 'configureReplica'), [], 'nothing to configure');
  });

  it('redo: an operation that changed something is followed by another observation at once', async () => {
    // A fresh instance: read-only, no role. The first cycle configures it; the second, at the same moment, finds it Healthy.
    const r = rig({ replicas: 1, statuses: [status({ index: 0, readOnly: true })] });
    await r.manager.start();
    await r.polls(1);
    assert.deepEqual(calls(r.world, 'setWritable'), [0]);
    assert.deepEqual(r.platform.roles, ['primary']);
    assert.equal(r.platform.status.state, 'Healthy', 'observed again without waiting for the next poll');
    assert.deepEqual(r.platform.patches.map((p) => p.patch.state).filter(Boolean), ['Incomplete', 'Healthy']);
    assert.deepEqual(r.platform.events.map((e) => e.reason), ['Writable']);
  });

  it('a status stream that ends is confirmed at once: the failover does not wait for the next poll', async () => {
    const r = rig({ replicas: 3, ...healthy3() });
    await r.manager.start();
    await r.polls(1);
    await r.clock.advance(300);
    const before = r.clock.now();
    r.kill(0);
    await r.clock.advance(50); // the fence settles (10 ms); no poll falls in this window
    assert.ok(r.clock.now() - before < POLL);
    const st = r.platform.status;
    assert.equal(st.currentPrimaryIndex, 1);
    assert.deepEqual(r.platform.events.map((e) => e.reason), ['FailOver', 'Writable']);
    assert.deepEqual(r.platform.roles, ['', 'primary', 'replica']);
    assert.deepEqual(calls(r.world, 'stopReplicaIO').sort(), [1, 2], 'both replicas fenced first');
    const commit = r.platform.patches.find((p) => 'currentPrimaryIndex' in p.patch);
    assert.equal(commit?.patch.state, 'Failed', 'the state Failed goes with the new index: one write at the commit point');
    assert.equal(st.lastFailover?.from, 0);
    assert.equal(st.lastFailover?.to, 1);
    assert.ok((st.lastFailover?.writeUnavailableSeconds ?? 99) < 0.1, JSON.stringify(st.lastFailover));
    assert.match(await r.metrics.registry.metrics(), /^moco_cluster_failover_total\{name="t",namespace="default"\} 1$/m);
  });

  it('a long operation: its state is stored within 300 ms, not at its end', async () => {
    const r = rig({ replicas: 3, ...healthy3() });
    await r.manager.start();
    await r.polls(1);
    // The fence of replica 2 takes 5 s.
    const stop = r.world.behaviour.get(2)?.stopReplicaIO;
    r.world.on(2, { stopReplicaIO: () => new Promise((resolve) => r.clock.setTimer(() => resolve(stop!()), 5000)) });
    r.kill(0);
    await r.clock.advance(299);
    assert.equal(r.platform.status.state, 'Healthy');
    assert.deepEqual(r.platform.journal.slice(-1), ['heartbeat']);
    await r.clock.advance(1);
    assert.equal(r.platform.status.state, 'Failed', 'stored while the failover runs');
    assert.equal(r.platform.status.currentPrimaryIndex, 0);
    assert.deepEqual(r.platform.journal.slice(-2), ['patch:coordinator', 'heartbeat'], 'the heartbeat follows it');
    await r.clock.advance(5000);
    assert.equal(r.platform.status.currentPrimaryIndex, 1);
  });

  it('a hung primary: its status read ends at the deadline, and the cycle goes on without it', async () => {
    const r = rig({ replicas: 3, ...healthy3() });
    await r.manager.start();
    await r.polls(1);
    const reads = calls(r.world, 'getStatus').length;
    r.world.hang(0);
    await r.clock.advance(POLL - 100); // the next cycle starts and waits for instance 0
    const waitingSince = r.clock.now();
    // Its stream delivered recently, so the read gets the full deadline (statusTimeoutMs, 1.5 s).
    await r.clock.advance(1499);
    assert.equal(r.platform.status.state, 'Healthy', 'still waiting for the read');
    await r.clock.advance(1);
    assert.equal(r.clock.now() - waitingSince, 1500);
    // The replicas still receive from it (a hung mysqld keeps its connections): Degraded, no failover yet.
    const st = r.platform.status;
    assert.equal(st.state, 'Degraded');
    assert.match(cond(st, 'Healthy')?.message ?? '', /does not answer, but replica 1, 2 still receives from it/);
    assert.equal(calls(r.world, 'stopReplicaIO').length, 0);
    assert.match(r.manager.unobservedInstances().get(0) ?? '', /^TIMEOUT: .*deadline exceeded/);
    assert.ok(calls(r.world, 'getStatus').length > reads);
    // Their network timeout passes: the replicas lose it and say so on their streams; the failover follows at once.
    for (const i of [1, 2]) {
      const s = r.world.statuses.get(i)!;
      r.world.statuses.set(i, { ...s, replica: { ...s.replica!, ioConnected: false, ioState: 'Connecting to master' } });
      r.world.emit(i);
    }
    // Its stream has now been silent for over 1.5 s: the next read of it gets the short deadline (400 ms).
    await r.clock.advance(399);
    assert.equal(r.platform.status.currentPrimaryIndex, 0);
    await r.clock.advance(50);
    assert.equal(r.platform.status.currentPrimaryIndex, 1);
    assert.ok(r.platform.events.some((e) => e.reason === 'FailOver'));
  });

  it('a failed clone from the external source is retried after its delay, not before; then cloned is recorded', async () => {
    const r = rig({
      replicas: 1, statuses: [status({ index: 0, readOnly: true })],
      spec: { replicationSourceSecretName: 'source', replicationSource: EXTERNAL },
    });
    let failures = 1;
    r.world.on(0, {
      clone: async () => {
        if (failures-- > 0) throw new MocoError('FAILED_PRECONDITION', 'Access denied for user donor');
        r.world.statuses.set(0, { ...r.world.statuses.get(0)!, executed: { text: `${mysqlGtid(0, 2)}`, intervals: [] },
          clone: { state: 'completed', phase: '', bytesTransferred: '0', startedAtMs: 0, finishedAtMs: 0, error: '', donor: '' } });
        return { durationMs: 1 };
      },
      configureReplica: async (req) => {
        const s = r.world.statuses.get(0)!;
        r.world.statuses.set(0, { ...s, replica: replicaStatus({ sourceHost: req.sourceHost, sourcePort: req.sourcePort }), semiSync: { ...s.semiSync!, ...SEMI_SYNC_REPLICA, replicaEnabled: false } });
        return { changed: true };
      },
    });
    await r.manager.start();
    await r.polls(1);
    assert.equal(calls(r.world, 'clone').length, 1);
    assert.equal(r.platform.status.state, 'Cloning');
    assert.match(r.platform.status.lastCloneFailure?.message ?? '', /Access denied/);
    assert.deepEqual(r.platform.events.map((e) => e.reason), ['InitCloneFailed']);
    await r.polls(9); // 10 s after the failure, minus the first poll's moment
    assert.equal(calls(r.world, 'clone').length, 1, 'not retried before its delay');
    await r.polls(1);
    assert.equal(calls(r.world, 'clone').length, 2, 'retried once the delay passed');
    const st = r.platform.status;
    assert.equal(st.cloned, true, 'status.cloned records the finished initial clone');
    assert.equal(st.lastCloneFailure, undefined, 'a success clears the failure');
    assert.equal(st.state, 'Healthy');
    assert.deepEqual(r.platform.events.map((e) => e.reason), ['InitCloneFailed', 'InitCloned']);
  });

  it('stopped clustering freezes decisions (no failover) and makes Available and Healthy Unknown; starting resumes', async () => {
    const r = rig({ replicas: 3, ...healthy3() });
    await r.manager.start();
    await r.polls(1);
    r.platform.annotations = { clusteringStopped: true };
    await r.polls(1);
    r.kill(0);
    await r.polls(3);
    const st = r.platform.status;
    assert.equal(st.currentPrimaryIndex, 0, 'no failover while stopped');
    assert.equal(calls(r.world, 'stopReplicaIO').length, 0);
    assert.equal(cond(st, 'Available')?.status, 'Unknown');
    assert.equal(cond(st, 'Healthy')?.status, 'Unknown');
    assert.equal(cond(st, 'ClusteringActive')?.status, 'False');
    const text = await r.metrics.registry.metrics();
    assert.match(text, /^moco_cluster_available\{name="t",namespace="default"\} Nan$/m);
    assert.match(text, /^moco_cluster_clustering_stopped\{name="t",namespace="default"\} 1$/m);
    r.platform.annotations = {};
    await r.polls(1);
    assert.equal(r.platform.status.currentPrimaryIndex, 1, 'the failover happens once clustering is started again');
    assert.equal(cond(r.platform.status, 'ClusteringActive')?.status, 'True');
  });

  it('a restarted manager resumes from the stored status: same primary, nothing rewritten', async () => {
    const first = rig({ replicas: 3, ...healthy3() });
    await first.manager.start();
    await first.polls(1);
    first.platform.switchover = true;
    await first.polls(1);
    assert.equal(first.platform.status.currentPrimaryIndex, 1);
    assert.equal(first.platform.status.state, 'Healthy');
    const stopping = first.manager.stop();
    await first.clock.advance(POLL);
    await stopping;
    rigs.splice(rigs.indexOf(first), 1);

    const stored = first.platform.status;
    const writes = first.platform.patches.length;
    const callsBefore = first.world.calls.length;
    const second = rig({ replicas: 3, statuses: [], platform: first.platform, world: first.world, clock: first.clock });
    await second.manager.start();
    await second.polls(3);
    const mutations = first.world.calls.slice(callsBefore).filter((c) => c.method !== 'getStatus');
    assert.deepEqual(mutations, [], 'no operation: the stored primary 1 is the primary');
    assert.equal(first.platform.patches.length, writes, 'the status is unchanged, so it is not written');
    assert.deepEqual(first.platform.status, stored);
    assert.ok(first.world.calls.slice(callsBefore).some((c) => c.index === 1 && c.method === 'getStatus'));
  });

  it('an instance that cannot be observed records why (once per kind of failure), and that it answers again', async () => {
    const r = rig({ replicas: 3, ...healthy3() });
    r.world.on(2, { getStatus: async () => { throw new MocoError('UNAUTHENTICATED', 'GetStatus on 127.0.0.1:19002: certificate has expired'); } });
    await r.manager.start();
    await r.polls(3);
    assert.equal(r.manager.unobservedInstances().get(2), 'UNAUTHENTICATED: GetStatus on 127.0.0.1:19002: certificate has expired');
    const warned = r.logs.filter((l) => l.msg === 'instance cannot be observed');
    assert.equal(warned.length, 1, 'logged when it starts, not every cycle');
    assert.equal(warned[0]?.index, 2);
    assert.match(String(warned[0]?.why), /UNAUTHENTICATED: .*certificate has expired/);
    r.world.behaviour.get(2)!.getStatus = undefined;
    await r.polls(1);
    assert.equal(r.manager.unobservedInstances().has(2), false);
    assert.ok(r.logs.some((l) => l.msg === 'instance answers again' && l.index === 2));
  });

  it('a backup result written in between: the conflict is re-read and retried, and both writes survive', async () => {
    const r = rig({ replicas: 3, ...healthy3() });
    r.platform.beforeNextPatch(() => r.platform.writeAsOther({ backup: { time: '2026-01-01T00:00:00Z', dumpSize: 7 } }));
    await r.manager.start();
    await r.polls(1);
    const st = r.platform.status;
    assert.equal(st.state, 'Healthy');
    assert.deepEqual(st.backup, { time: '2026-01-01T00:00:00Z', dumpSize: 7 }, 'the backup side\'s write is kept');
    assert.equal(r.platform.patches.length, 1);
    await r.polls(1);
    assert.match(await r.metrics.registry.metrics(), /^moco_backup_dump_bytes\{name="t",namespace="default"\} 7$/m, 'exported from status.backup');
  });

  it('another writer changed the clustering fields: the cycle gives up and the next one decides from them', async () => {
    const r = rig({ replicas: 3, ...healthy3() });
    r.platform.beforeNextPatch(() => r.platform.writeAsOther({ conditions: [{ type: 'Healthy', status: 'False', reason: 'x', message: 'x' }] }));
    await r.manager.start();
    await r.polls(1);
    assert.equal(r.platform.patches.length, 0, 'not written over the other writer');
    assert.match(await r.metrics.registry.metrics(), /^moco_cluster_errors_total\{name="t",namespace="default"\} 1$/m);
    await r.polls(1);
    assert.equal(cond(r.platform.status, 'Healthy')?.status, 'True');
  });

  it('a stream that ends is reconnected with backoff; a working stream resets it', async () => {
    const r = rig({ replicas: 3, ...healthy3() });
    await r.manager.start();
    await r.polls(1);
    assert.equal(r.world.watchOpens.get(2), 1);
    r.world.endStream(2);
    await r.clock.advance(499);
    assert.equal(r.world.watchOpens.get(2), 1);
    await r.clock.advance(1);
    assert.equal(r.world.watchOpens.get(2), 2, 'reconnected after 500 ms');
    r.world.endStream(2);
    await r.clock.advance(999);
    assert.equal(r.world.watchOpens.get(2), 2);
    await r.clock.advance(1);
    assert.equal(r.world.watchOpens.get(2), 3, 'then after 1 s');
    r.world.emit(2);
    r.world.endStream(2);
    await r.clock.advance(500);
    assert.equal(r.world.watchOpens.get(2), 4, 'a stream that delivered starts over at 500 ms');
  });

  it('stop() closes the streams and removes the cluster\'s metrics', async () => {
    const r = rig({ replicas: 3, ...healthy3() });
    await r.manager.start();
    await r.polls(1);
    assert.match(await r.metrics.registry.metrics(), /name="t"/);
    const stopping = r.manager.stop();
    await r.clock.advance(POLL);
    await stopping;
    rigs.splice(rigs.indexOf(r), 1);
    assert.doesNotMatch(await r.metrics.registry.metrics(), /name="t"/);
    assert.ok([...r.world.streams.values()].every((s) => !s.open), 'every status stream closed');
    await settle();
  });
});
