/**
 * Clone: an empty instance copies about 200 MB from a primary (MariaDB: mariadb-backup streamed between the
 * agents; MySQL: CLONE INSTANCE), restarts on the new data through the supervisor, ends with identical rows
 * and then replicates. Also: single-flight, refusal of a recipient with user data, progress in status/metrics.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { scratchRoot } from '../../src/agent/scratch.ts';
import { MocoError } from '../../src/shared/errors.ts';
import { createTestCluster, formReplication, waitFor, type TestCluster, type TestInstance } from '../helpers/harness.ts';

let cluster: TestCluster;
let primary: TestInstance;
let replica: TestInstance;
let fresh: TestInstance;

const TARGET_BYTES = Number(process.env.MOCO_CLONE_TEST_MB ?? 200) * 1024 * 1024;

async function checksum(inst: TestInstance): Promise<string> {
  const c = await inst.connect();
  try {
    const [rows] = await c.query('SELECT COUNT(*) AS n, SUM(id) AS s, SUM(CRC32(pad)) AS h FROM app.big');
    const r = (rows as Record<string, unknown>[])[0] ?? {};
    return `${String(r.n)}/${String(r.s)}/${String(r.h)}`;
  } finally {
    await c.end();
  }
}

describe('clone', () => {
  before(async () => {
    cluster = await createTestCluster('clone');
    primary = await cluster.add();
    replica = await cluster.add();
    await formReplication(primary, [replica]);
    const c = await primary.connect('moco-writable', cluster.passwords.WRITABLE_PASSWORD);
    await c.query('CREATE DATABASE app');
    await c.query('CREATE TABLE app.big (id INT PRIMARY KEY AUTO_INCREMENT, pad VARCHAR(1000)) ENGINE=InnoDB');
    // About 1 KB a row, inserted in large batches: 200 MB in a few seconds.
    const rowsPerBatch = 2000;
    const batches = Math.ceil(TARGET_BYTES / (1024 * rowsPerBatch));
    for (let b = 0; b < batches; b++) {
      await c.query(`INSERT INTO app.big (pad) SELECT REPEAT(MD5(RAND()), 31) FROM (SELECT 1 FROM information_schema.COLUMNS LIMIT ${rowsPerBatch}) x`);
    }
    await c.end();
    fresh = await cluster.add();
  });
  after(async () => {
    await cluster?.close();
  });

  test('a recipient holding user data is refused and keeps its data', async () => {
    const st = await replica.client.getStatus();
    await assert.rejects(
      replica.client.clone({ donorAgentAddress: primary.grpcAddress, donorHost: '127.0.0.1', donorPort: primary.port }),
      (e: unknown) => e instanceof MocoError && e.code === 'FAILED_PRECONDITION' && /user data/.test(e.message),
    );
    const after = await replica.client.getStatus();
    assert.equal(after.instanceId, st.instanceId);
    assert.equal(after.hasUserData, true);
  });

  test('an empty instance clones about 200 MB, ends with identical rows, then replicates', async () => {
    const before = await fresh.client.getStatus();
    assert.equal(before.hasUserData, false);
    const startsBefore = fresh.supervisor.starts;
    const cloning = fresh.client.clone({ donorAgentAddress: primary.grpcAddress, donorHost: '127.0.0.1', donorPort: primary.port });
    // Single-flight: a second clone while the first runs is refused at once.
    await waitFor(() => fresh.daemon.agent.clone.snapshot().state === 'in_progress', 10_000, 'the clone to start');
    await assert.rejects(
      fresh.client.clone({ donorAgentAddress: primary.grpcAddress, donorHost: '127.0.0.1', donorPort: primary.port }),
      (e: unknown) => e instanceof MocoError && (e.code === 'BUSY' || e.code === 'FAILED_PRECONDITION'),
    );
    if (before.flavor === 'mariadb') {
      // The donor's option file (it holds the donor password) is private to the donor instance, not in /tmp.
      const scratch = scratchRoot(primary.layout.dataDir);
      assert.equal(path.dirname(scratch), primary.layout.root);
      let optionFile = '';
      await waitFor(async () => {
        const dirs = (await fs.readdir(scratch).catch(() => [])).filter((d) => d.startsWith('donor-'));
        optionFile = dirs[0] ? path.join(scratch, dirs[0], 'backup.cnf') : '';
        return optionFile !== '' && (await fs.stat(optionFile).then(() => true, () => false));
      }, 10_000, 'the donor\'s option file');
      assert.equal((await fs.stat(optionFile)).mode & 0o777, 0o600);
      assert.equal((await fs.stat(scratch)).mode & 0o777, 0o700);
    }
    const res = await cloning;
    assert.deepEqual(await fs.readdir(scratchRoot(primary.layout.dataDir)).catch(() => []), [], 'the donor removed its scratch files');
    assert.ok(Number(res.bytesTransferred) > TARGET_BYTES * 0.8 || before.flavor === 'mysql', `transferred ${res.bytesTransferred} bytes`);
    assert.ok(fresh.supervisor.starts > startsBefore, 'mysqld was restarted on the new data');

    const after = await fresh.client.getStatus();
    assert.equal(after.clone?.state, 'completed');
    assert.equal(after.hasUserData, true);
    assert.notEqual(after.instanceId, before.instanceId, 'a new data directory is a new instance');
    assert.equal(await checksum(fresh), await checksum(primary));

    const metrics = await (await fetch(`http://127.0.0.1:${fresh.httpPort}/metrics`)).text();
    assert.match(metrics, /moco_instance_clone_count\{[^}]*\} 1/);
    assert.match(metrics, /moco_instance_clone_duration_seconds_count\{[^}]*\} 1/);
    assert.match(metrics, /moco_instance_clone_in_progress\{[^}]*\} 0/);

    // It replicates from where the copy ends: new rows arrive, nothing is applied twice.
    await fresh.client.setReadOnly();
    await fresh.client.configureReplica({ sourceHost: '127.0.0.1', sourcePort: primary.port, semiSync: true });
    const c = await primary.connect('moco-writable', cluster.passwords.WRITABLE_PASSWORD);
    await c.query("INSERT INTO app.big (pad) VALUES ('after clone')");
    await c.end();
    await waitFor(async () => (await checksum(fresh)) === (await checksum(primary)), 20_000, 'the clone to replicate new rows');
    const s = await fresh.client.getStatus();
    assert.equal(s.replica?.lastSqlErrno, 0, s.replica?.lastSqlError);
    assert.equal(s.replica?.sqlRunning, true);
  });

  test('what an agent killed mid-donation left in its scratch space is removed when the agent starts again', async () => {
    // An agent killed while it donates cannot remove its option file; the next start sweeps it.
    const leftover = path.join(scratchRoot(primary.layout.dataDir), 'donor-killed');
    await fs.mkdir(leftover, { recursive: true });
    await fs.writeFile(path.join(leftover, 'backup.cnf'), '[mariadb-backup]\npassword=secret\n', { mode: 0o600 });
    await primary.restartAgent();
    assert.deepEqual(await fs.readdir(scratchRoot(primary.layout.dataDir)), []);
    assert.equal((await primary.client.getStatus()).hasUserData, true, 'the agent serves again');
  });
});
