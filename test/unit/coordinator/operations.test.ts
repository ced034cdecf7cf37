import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { Step } from '../../../src/coordinator/decide.ts';
import { cloneExternal, failover, runSteps, switchover, type Executor } from '../../../src/coordinator/operations.ts';
import type { InstanceStatus, Observation } from '../../../src/coordinator/types.ts';
import { hasCode, MocoError, type CodedError } from '../../../src/shared/errors.ts';
import { addressOf, mysqlGtid, observation, replicaOfStatus, status, uuidOf, view, FOREIGN_UUID } from './builders.ts';
import { World } from './fake-agents.ts';

/** Resolves `value` after `ms`, recording `index.<label>` when it does. */
function later<T>(w: World, index: number, label: string, ms: number, value: T): Promise<T> {
  return new Promise((resolve) => setTimeout(() => {
    w.calls.push({ index, method: label, args: [] });
    resolve(value);
  }, ms));
}

async function rejectsWith(p: Promise<unknown>, code: Parameters<typeof hasCode>[1], part?: RegExp): Promise<CodedError> {
  let caught: unknown;
  await assert.rejects(p, (err: unknown) => {
    caught = err;
    return true;
  });
  assert.ok(hasCode(caught, code), `want ${code}, got ${String(caught)}`);
  if (part) assert.match(caught.message, part);
  return caught;
}

// ---- failover ----------------------------------------------------------------------------------------------

/** A replica of dead primary 0, fenced: the receiver stopped, the applier still running. */
function fenced(index: number, executed: string, received: string, o: { flavor?: 'mysql' | 'mariadb'; reliable?: boolean } = {}): InstanceStatus {
  return status({
    index, flavor: o.flavor, executed,
    replica: { from: 0, ioState: 'No', sqlRunning: true, received, receivedReliable: o.reliable ?? true },
  });
}

/** Primary 0 is dead; replicas as observed before the fence are still receiving (reconnecting). */
function deadPrimary(replicas: number, o: { hung?: number[]; dead?: number[]; semiSyncAcks?: number; flavor?: 'mysql' | 'mariadb' } = {}): Observation {
  const exec = o.flavor === 'mariadb' ? '0-10-1' : mysqlGtid(0, 1);
  const v = [view(0, null, { ready: false, role: 'primary' })];
  for (let i = 1; i < replicas; i++) {
    v.push(o.dead?.includes(i)
      ? view(i, null, { ready: false, role: 'replica' })
      : view(i, replicaOfStatus(i, 0, { flavor: o.flavor, executed: exec, replica: { from: 0, ioState: 'Connecting' } }), { hung: o.hung?.includes(i) ?? false, role: 'replica' }));
  }
  return observation(v, { status: o.semiSyncAcks === undefined ? {} : { semiSyncAcks: o.semiSyncAcks } });
}

