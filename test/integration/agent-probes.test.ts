/**
 * Probes and the status stream: /healthz, /readyz (the delay rule turning a lagging replica unready and ready
 * again), /metrics, and WatchStatus (first status at once, changes, heartbeats, and the stream ending soon after
 * mysqld stops answering).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { MocoError } from '../../src/shared/errors.ts';
import type { StatusEvent } from '../../src/shared/agent-client.ts';
import { createTestCluster, formReplication, waitFor, type TestCluster, type TestInstance } from '../helpers/harness.ts';

let cluster: TestCluster;
let primary: TestInstance;
let replica: TestInstance;

const http = async (inst: TestInstance, p: string): Promise<{ status: number; body: string }> => {
  const res = await fetch(`http://127.0.0.1:${inst.httpPort}${p}`);
  return { status: res.status, body: await res.text() };
};

describe('probes and status stream', () => {
  before(async () => {
    cluster = await createTestCluster('probes');
    primary = await cluster.add();
    replica = await cluster.add({ agentOptions: { maxDelayMs: 2000 } });
  });
  after(async () => {
    await cluster?.close();
  });

  test('a read-only instance that does not replicate is alive but not ready', async () => {
    assert.equal((await http(primary, '/healthz')).status, 200);
    const r = await http(primary, '/readyz');
    assert.equal(r.status, 500);
    assert.match(r.body, /not replicating/);
  });

  test('readiness follows the topology and the applier delay', async () => {
    await formReplication(primary, [replica]);
    assert.equal((await http(primary, '/readyz')).status, 200);
    const w = await primary.connect('moco-writable', cluster.passwords.WRITABLE_PASSWORD);
    await w.query('CREATE DATABASE app');
    await w.query('CREATE TABLE app.t (id INT PRIMARY KEY AUTO_INCREMENT, at TIMESTAMP(6) DEFAULT CURRENT_TIMESTAMP(6))');
    await waitFor(async () => (await http(replica, '/readyz')).status === 200, 15_000, 'the replica to be ready');

    // Hold the replica's applier with a global read lock while the primary keeps committing.
    const lock = await replica.connect();
    await lock.query('FLUSH TABLES WITH READ LOCK');
    const writes = setInterval(() => void w.query('INSERT INTO app.t () VALUES ()').catch(() => undefined), 100);
    try {
      await waitFor(async () => (await http(replica, '/readyz')).status === 503, 15_000, 'the lagging replica to turn unready');
      assert.match((await http(replica, '/readyz')).body, /delay/);
      const metrics = (await http(replica, '/metrics')).body;
      const delay = Number(/moco_instance_replication_delay_seconds\{[^}]*\} ([\d.]+)/.exec(metrics)?.[1]);
      assert.ok(delay >= 2, `delay metric ${delay}`);
    } finally {
      clearInterval(writes);
      await lock.query('UNLOCK TABLES');
      await lock.end();
    }
    await waitFor(async () => (await http(replica, '/readyz')).status === 200, 15_000, 'the replica to be ready again');
    await w.end();
  });

  test('metrics carry the cluster name and index and count RPCs', async () => {
    await replica.client.getStatus();
    const m = (await http(replica, '/metrics')).body;
    assert.match(m, /moco_instance_rpc_duration_seconds_count\{[^}]*method="GetStatus"[^}]*\} \d+/);
    assert.match(m, /moco_instance_status_checks_total\{[^}]*result="ok"/);
    assert.match(m, /name="probes"/);
    assert.match(m, /index="1"/);
  });

  test('WatchStatus sends the status at once, changes as they happen, and heartbeats', async () => {
    const events: StatusEvent[] = [];
    const stop = replica.client.watchStatus((e) => events.push(e), () => undefined);
    try {
      await waitFor(() => events.length >= 1, 3000, 'the first status');
      assert.equal(events[0]?.heartbeat, false);
      assert.equal(events[0]?.status?.readOnly, true);
      await waitFor(() => events.some((e) => e.heartbeat), 3000, 'a heartbeat');
      const n = events.length;
      const w = await primary.connect('moco-writable', cluster.passwords.WRITABLE_PASSWORD);
      await w.query('INSERT INTO app.t () VALUES ()');
      await w.end();
      await waitFor(() => events.slice(n).some((e) => !e.heartbeat), 3000, 'a change message after a write');
      // Over 3 seconds of idling: about a message a second, never more than about ten.
      const m = events.length;
      await new Promise((r) => setTimeout(r, 3000));
      const idle = events.length - m;
      assert.ok(idle >= 2 && idle <= 30, `${idle} messages in 3 s`);
    } finally {
      stop();
    }
  });

  test('WatchStatus ends within about a second of mysqld hanging', async () => {
    let ended: { at: number; err: MocoError | undefined } | undefined;
    let first = false;
    const stop = replica.client.watchStatus(() => {
      first = true;
    }, (err) => {
      ended = { at: Date.now(), err };
    });
    try {
      await waitFor(() => first, 3000, 'the first status');
      const hungAt = Date.now();
      replica.supervisor.signal('SIGSTOP');
      await waitFor(() => ended !== undefined, 5000, 'the stream to end');
      const e = ended as unknown as { at: number; err: MocoError | undefined };
      assert.equal(e.err?.code, 'MYSQLD_UNAVAILABLE');
      assert.ok(e.at - hungAt < 3000, `ended after ${e.at - hungAt} ms`);
      assert.equal((await http(replica, '/healthz')).status, 503);
    } finally {
      replica.supervisor.signal('SIGCONT');
      stop();
    }
    await waitFor(async () => (await http(replica, '/healthz')).status === 200, 10_000, 'mysqld to answer again');
    // The status read that timed out dropped its connection; the next one connects again.
    assert.ok((await replica.client.getStatus()).serverId > 0);
  });

  test('GetStatus fails while mysqld is down and answers again after it restarts', async () => {
    const before = await replica.client.getStatus();
    await replica.supervisor.stop();
    try {
      await assert.rejects(replica.client.getStatus(), (e: MocoError) => e.code === 'MYSQLD_UNAVAILABLE');
    } finally {
      await replica.supervisor.start();
    }
    const after = await waitFor(async () => replica.client.getStatus().catch(() => undefined), 20_000, 'GetStatus after the restart');
    assert.equal(after.instanceId, before.instanceId, 'same data directory, same instance id');
  });
});
