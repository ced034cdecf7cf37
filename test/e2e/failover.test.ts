/**
 * Failover and switchover end to end, through the moco CLI, under continuous writes through the primary
 * endpoint: no acknowledged write may be lost, and the old primary must never take writes again.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LocalCluster, Writer, lost, waitFor } from './local-cluster.ts';

describe('failover and switchover (3 instances, writes through the primary endpoint)', { timeout: 600_000 }, () => {
  let c: LocalCluster;
  after(async () => {
    await c?.destroy();
  });

  it('forms a healthy cluster', async () => {
    c = await LocalCluster.up('fo');
    const st = await c.waitHealthy();
    assert.equal(st.status.currentPrimaryIndex, 0);
    assert.deepEqual(st.instances.map((i) => i.role), ['primary', 'replica', 'replica']);
    await Writer.prepare(c);
  });

  it('fails over after SIGKILL of every process of the primary instance; nothing acknowledged is lost; the old primary comes back fenced or as a replica', async () => {
    const w = new Writer(c);
    w.start();
    await w.progress(200);
    const before = await c.status();
    const old = before.status.currentPrimaryIndex;
    await c.signalInstance(old, 'SIGKILL');
    const killedAt = Date.now();
    const st = await c.waitStatus((s) => s.status.currentPrimaryIndex !== old && s.status.conditions.some((x) => x.type === 'Available' && x.status === 'True'),
      30_000, 'a failover');
    await w.progress(200);
    await w.stop();
    const gap = w.gaps.filter((g) => g.endedAt > killedAt).reduce((m, g) => Math.max(m, g.ms), 0);
    process.stdout.write(`# failover: new primary ${st.status.currentPrimaryIndex}, writes unavailable ${gap} ms, ${w.errors} client errors\n`);
    assert.deepEqual(lost(w.acked, await c.rows('primary')), [], 'acknowledged writes lost');
    assert.equal(st.instances[old]?.role, '', 'the dead primary lost its role');

    // Bring the old primary back: it either rejoins as a replica or, holding a commit nobody acknowledged, is fenced.
    const r = await c.moco(['up', '-d', '--name', 'fo']);
    assert.equal(r.code, 0, r.stderr);
    const back = await c.waitStatus((s) => s.instances[old]?.pids.mysqld !== null &&
      (s.status.errantReplicaList.includes(old) || (s.instances[old]?.ready === true && s.status.state === 'Healthy')), 60_000, 'the old primary to be judged');
    if (back.status.errantReplicaList.includes(old)) {
      assert.equal(back.instances[old]?.role, '');
      const re = await c.moco(['reinit', 'fo', '--index', String(old)]);
      assert.equal(re.code, 0, re.stderr);
    }
    await c.waitHealthy(120_000);
    const rows = await c.rows('primary');
    assert.deepEqual(lost(w.acked, await c.rows(old)), [], 'the rejoined old primary lacks acknowledged rows');
    assert.deepEqual(await c.rows(old), rows.filter((id) => id <= (rows.at(-1) ?? 0)), 'the old primary matches the primary');
  });

  it('switches over under writes, then fails over from a hung primary (SIGSTOP) that cannot take writes when it resumes', async () => {
    const w = new Writer(c);
    w.start();
    await w.progress(100);
    const before = (await c.status()).status.currentPrimaryIndex;
    const startedAt = Date.now();
    const r = await c.moco(['switchover', 'fo']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /switched the primary/);
    await w.progress(100);
    const st = await c.status();
    assert.notEqual(st.status.currentPrimaryIndex, before);
    const gap = w.gaps.filter((g) => g.endedAt > startedAt).reduce((m, g) => Math.max(m, g.ms), 0);
    process.stdout.write(`# switchover: ${before} -> ${st.status.currentPrimaryIndex}, writes unavailable ${gap} ms\n`);
    await c.waitHealthy();

    // Hang the primary's mysqld.
    const hung = st.status.currentPrimaryIndex;
    await c.signalInstance(hung, 'SIGSTOP', ['mysqld']);
    const stoppedAt = Date.now();
    let resumed = false;
    try {
      await c.waitStatus((s) => s.status.currentPrimaryIndex !== hung &&
        s.status.conditions.some((x) => x.type === 'Available' && x.status === 'True'), 60_000, 'a failover from the hung primary');
      process.stdout.write(`# hung primary ${hung}: failover after ${Date.now() - stoppedAt} ms\n`);
      await w.progress(100);
      await c.signalInstance(hung, 'SIGCONT', ['mysqld']);
      resumed = true;
      // Writes straight to the old primary's mysqld must not commit.
      const direct = await c.connect(hung, 'moco-writable');
      const attempt = await direct.query({ sql: 'INSERT INTO e2e.w (id) VALUES (?)', values: [-1], timeout: 5000 }).then(() => 'committed', (err: Error) => err.message);
      direct.destroy();
      assert.notEqual(attempt, 'committed', 'the resumed old primary accepted a write');
      await w.stop();
      assert.deepEqual(lost(w.acked, await c.rows('primary')), [], 'acknowledged writes lost');
      assert.ok(!(await c.rows('primary')).includes(-1));
      // It is judged like any returning instance: errant and fenced, or a replica again.
      const judged = await waitFor(async () => {
        const s = await c.status();
        return (s.status.errantReplicaList.includes(hung) || s.instances[hung]?.ready) ? s : undefined;
      }, 60_000, 'the resumed primary to be judged');
      process.stdout.write(`# resumed primary ${hung}: ${judged.status.errantReplicaList.includes(hung) ? 'errant' : 'replica'} after ${Date.now() - stoppedAt} ms\n`);
      if (judged.status.errantReplicaList.includes(hung)) assert.equal(judged.instances[hung]?.role, '');
      else assert.equal(judged.instances[hung]?.role, 'replica');
    } finally {
      if (!resumed) await c.signalInstance(hung, 'SIGCONT', ['mysqld']).catch(() => undefined);
      await w.stop();
    }
  });
});