describe('failover', () => {
  it('fences every reachable replica before any re-read, then promotes the most advanced (ties: lowest index)', async () => {
    // The seed's envtest: p0:1..3 received on 1 and 2, 1 has executed only p0:1.
    const w = new World();
    w.statuses.set(1, fenced(1, mysqlGtid(0, 1), mysqlGtid(0, 3)));
    w.statuses.set(2, fenced(2, mysqlGtid(0, 3), mysqlGtid(0, 3)));
    const to = await failover(w.executor(), deadPrimary(3), []);
    assert.equal(to, 1);

    const log = w.log();
    const lastFence = Math.max(log.lastIndexOf('1.stopReplicaIO'), log.lastIndexOf('2.stopReplicaIO'));
    const firstRead = log.findIndex((c) => c.endsWith('.getStatus'));
    assert.ok(log.includes('1.stopReplicaIO') && log.includes('2.stopReplicaIO'), log.join(' '));
    assert.ok(lastFence < firstRead, `fence before re-read: ${log.join(' ')}`);
    assert.equal(w.callsOf(0).length, 0, 'the dead primary is not called');
    const promoted = log.indexOf('platform.setPrimaryIndex');
    for (const m of ['configureReplica', 'setWritable', 'setReadOnly', 'configurePrimary', 'clone', 'killConnections']) {
      assert.ok(!log.slice(0, promoted).some((c) => c.endsWith(`.${m}`)), `${m} must not be called before the promotion: ${log.join(' ')}`);
    }
    for (const m of ['configureReplica', 'setWritable', 'setReadOnly', 'configurePrimary', 'clone']) {
      assert.ok(!log.some((c) => c.endsWith(`.${m}`)), `${m} is configure's, not the failover's: ${log.join(' ')}`);
    }
    // Routing moves at once: the roles right after the promotion, then the new primary's readers are cut off.
    assert.deepEqual(log.slice(promoted), ['platform.setPrimaryIndex', 'platform.publishRoles', '1.killConnections', 'platform.event']);
    assert.deepEqual(w.callsOf(-1, 'publishRoles').map((c) => c.args), [[['', 'primary', 'replica']]]);
    assert.deepEqual(w.callsOf(1, 'waitForGtid').map((c) => c.args), [[mysqlGtid(0, 3), 777]]);
    assert.ok(log.indexOf('1.waitForGtid') < log.indexOf('platform.setPrimaryIndex'));
    assert.deepEqual(w.callsOf(-1, 'setPrimaryIndex').map((c) => c.args), [[1, 'failover']]);
    assert.equal(w.primaryIndex, 1);
    assert.deepEqual(w.events, [{ type: 'Normal', reason: 'FailOver', message: 'The primary was changed to instance 1 due to a failover' }]);
  });

  it('picks the replica that received the most, and waits on it for its received set', async () => {
    const w = new World();
    w.statuses.set(1, fenced(1, mysqlGtid(0, 2), mysqlGtid(0, 2)));
    w.statuses.set(2, fenced(2, mysqlGtid(0, 1), mysqlGtid(0, 4)));
    assert.equal(await failover(w.executor(), deadPrimary(3), []), 2);
    assert.deepEqual(w.callsOf(2, 'waitForGtid').map((c) => c.args), [[mysqlGtid(0, 4), 777]]);
    assert.equal(w.callsOf(1, 'waitForGtid').length, 0);
    assert.deepEqual(w.reasons(), ['FailOver']);
  });

  it('a replica without a received set (right after a switchover) ranks by executed; nothing to wait for', async () => {
    const w = new World();
    w.statuses.set(1, fenced(1, mysqlGtid(0, 3), ''));
    w.statuses.set(2, fenced(2, mysqlGtid(0, 2), ''));
    assert.equal(await failover(w.executor(), deadPrimary(3), []), 1);
    assert.equal(w.log().filter((c) => c.endsWith('.waitForGtid')).length, 0);
  });

  it('an errant replica is fenced but neither re-read nor chosen', async () => {
    const w = new World();
    for (const i of [1, 2, 3]) w.statuses.set(i, fenced(i, mysqlGtid(0, 1), mysqlGtid(0, i)));
    w.statuses.set(4, fenced(4, `${mysqlGtid(0, 5)},${FOREIGN_UUID}:1`, mysqlGtid(0, 5)));
    const to = await failover(w.executor(), deadPrimary(5, { semiSyncAcks: 2 }), [4]);
    assert.equal(to, 3);
    assert.equal(w.callsOf(4, 'stopReplicaIO').length, 1);
    assert.equal(w.callsOf(4, 'getStatus').length, 0);
  });

  it('replicas that do not answer or are hung are not called', async () => {
    for (const [hung, dead] of [[[4], []], [[], [4]]]) {
      const w = new World();
      for (const i of [1, 2, 3]) w.statuses.set(i, fenced(i, mysqlGtid(0, 1), mysqlGtid(0, 2)));
      w.statuses.set(4, fenced(4, mysqlGtid(0, 1), mysqlGtid(0, 2)));
      const to = await failover(w.executor(), deadPrimary(5, { semiSyncAcks: 2, hung, dead }), []);
      assert.equal(to, 1);
      assert.deepEqual([1, 2, 3].map((i) => w.callsOf(i, 'stopReplicaIO').length), [1, 1, 1]);
      assert.equal(w.callsOf(4).length, 0, `hung ${String(hung)}, dead ${String(dead)}`);
    }
  });

  it('diverging replicas: FailOverFailed, no new primary', async () => {
    const w = new World();
    w.statuses.set(1, fenced(1, mysqlGtid(0, 1), `${mysqlGtid(0, 3)},${FOREIGN_UUID}:1`));
    w.statuses.set(2, fenced(2, mysqlGtid(0, 1), mysqlGtid(0, 4)));
    await rejectsWith(failover(w.executor(), deadPrimary(3), []), 'FAILED_PRECONDITION', /1 and 2/);
    assert.equal(w.primaryIndex, undefined);
    assert.equal(w.log().filter((c) => c.endsWith('.waitForGtid')).length, 0);
    assert.deepEqual(w.reasons(), ['FailOverFailed']);
    assert.equal(w.events[0]?.type, 'Warning');
  });

  it('too few usable replicas after the fence (a lost relay log does not count): FailOverFailed', async () => {
    const w = new World();
    w.statuses.set(1, fenced(1, mysqlGtid(0, 1), mysqlGtid(0, 3)));
    w.statuses.set(2, fenced(2, mysqlGtid(0, 1), mysqlGtid(0, 4), { reliable: false }));
    await rejectsWith(failover(w.executor(), deadPrimary(3), []), 'FAILED_PRECONDITION', /1 of the 2/);
    assert.equal(w.primaryIndex, undefined);
    assert.deepEqual(w.reasons(), ['FailOverFailed']);
  });

  it('a fence that fails aborts before anything is re-read', async () => {
    const w = new World();
    w.on(2, { stopReplicaIO: async () => { throw new MocoError('MYSQLD_UNAVAILABLE', 'gone'); } });
    await rejectsWith(failover(w.executor(), deadPrimary(3), []), 'MYSQLD_UNAVAILABLE');
    assert.equal(w.log().filter((c) => c.endsWith('.getStatus')).length, 0);
    assert.equal(w.primaryIndex, undefined);
    assert.deepEqual(w.reasons(), ['FailOverFailed']);
  });

  it('a waitForGtid that times out: FailOverFailed, the primary index unchanged', async () => {
    const w = new World();
    w.statuses.set(1, fenced(1, mysqlGtid(0, 1), mysqlGtid(0, 3)));
    w.statuses.set(2, fenced(2, mysqlGtid(0, 1), mysqlGtid(0, 2)));
    w.on(1, { waitForGtid: async () => { throw new MocoError('TIMEOUT', 'not applied in time'); } });
    await rejectsWith(failover(w.executor(), deadPrimary(3), []), 'TIMEOUT');
    assert.equal(w.primaryIndex, undefined);
    assert.deepEqual(w.reasons(), ['FailOverFailed']);
  });

  it('MariaDB: 5 instances with 1 ack need all 4 replicas; the most advanced position wins', async () => {
    const w = new World();
    const pos = ['', '0-10-5', '0-10-7', '0-10-7', '0-10-6'];
    for (const i of [1, 2, 3, 4]) w.statuses.set(i, fenced(i, '0-10-5', pos[i] ?? '', { flavor: 'mariadb' }));
    assert.equal(await failover(w.executor(), deadPrimary(5, { flavor: 'mariadb', semiSyncAcks: 1 }), []), 2);
    assert.deepEqual(w.callsOf(2, 'waitForGtid').map((c) => c.args), [['0-10-7', 777]]);

    const w2 = new World();
    for (const i of [1, 2, 3]) w2.statuses.set(i, fenced(i, '0-10-5', pos[i] ?? '', { flavor: 'mariadb' }));
    await rejectsWith(failover(w2.executor(), deadPrimary(5, { flavor: 'mariadb', semiSyncAcks: 1, dead: [4] }), []),
      'FAILED_PRECONDITION', /3 of the 4/);
    assert.equal(w2.primaryIndex, undefined);
  });
});

