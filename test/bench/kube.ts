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
  teardownTestbed, waitHealthy,
} from '../helpers/kube.ts';
import { Writer } from '../helpers/kube-writer.ts';
import { KubeTrace, describeTrace, type EventTrace } from './kube-trace.ts';

const rounds = Number(process.argv[2] ?? process.env.ROUNDS ?? 20);
/** The client's connect timeout (mysql2's default is 10 s; a shorter one bounds what one attempt at a stale rule costs). */
const connectTimeoutMs = Number(process.env.CONNECT_TIMEOUT_MS ?? 2000);
const NAME = 'bench';

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? NaN;
}
const summary = (xs: number[]) => ({ p50: pct(xs, 50), p95: pct(xs, 95), max: Math.max(...xs) });

interface Pod { metadata: { name: string; labels?: Record<string, string> } }
async function primaryPod(): Promise<string | undefined> {
  const { items } = await getJson<{ items: Pod[] }>(['pods', '-l', `app.kubernetes.io/instance=${NAME}`], 'default');
  return items.find((p) => p.metadata.labels?.['moco.cybozu.com/role'] === 'primary')?.metadata.name;
}


/** The stages of one kind of event across rounds. */
class Stages {
  total: number[] = [];
  labels: number[] = [];
  service: number[] = [];
  toEndpoints: number[] = [];
  toRules: number[] = [];
  toAck: number[] = [];

  add(total: number, t: EventTrace): void {
    this.total.push(total);
    if (t.label !== undefined) this.labels.push(t.label);
    if (t.label !== undefined && t.firstAck !== undefined) this.service.push(t.firstAck - t.label);
    if (t.label !== undefined && t.endpoints !== undefined) this.toEndpoints.push(t.endpoints - t.label);
    if (t.endpoints !== undefined && t.rules !== undefined) this.toRules.push(t.rules - t.endpoints);
    if (t.rules !== undefined && t.firstAck !== undefined) this.toAck.push(t.firstAck - t.rules);
  }

  report(): string {
    const line = (what: string, xs: number[]): string => {
      const x = summary(xs);
      return `    ${what.padEnd(42)} p50 ${x.p50}  p95 ${x.p95}  max ${x.max}\n`;
    };
    return line('until the role label moved:', this.labels) + line('label moved -> first write (Service):', this.service) +
      line('  label -> Endpoints updated:', this.toEndpoints) + line('  Endpoints -> kube-proxy rules synced:', this.toRules) +
      line('  rules synced -> first write:', this.toAck);
  }

  json(): Record<string, unknown> {
    return {
      ms: summary(this.total), labelsMs: summary(this.labels), serviceMs: summary(this.service),
      endpointsMs: summary(this.toEndpoints), rulesMs: summary(this.toRules), ackMs: summary(this.toAck),
    };
  }
}

async function main(): Promise<void> {
  const tb = await ensureTestbed();
  await installOperator();
  const failover = new Stages();
  const switchover = new Stages();
  let errantRejoins = 0;
  const trace = new KubeTrace({ kubeconfig: tb.kubeconfig, namespace: 'default', cluster: NAME });
  try {
    await kubectl(['delete', 'mysqlcluster', NAME, '--ignore-not-found', '--timeout=180s'], { timeoutMs: 200_000 });
    await apply(clusterManifest({ name: NAME, image: tb.images.mysqld, replicas: 3, cpu: '500m', memory: '1Gi' }));
    await waitHealthy(NAME);
    await trace.start();
    const secret = await secretData(`moco-${NAME}`, 'default');
    const w = new Writer(await serviceIP(`moco-${NAME}-primary`), secret.WRITABLE_PASSWORD ?? '', connectTimeoutMs);
    await w.prepare();
    w.start();
    await w.progress(50);
    for (let r = 1; r <= rounds; r++) {
      const old = await primaryPod() as string;
      const t0 = Date.now();
      await killContainer(old, 'mysqld');
      await trace.labelMoved(t0, old);
      await w.progress(20, 60_000);
      const tf = trace.event(t0, old, w);
      failover.add(w.gapSince(t0), tf);
      if (await healAfterFailover(NAME, Number(old.split('-').pop()))) errantRejoins++;

      const old1 = await primaryPod() as string;
      const t1 = Date.now();
      const sw = await kubectlMoco(['switchover', NAME]);
      if (sw.code !== 0) throw new Error(`kubectl moco switchover failed: ${sw.stdout}${sw.stderr}`);
      await trace.labelMoved(t1, old1);
      await w.progress(20, 60_000);
      const ts = trace.event(t1, old1, w);
      switchover.add(w.gapSince(t1), ts);
      await waitHealthy(NAME);
      process.stdout.write(`round ${r}/${rounds}: failover ${failover.total.at(-1)} ms: ${describeTrace(tf)}\n` +
        `  switchover ${switchover.total.at(-1)} ms: ${describeTrace(ts)}\n`);
    }
    await w.stop();
    const missing = await w.lost();
    const f = summary(failover.total);
    const s = summary(switchover.total);
    process.stdout.write(`
write unavailability seen by a client of the primary Service (ms; client connect timeout ${connectTimeoutMs} ms), ${rounds} rounds each, ${w.acked.length} acknowledged inserts:
  failover (SIGKILL of the primary's mysqld container): p50 ${f.p50}  p95 ${f.p95}  max ${f.max}   (goal p95 < 3000)
${failover.report()}  switchover (kubectl moco switchover):                p50 ${s.p50}  p95 ${s.p95}  max ${s.max}   (goal p95 < 2000)
${switchover.report()}  acknowledged writes lost: ${missing.length}; old primaries that came back errant (a commit no replica had received,
  never acknowledged) and were re-initialized by deleting their claim and Pod: ${errantRejoins}
`);
    process.stdout.write(`${JSON.stringify({
      bench: 'kube', rounds, connectTimeoutMs, failover: failover.json(), switchover: switchover.json(),
      acknowledged: w.acked.length, lost: missing.length, errantRejoins,
    })}\n`);
    if (missing.length > 0) process.exitCode = 1;
  } finally {
    await trace.stop();
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
