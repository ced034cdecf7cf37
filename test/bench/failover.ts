/**
 * Failover and switchover benchmark (npm run bench:failover [-- ROUNDS]): a 3-instance local cluster, a writer
 * doing autocommit inserts through the primary endpoint, then ROUNDS (default 20) of
 *   (a) SIGKILL of every process of the primary instance (then `moco up` brings it back, reinit if errant), and
 *   (b) `moco switchover`.
 * Prints p50/p95/max of the write unavailability the client saw (the longest gap between two acknowledged
 * inserts around each event) and the number of acknowledged writes lost, then one JSON line.
 */
import { LocalCluster, Writer, lost } from '../e2e/local-cluster.ts';

const rounds = Number(process.argv[2] ?? process.env.ROUNDS ?? 20);

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? NaN;
}

function gapSince(w: Writer, t: number): number {
  return w.gaps.filter((g) => g.endedAt > t).reduce((m, g) => Math.max(m, g.ms), 0);
}

async function main(): Promise<void> {
  const c = await LocalCluster.up('bench');
  const failovers: number[] = [];
  const switchovers: number[] = [];
  let errantRejoins = 0;
  try {
    await c.waitHealthy();
    await Writer.prepare(c);
    const w = new Writer(c);
    w.start();
    await w.progress(50);
    for (let r = 1; r <= rounds; r++) {
      // (a) failover
      const before = await c.status();
      const old = before.status.currentPrimaryIndex;
      const t0 = Date.now();
      await c.signalInstance(old, 'SIGKILL');
      await c.waitStatus((s) => s.status.currentPrimaryIndex !== old, 60_000, 'a failover');
      await w.progress(20, 60_000);
      failovers.push(gapSince(w, t0));
      const up = await c.moco(['up', '-d', '--name', 'bench']);
      if (up.code !== 0) throw new Error(`moco up failed: ${up.stderr}`);
      const judged = await c.waitStatus((s) => s.status.errantReplicaList.includes(old) || s.status.state === 'Healthy', 120_000, 'the old primary to be judged');
      if (judged.status.errantReplicaList.includes(old)) {
        errantRejoins++;
        const re = await c.moco(['reinit', 'bench', '--index', String(old)]);
        if (re.code !== 0) throw new Error(`moco reinit failed: ${re.stderr}`);
      }
      await c.waitHealthy(180_000);
      // (b) switchover
      const t1 = Date.now();
      const sw = await c.moco(['switchover', 'bench']);
      if (sw.code !== 0) throw new Error(`moco switchover failed: ${sw.stderr}`);
      await w.progress(20, 60_000);
      switchovers.push(gapSince(w, t1));
      await c.waitHealthy(120_000);
      process.stdout.write(`round ${r}/${rounds}: failover ${failovers.at(-1)} ms, switchover ${switchovers.at(-1)} ms\n`);
    }
    await w.stop();
    const missing = lost(w.acked, await c.rows('primary'));
    const f = { p50: pct(failovers, 50), p95: pct(failovers, 95), max: Math.max(...failovers) };
    const s = { p50: pct(switchovers, 50), p95: pct(switchovers, 95), max: Math.max(...switchovers) };
    process.stdout.write(`
write unavailability seen by the client (ms), ${rounds} rounds each, ${w.acked.length} acknowledged inserts:
  failover (SIGKILL of the primary instance): p50 ${f.p50}  p95 ${f.p95}  max ${f.max}   (goal p95 < 5000)
  switchover (moco switchover):               p50 ${s.p50}  p95 ${s.p95}  max ${s.max}   (goal p95 < 1000)
  acknowledged writes lost: ${missing.length}; old primaries that came back errant and were re-initialized: ${errantRejoins}
  seed system defaults for comparison: status check every 60 s with 3 tries 3 s apart, so a failover starts
  6-66 s after the crash (about 36 s on average) before any promotion work.
`);
    process.stdout.write(`${JSON.stringify({ bench: 'failover', rounds, failoverMs: f, switchoverMs: s, acknowledged: w.acked.length, lost: missing.length, errantRejoins })}\n`);
    if (missing.length > 0) process.exitCode = 1;
  } finally {
    await c.destroy();
  }
}

await main();