// ---- switchover --------------------------------------------------------------------------------------------

function primaryAnswer(): InstanceStatus {
  return status({ index: 0, executed: mysqlGtid(0, 9), readOnly: true, gtidSourceId: uuidOf(0) });
}

const ROLES = ['primary', 'replica', 'replica'] as const;

describe('switchover', () => {
  it('read-only, one kill, the candidate waits for the old primary\'s executed set, then the index moves', async () => {
    const w = new World();
    w.statuses.set(0, primaryAnswer());
    await switchover(w.executor(), 0, 1, ROLES);
    assert.deepEqual(w.log(), [
      '0.getStatus', '1.waitForGtid',
      '0.setReadOnly', '0.killConnections', '0.getStatus', '1.waitForGtid',
      'platform.setPrimaryIndex', 'platform.publishRoles', '1.killConnections', 'platform.clearSwitchoverRequest', 'platform.event',
    ]);
    assert.deepEqual(w.callsOf(-1, 'publishRoles').map((c) => c.args), [[['', 'primary', 'replica']]], 'the roles move at once');
    assert.deepEqual(w.callsOf(1, 'waitForGtid').map((c) => c.args), [[mysqlGtid(0, 9), 777], [mysqlGtid(0, 9), 777]],
      'the candidate catches up while the primary still takes writes, then waits for the final set');
    assert.deepEqual(w.callsOf(-1, 'setPrimaryIndex')[0]?.args, [1, 'switchover']);
    assert.deepEqual(w.events, [{ type: 'Normal', reason: 'SwitchOver', message: 'The primary was changed to instance 1 due to a switchover' }]);
    assert.equal(w.callsOf(2).length, 0, 'the other replica is not touched');
  });

  it('read-only slower than readOnlyWaitMs: connections are killed while waiting, and once more after', async () => {
    const w = new World();
    w.statuses.set(0, primaryAnswer());
    w.on(0, { setReadOnly: () => later(w, 0, 'setReadOnly.done', 150, { changed: true }) });
    await switchover(w.executor(), 0, 2, ROLES);
    assert.deepEqual(w.log().filter((c) => c.startsWith('0.')), [
      '0.getStatus', '0.setReadOnly', '0.killConnections', '0.setReadOnly.done', '0.killConnections', '0.getStatus',
    ]);
    assert.equal(w.callsOf(0, 'killConnections').length, 2);
    assert.equal(w.primaryIndex, 2);
    assert.deepEqual(w.reasons(), ['SwitchOver']);
  });

  it('a waitForGtid timeout: SwitchOverFailed, the primary index unchanged and the request kept', async () => {
    const w = new World();
    w.statuses.set(0, primaryAnswer());
    w.on(1, { waitForGtid: async () => { throw new MocoError('TIMEOUT', 'candidate did not catch up'); } });
    await rejectsWith(switchover(w.executor(), 0, 1, ROLES), 'TIMEOUT');
    assert.equal(w.primaryIndex, undefined);
    assert.equal(w.callsOf(-1, 'clearSwitchoverRequest').length, 0);
    assert.deepEqual(w.reasons(), ['SwitchOverFailed']);
    assert.equal(w.events[0]?.type, 'Warning');
  });

  it('setReadOnly fails: connections killed, SwitchOverFailed, nothing else', async () => {
    const w = new World();
    w.on(0, { setReadOnly: async () => { throw new MocoError('MYSQLD_UNAVAILABLE', 'lost'); } });
    await rejectsWith(switchover(w.executor(), 0, 1, ROLES), 'MYSQLD_UNAVAILABLE');
    assert.deepEqual(w.log(), ['0.getStatus', '0.setReadOnly', '0.killConnections', 'platform.event']);
    assert.equal(w.primaryIndex, undefined);
    assert.deepEqual(w.reasons(), ['SwitchOverFailed']);
  });

  it('a candidate that cannot catch up before the fence is switched to anyway, with the usual final wait', async () => {
    const w = new World();
    w.statuses.set(0, primaryAnswer());
    let waits = 0;
    w.on(1, { waitForGtid: async () => {
      if (++waits === 1) throw new MocoError('TIMEOUT', 'still behind');
      return { waitedMs: 1 };
    } });
    await switchover(w.executor(), 0, 1, ROLES);
    assert.equal(waits, 2);
    assert.ok(w.log().indexOf('0.setReadOnly') > w.log().indexOf('1.waitForGtid'), 'the fence comes after the first wait');
    assert.equal(w.primaryIndex, 1);
    assert.deepEqual(w.reasons(), ['SwitchOver']);
  });

  it('an old primary with no transactions: no wait', async () => {
    const w = new World();
    w.statuses.set(0, status({ index: 0 }));
    await switchover(w.executor(), 0, 1, ROLES);
    assert.deepEqual(w.callsOf(1).map((c) => c.method), ['killConnections'], 'no wait; only its readers are cut off');
    assert.equal(w.primaryIndex, 1);
  });
});

