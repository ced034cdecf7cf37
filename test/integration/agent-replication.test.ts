/**
 * The agent's topology RPCs against three real mysqld instances (one primary, two semi-sync replicas),
 * driven only through gRPC as the coordinator will.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MocoError } from '../../src/shared/errors.ts';
import { createTestCluster, formReplication, waitFor, type TestCluster, type TestInstance } from '../helpers/harness.ts';

let cluster: TestCluster;
let primary: TestInstance;
let r1: TestInstance;
let r2: TestInstance;

async function rejectsWith(p: Promise<unknown>, code: string, pattern?: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof MocoError, `expected a MocoError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    if (pattern) assert.match(err.message, pattern);
    return true;
  });
}

async function rowCount(inst: TestInstance): Promise<number> {
  const c = await inst.connect();
  try {
    const [rows] = await c.query('SELECT COUNT(*) AS n FROM app.t');
    return Number((rows as { n: number }[])[0]?.n);
  } finally {
    await c.end();
  }
}

describe('agent topology RPCs (3 instances)', () => {
  before(async () => {
    cluster = await createTestCluster('repl');
    primary = await cluster.add();
    r1 = await cluster.add();
    r2 = await cluster.add();
    await formReplication(primary, [r1, r2]);
    const c = await primary.connect('moco-writable', cluster.passwords.WRITABLE_PASSWORD);
    await c.query('CREATE DATABASE app');
    await c.query('CREATE TABLE app.t (id INT PRIMARY KEY AUTO_INCREMENT, v VARCHAR(50))');
    await c.query("INSERT INTO app.t (v) VALUES ('a'), ('b')");
    await c.end();
  });
  after(async () => {
    await cluster?.close();
  });

  test('status shows the topology: writable primary, read-only replicas replicating from it', async () => {
    const p = await primary.client.getStatus();
    assert.equal(p.readOnly, false);
    assert.equal(p.semiSync?.sourceEnabled, true);
    assert.equal(p.connectedReplicas.length, 2);
    assert.equal(p.hasUserData, true);
    assert.notEqual(p.executed?.text, '');
    await waitFor(async () => (await r1.client.getStatus()).executed?.text === (await primary.client.getStatus()).executed?.text, 10_000, 'replica 1 to catch up');
    const s = await r1.client.getStatus();
    assert.equal(s.readOnly, true);
    assert.equal(s.replica?.sourcePort, primary.port);
    assert.equal(s.replica?.ioRunning, true);
    assert.equal(s.replica?.sqlRunning, true);
    assert.equal(s.replica?.heartbeatPeriodMs, 1000);
    assert.ok((s.replica?.received?.intervals.length ?? 0) > 0, 'received GTIDs are parsed');
    assert.equal(s.replica?.semiSyncReplicaActive, true);
  });

  test('a replica hears an idle primary\'s heartbeats; a hung primary (SIGSTOP) goes silent while still "connected"', async () => {
    const heard = await r1.client.getStatus();
    assert.equal(heard.replica?.sourceSilent, false);
    await new Promise((r) => setTimeout(r, 2500));
    const idle = await r1.client.getStatus();
    assert.ok((idle.replica?.receivedAgoMs ?? 99_999) <= 2000, `an idle primary still sends heartbeats (${idle.replica?.receivedAgoMs} ms)`);
    assert.equal(idle.replica?.sourceSilent, false);
    const pid = primary.supervisor.pid as number;
    process.kill(pid, 'SIGSTOP');
    const stoppedAt = Date.now();
    try {
      const silent = await waitFor(async () => {
        const st = await r1.client.getStatus();
        return st.replica?.sourceSilent ? st : undefined;
      }, 3500, 'the replica to find its hung source silent');
      // Well before the 4 s network timeout: the receiver still counts as connected, yet vouches for nothing.
      assert.equal(silent.replica?.ioConnected, true, 'still connected when found silent');
      assert.ok(Date.now() - stoppedAt < 3500);
      // The failover's fence: stopping a receiver blocked on the hung source does not wait for MariaDB's second
      // signal (2 s); the receiver is killed by id. Its received set stays.
      const fenceStarted = Date.now();
      assert.equal((await r2.client.stopReplicaIO()).changed, true);
      const fenceMs = Date.now() - fenceStarted;
      assert.ok(fenceMs < 1500, `the fence took ${fenceMs} ms`);
      const fenced = await r2.client.getStatus();
      assert.equal(fenced.replica?.ioRunning, false);
      assert.equal(fenced.replica?.sqlRunning, true);
      assert.notEqual(fenced.replica?.received?.text ?? '', '', 'what it received is kept');
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    await waitFor(async () => (await r1.client.getStatus()).replica?.sourceSilent === false, 10_000, 'the replica to hear its resumed source');
    // Back to the topology the next tests expect.
    await r2.client.configureReplica({ sourceHost: '127.0.0.1', sourcePort: primary.port, semiSync: true });
    await waitFor(async () => (await r2.client.getStatus()).replica?.ioConnected === true, 10_000, 'replica 2 to reconnect');
  });

  test('ConfigurePrimary and ConfigureReplica are idempotent', async () => {
    assert.equal((await primary.client.configurePrimary(1)).changed, false);
    assert.equal((await r1.client.configureReplica({ sourceHost: '127.0.0.1', sourcePort: primary.port, semiSync: true })).changed, false);
  });

  test('a read-only replica refuses writes from moco-admin and moco-writable', async () => {
    for (const [user, pw] of [['moco-admin', cluster.passwords.ADMIN_PASSWORD], ['moco-writable', cluster.passwords.WRITABLE_PASSWORD]] as const) {
      const c = await r1.connect(user, pw);
      try {
        await assert.rejects(c.query("INSERT INTO app.t (v) VALUES ('x')"), (e: { errno?: number }) => e.errno === 1290);
      } finally {
        await c.end();
      }
    }
  });

  test('WaitForGtid returns for an applied set and times out for a future one', async () => {
    const executed = (await primary.client.getStatus()).executed?.text as string;
    const r = await r2.client.waitForGtid(executed, 10_000);
    assert.ok(r.waitedMs >= 0);
    const future = (await primary.client.getStatus()).flavor === 'mariadb'
      ? `0-${(await primary.client.getStatus()).serverId}-999999`
      : `${(await primary.client.getStatus()).gtidSourceId}:1-999999`;
    const started = Date.now();
    await rejectsWith(r2.client.waitForGtid(future, 700), 'TIMEOUT');
    assert.ok(Date.now() - started >= 600, 'waited about the timeout');
  });

  test('bad arguments are refused with INVALID_ARGUMENT and change nothing', async () => {
    const before = await r1.client.getStatus();
    await rejectsWith(r1.client.configureReplica({ sourceHost: 'no-such-host.invalid', sourcePort: 3306, semiSync: true }), 'INVALID_ARGUMENT', /cannot be resolved/);
    await rejectsWith(r1.client.configureReplica({ sourceHost: '', sourcePort: 3306, semiSync: true }), 'INVALID_ARGUMENT', /empty/);
    await rejectsWith(r1.client.configureReplica({ sourceHost: '127.0.0.1', sourcePort: 0, semiSync: true }), 'INVALID_ARGUMENT', /port/);
    await rejectsWith(r1.client.configureReplica({ sourceHost: '127.0.0.1', sourcePort: primary.port, user: 'someone', password: '', semiSync: true }), 'INVALID_ARGUMENT', /password/);
    await rejectsWith(r1.client.waitForGtid('not a gtid set', 1000), 'INVALID_ARGUMENT');
    await rejectsWith(r1.client.waitForGtid('', 0), 'INVALID_ARGUMENT', /timeout/);
    await rejectsWith(r1.client.clone({}), 'INVALID_ARGUMENT', /donor/);
    const afterSt = await r1.client.getStatus();
    assert.equal(afterSt.replica?.sourcePort, before.replica?.sourcePort);
    assert.equal(afterSt.replica?.ioRunning, true);
    assert.equal(afterSt.readOnly, true);
  });

  test('ConfigureReplica refuses a writable instance', async () => {
    await rejectsWith(primary.client.configureReplica({ sourceHost: '127.0.0.1', sourcePort: r1.port, semiSync: true }), 'FAILED_PRECONDITION', /writable/);
    assert.equal((await primary.client.getStatus()).readOnly, false);
  });

  test('KillConnections kills user connections and leaves replication running', async () => {
    const user = await r1.connect('moco-readonly', cluster.passwords.READONLY_PASSWORD);
    const admin = await r1.connect();
    const { killed } = await r1.client.killConnections();
    assert.ok(killed >= 1);
    await assert.rejects(user.query('SELECT 1'));
    await admin.query('SELECT 1'); // the project's own accounts are kept
    await admin.end();
    user.destroy();
    const s = await r1.client.getStatus();
    assert.equal(s.replica?.ioRunning, true);
    assert.equal(s.replica?.sqlRunning, true);
  });

  test('FlushBinlogs rotates the binary log', async () => {
    const a = await primary.client.flushBinlogs();
    const b = await primary.client.flushBinlogs();
    assert.notEqual(a.binlogFile, b.binlogFile);
  });

  test('loss-less: with both replicas fenced a commit blocks until a replica acknowledges it', async () => {
    const before = await rowCount(primary);
    assert.equal((await r1.client.stopReplicaIO()).changed, true);
    assert.equal((await r2.client.stopReplicaIO()).changed, true);
    assert.equal((await r2.client.stopReplicaIO()).changed, false, 'StopReplicaIO is idempotent');
    const writer = await primary.connect('moco-writable', cluster.passwords.WRITABLE_PASSWORD);
    let committed = false;
    const insert = writer.query("INSERT INTO app.t (v) VALUES ('blocked')").then(() => {
      committed = true;
    });
    await waitFor(async () => (await primary.client.getStatus()).semiSync?.waitSessions === 1, 10_000, 'the commit to wait for an ack');
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(committed, false, 'the commit must not return without an acknowledgement');
    // A replica resumes receiving: it acknowledges and the commit returns.
    await r1.client.configureReplica({ sourceHost: '127.0.0.1', sourcePort: primary.port, semiSync: true });
    await insert;
    assert.equal(committed, true);
    await writer.end();
    await r2.client.configureReplica({ sourceHost: '127.0.0.1', sourcePort: primary.port, semiSync: true });
    await waitFor(async () => (await rowCount(r2)) === before + 1, 10_000, 'replica 2 to catch up');
  });

  test('SetWritable refuses while received transactions are not applied, then promotes', async () => {
    // Block r2's applier with a global read lock while its receiver keeps acknowledging.
    const lock = await r2.connect();
    await lock.query('FLUSH TABLES WITH READ LOCK');
    const w = await primary.connect('moco-writable', cluster.passwords.WRITABLE_PASSWORD);
    await w.query("INSERT INTO app.t (v) VALUES ('pending')");
    await w.end();
    await r1.client.stopReplicaIO();
    await r2.client.stopReplicaIO();
    await rejectsWith(r2.client.setWritable(), 'FAILED_PRECONDITION', /not applied/);
    assert.equal((await r2.client.getStatus()).readOnly, true);
    await lock.query('UNLOCK TABLES');
    await lock.end();
    const received = (await r2.client.getStatus()).replica?.received?.text as string;
    await r2.client.waitForGtid(received, 10_000);
    assert.equal((await r2.client.setWritable()).changed, true);
    const s = await r2.client.getStatus();
    assert.equal(s.readOnly, false);
    assert.equal(s.replica, null, 'no trace of the old source is left');
    assert.equal(await rowCount(r2), await rowCount(primary));
  });
});
