/**
 * Failover and switchover on Kubernetes (npm run bench:kube [-- ROUNDS]): on the test bed (scripts/kube/, started
 * and stopped here unless it already runs), the operator installed from config/default, a 3-instance cluster of the
 * test bed's MariaDB image, a writer doing autocommit inserts through the primary Service from this machine, then
 * ROUNDS (default 20) of
 *   (a) SIGKILL of the primary's mysqld container (the kubelet restarts it; it comes back as a replica), and
 *   (b) `kubectl moco switchover`.
 * For each event: the write unavailability the client saw (the longest gap between two acknowledged inserts around
 * it), split into "until the role labels changed" (detection, promotion, label patch: the controller's part) and
 * "until the first write through the Service" (Endpoints update, kube-proxy rules, the client reconnecting).
 * Prints p50/p95/max and the acknowledged writes lost (must be 0), then one JSON line.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import {
  apply, clusterManifest, ensureTestbed, getJson, healAfterFailover, installOperator, killContainer, kubectl, kubectlMoco, leader, secretData, serviceIP,
  teardownTestbed, waitFor,
} from '../helpers/kube.ts';
import { Writer } from '../helpers/kube-writer.ts';

const rounds = Number(process.argv[2] ?? process.env.ROUNDS ?? 20);
const NAME = 'bench';

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? NaN;
}
const summary = (xs: number[]) => ({ p50: pct(xs, 50), p95: pct(xs, 95), max: Math.max(...xs) });

interface Pod { metadata: { name: string; labels?: Record<string, string> } }
interface Cluster { status?: { conditions?: Array<{ type: string; status: string }> } }

async function primaryPod(): Promise<string | undefined> {
  const { items } = await getJson<{ items: Pod[] }>(['pods', '-l', `app.kubernetes.io/instance=${NAME}`], 'default');
  return items.find((p) => p.metadata.labels?.['moco.cybozu.com/role'] === 'primary')?.metadata.name;
}

async function waitHealthy(timeoutMs = 300_000): Promise<void> {
  await waitFor(`${NAME} to be Healthy`, async () => {
    const c = await getJson<Cluster>(['mysqlcluster', NAME], 'default');
    return c.status?.conditions?.find((x) => x.type === 'Healthy')?.status === 'True';
  }, { timeoutMs, intervalMs: 500 });
}

/** Polls the primary's role label every 50 ms until it is on another Pod than `old`; returns when it moved. */
async function labelMoved(old: string, timeoutMs = 60_000): Promise<number> {
  await waitFor('the primary label to move', async () => { const p = await primaryPod(); return p !== undefined && p !== old; }, { timeoutMs, intervalMs: 50 });
  return Date.now();
}

async function main(): Promise<void> {
  const tb = await ensureTestbed();
  await installOperator();
  const failover = { total: [] as number[], labels: [] as number[], service: [] as number[] };
  const switchover = { total: [] as number[], labels: [] as number[], service: [] as number[] };
  let errantRejoins = 0;
  try {
    await kubectl(['delete', 'mysqlcluster', NAME, '--ignore-not-found', '--timeout=180s'], { timeoutMs: 200_000 });
    await apply(clusterManifest({ name: NAME, image: tb.images.mysqld, replicas: 3, cpu: '500m', memory: '1Gi' }));
    await waitHealthy();
    const secret = await secretData(`moco-${NAME}`, 'default');
    const w = new Writer(await serviceIP(`moco-${NAME}-primary`), secret.WRITABLE_PASSWORD ?? '');
    await w.prepare();
    w.start();
    await w.progress(50);
    for (let r = 1; r <= rounds; r++) {
      const old = await primaryPod() as string;
      const t0 = Date.now();
      await killContainer(old, 'mysqld');
      const l0 = await labelMoved(old);
      await w.progress(20, 60_000);
      failover.total.push(w.gapSince(t0));
      failover.labels.push(l0 - t0);
      failover.service.push((w.firstAckAfter(l0) ?? l0) - l0);
      if (await healAfterFailover(NAME, Number(old.split('-').pop()))) errantRejoins++;

      const old1 = await primaryPod() as string;
      const t1 = Date.now();
      const moved = labelMoved(old1);
      const sw = await kubectlMoco(['switchover', NAME]);
      if (sw.code !== 0) throw new Error(`kubectl moco switchover failed: ${sw.stdout}${sw.stderr}`);
      const l1 = await moved;
      await w.progress(20, 60_000);
      switchover.total.push(w.gapSince(t1));
      switchover.labels.push(l1 - t1);
      switchover.service.push((w.firstAckAfter(l1) ?? l1) - l1);
      await waitHealthy();
      process.stdout.write(`round ${r}/${rounds}: failover ${failover.total.at(-1)} ms (labels after ${failover.labels.at(-1)} ms), ` +
        `switchover ${switchover.total.at(-1)} ms (labels after ${switchover.labels.at(-1)} ms)\n`);
    }
    await w.stop();
    const missing = await w.lost();
    const f = summary(failover.total);
    const s = summary(switchover.total);
    const fl = summary(failover.labels);
    const fs = summary(failover.service);
    const sl = summary(switchover.labels);
    const ss = summary(switchover.service);
    process.stdout.write(`
write unavailability seen by a client of the primary Service (ms), ${rounds} rounds each, ${w.acked.length} acknowledged inserts:
  failover (SIGKILL of the primary's mysqld container): p50 ${f.p50}  p95 ${f.p95}  max ${f.max}   (goal p95 < 3000)
    until the role labels moved:            p50 ${fl.p50}  p95 ${fl.p95}  max ${fl.max}
    labels moved -> first write (Service):  p50 ${fs.p50}  p95 ${fs.p95}  max ${fs.max}
  switchover (kubectl moco switchover):                p50 ${s.p50}  p95 ${s.p95}  max ${s.max}   (goal p95 < 2000)
    until the role labels moved:            p50 ${sl.p50}  p95 ${sl.p95}  max ${sl.max}
    labels moved -> first write (Service):  p50 ${ss.p50}  p95 ${ss.p95}  max ${ss.max}
  acknowledged writes lost: ${missing.length}; old primaries that came back errant (a commit no replica had received,
  never acknowledged) and were re-initialized by deleting their claim and Pod: ${errantRejoins}
`);
    process.stdout.write(`${JSON.stringify({
      bench: 'kube', rounds, failoverMs: f, failoverLabelsMs: fl, failoverServiceMs: fs,
      switchoverMs: s, switchoverLabelsMs: sl, switchoverServiceMs: ss, acknowledged: w.acked.length, lost: missing.length, errantRejoins,
    })}\n`);
    if (missing.length > 0) process.exitCode = 1;
  } finally {
    // The leading controller's log, to see where a slow round spent its time (its "writes possible again" lines).
    const lead = await leader().catch(() => '');
    if (lead) {
      const log = await kubectl(['-n', 'moco-system', 'logs', lead], { timeoutMs: 60_000 }).catch(() => '');
      await mkdir('tmp', { recursive: true });
      await writeFile('tmp/bench-kube-controller.log', log);
      process.stdout.write(`the leading controller's log: tmp/bench-kube-controller.log\n`);
    }
    await kubectl(['delete', 'mysqlcluster', NAME, '--ignore-not-found', '--timeout=180s'], { timeoutMs: 200_000 }).catch(() => undefined);
    await teardownTestbed();
  }
}

await main();