// ---- runSteps ----------------------------------------------------------------------------------------------

describe('runSteps', () => {
  it('executes the steps in order, with the source\'s address and the recorded acks', async () => {
    const w = new World();
    const steps: Step[] = [
      { kind: 'publishRoles', roles: ['', '', 'replica'] },
      { kind: 'sleep', ms: 1, why: 'test' },
      { kind: 'killConnections', index: 1 },
      { kind: 'stopReplicaIO', index: 1 },
      { kind: 'waitForGtid', index: 1, gtid: mysqlGtid(0, 4), timeoutMs: 99 },
      { kind: 'configurePrimary', index: 1, waitForReplicaCount: 1 },
      { kind: 'killConnections', index: 0 },
      { kind: 'setReadOnly', index: 0 },
      { kind: 'configureReplica', index: 0, source: 1, semiSync: true },
      { kind: 'configureReplica', index: 2, source: 1, semiSync: true },
      { kind: 'publishRoles', roles: ['replica', 'primary', 'replica'] },
      { kind: 'setWritable', index: 1 },
    ];
    assert.equal(await runSteps(w.executor(), steps), true);
    assert.deepEqual(w.log(), [
      'platform.publishRoles', '1.killConnections', '1.stopReplicaIO', '1.waitForGtid', '1.configurePrimary',
      'platform.recordSemiSyncAcks', '0.killConnections', '0.setReadOnly', '0.configureReplica', '2.configureReplica',
      'platform.publishRoles', '1.setWritable', 'platform.event',
    ]);
    const src = addressOf(1);
    assert.deepEqual(w.callsOf(0, 'configureReplica')[0]?.args, [{ sourceHost: src.host, sourcePort: src.port, semiSync: true }]);
    assert.deepEqual(w.callsOf(1, 'waitForGtid')[0]?.args, [mysqlGtid(0, 4), 99]);
    assert.deepEqual(w.callsOf(-1, 'recordSemiSyncAcks')[0]?.args, [1]);
    assert.deepEqual(w.events, [{ type: 'Normal', reason: 'Writable', message: 'The primary became writable' }]);
    assert.deepEqual(w.writable, [1]);
  });

  it('the Writable event only when setWritable changed something', async () => {
    const w = new World();
    w.on(0, { setWritable: async () => ({ changed: false }) });
    await runSteps(w.executor(), [{ kind: 'setWritable', index: 0 }]);
    assert.deepEqual(w.events, []);
    assert.deepEqual(w.writable, []);
  });

  it('the effective ack count is recorded (MariaDB waits for 1 whatever was asked); a single instance records none', async () => {
    const w = new World();
    w.on(0, { configurePrimary: async () => ({ changed: true, effectiveWaitCount: 1 }) });
    await runSteps(w.executor(), [{ kind: 'configurePrimary', index: 0, waitForReplicaCount: 2 }]);
    assert.deepEqual(w.callsOf(-1, 'recordSemiSyncAcks').map((c) => c.args), [[1]]);

    const one = new World();
    await runSteps(one.executor(), [{ kind: 'configurePrimary', index: 0, waitForReplicaCount: 0 }]);
    assert.equal(one.callsOf(-1, 'recordSemiSyncAcks').length, 0);
  });

  it('nothing changed: false', async () => {
    const w = new World();
    w.on(2, { stopReplicaIO: async () => ({ changed: false }), setReadOnly: async () => ({ changed: false }) });
    const changed = await runSteps(w.executor(), [
      { kind: 'killConnections', index: 2 }, { kind: 'stopReplicaIO', index: 2 }, { kind: 'setReadOnly', index: 2 },
    ]);
    assert.equal(changed, false);
  });

  it('a fail step does not hold up the other steps; it is thrown at the end', async () => {
    const w = new World();
    await rejectsWith(runSteps(w.executor(), [
      { kind: 'configureReplica', index: 1, source: 0, semiSync: true },
      { kind: 'fail', message: 'primary 0 has purged binary logs' },
      { kind: 'setWritable', index: 0 },
    ]), 'FAILED_PRECONDITION', /purged/);
    assert.deepEqual(w.log(), ['1.configureReplica', '0.setWritable', 'platform.event']);
  });

  it('an agent error stops the remaining steps (writable is never reached)', async () => {
    const w = new World();
    w.on(1, { configureReplica: async () => { throw new MocoError('MYSQLD_UNAVAILABLE', 'down'); } });
    await rejectsWith(runSteps(w.executor(), [
      { kind: 'configureReplica', index: 1, source: 0, semiSync: true },
      { kind: 'setWritable', index: 0 },
    ]), 'MYSQLD_UNAVAILABLE');
    assert.equal(w.callsOf(0).length, 0);
  });

  it('clone: from the donor\'s agent and mysqld address, then a Cloned event; a failure emits CloneFailed', async () => {
    const w = new World();
    await runSteps(w.executor(), [{ kind: 'clone', index: 2, donor: 0 }]);
    const d = addressOf(0);
    assert.deepEqual(w.callsOf(2, 'clone')[0]?.args, [{ donorAgentAddress: d.agent, donorHost: d.host, donorPort: d.port, bootTimeoutSeconds: 42 }]);
    assert.deepEqual(w.reasons(), ['Cloned']);
    assert.match(w.events[0]?.message ?? '', /instance 2/);

    const f = new World();
    f.on(2, { clone: async () => { throw new MocoError('BUSY', 'a clone is running'); } });
    await rejectsWith(runSteps(f.executor(), [{ kind: 'clone', index: 2, donor: 0 }, { kind: 'setWritable', index: 0 }]), 'BUSY');
    assert.deepEqual(f.reasons(), ['CloneFailed']);
    assert.equal(f.callsOf(0).length, 0);
  });
});

describe('replication from an external source', () => {
  const SOURCE = { host: 'donor.example', port: 3307, user: 'clone-donor', password: 'donor-pw' };
  const withSource = (w: World, extra: Partial<Executor> = {}): Executor => ({ ...w.executor(), external: () => SOURCE, ...extra });

  it('cloneExternal asks the primary\'s agent to copy from the source as the Secret\'s USER; InitCloned', async () => {
    const w = new World();
    await cloneExternal(withSource(w), 0, 3600);
    assert.deepEqual(w.callsOf(0, 'clone')[0]?.args, [{
      donorAgentAddress: '', donorHost: 'donor.example', donorPort: 3307, donorUser: 'clone-donor', donorPassword: 'donor-pw', bootTimeoutSeconds: 3600,
    }]);
    assert.deepEqual(w.reasons(), ['InitCloned']);
  });

  it('with INIT_USER (MySQL) the clone also carries the init account and the cluster\'s passwords', async () => {
    const w = new World();
    const ex = withSource(w, { external: () => ({ ...SOURCE, initUser: 'clone-init', initPassword: 'init-pw' }), passwords: async () => ({ ADMIN_PASSWORD: 'a' }) });
    await cloneExternal(ex, 0, 60);
    assert.deepEqual(w.callsOf(0, 'clone')[0]?.args[0], {
      donorAgentAddress: '', donorHost: 'donor.example', donorPort: 3307, donorUser: 'clone-donor', donorPassword: 'donor-pw',
      bootTimeoutSeconds: 60, initUser: 'clone-init', initPassword: 'init-pw', passwords: { ADMIN_PASSWORD: 'a' },
    });
  });

  it('a failed clone is reported as InitCloneFailed and thrown (retried later)', async () => {
    const w = new World().on(0, { clone: async () => { throw new MocoError('FAILED_PRECONDITION', 'Access denied'); } });
    await assert.rejects(cloneExternal(withSource(w), 0, 60), /Access denied/);
    assert.deepEqual(w.reasons(), ['InitCloneFailed']);
    assert.match(w.events[0]?.message ?? '', /donor\.example:3307 failed for instance 0: Access denied/);
  });

  it('without the source (Secret missing) nothing is called', async () => {
    const w = new World();
    await assert.rejects(cloneExternal(w.executor(), 0, 60), (e: unknown) => hasCode(e, 'FAILED_PRECONDITION'));
    await assert.rejects(runSteps(w.executor(), [{ kind: 'configureReplica', index: 0, source: 'external', semiSync: false }]), /Secret is missing/);
    assert.equal(w.calls.length, 0);
  });

  it('configureReplica from the external source uses the Secret\'s host, port and account, never semi-sync', async () => {
    const w = new World();
    await runSteps(withSource(w), [{ kind: 'configureReplica', index: 1, source: 'external', semiSync: false }]);
    assert.deepEqual(w.callsOf(1, 'configureReplica')[0]?.args, [{ sourceHost: 'donor.example', sourcePort: 3307, user: 'clone-donor', password: 'donor-pw', semiSync: false }]);
  });

  it('switchover of an intermediate primary stops its receiver from the source before reading its final GTID set', async () => {
    const w = new World();
    w.statuses.set(0, primaryAnswer());
    await switchover(withSource(w), 0, 1, ROLES, true);
    assert.deepEqual(w.log().slice(0, 7),
      ['0.stopReplicaIO', '0.getStatus', '1.waitForGtid', '0.setReadOnly', '0.killConnections', '0.getStatus', '1.waitForGtid']);
  });
});
