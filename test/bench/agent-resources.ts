/**
 * Agent container resources (npm run build && npm run bench:agent-resources): what one agent and the tools it runs
 * use, to size the agent container's requests and limits (AGENT_RESOURCES, src/platform/kubernetes/statefulset.ts).
 *
 * A 3-instance local cluster (`moco up`, the real agent processes as local clusters run them: the esbuild bundle
 * with AGENT_NODE_FLAGS), a BackupPolicy on a real S3-compatible store (OpenStack Swift, test/helpers/s3-store.ts),
 * MOCO_BENCH_MB (default 512) of rows loaded through the primary endpoint. Then, read from /proc:
 *
 *   idle    every agent MOCO_BENCH_IDLE_S (default 60) seconds after it started: VmRSS and VmHWM, and its CPU over
 *           the next MOCO_BENCH_IDLE_WINDOW_S (default 30) seconds (status streams to the coordinator, probes);
 *   clone   `moco reinit` of a replica: the coordinator clones it from the primary. The recipient's agent is a new
 *           process (figures from its start: VmHWM, CPU); the donor's (the primary's) peak is reset before;
 *   backup  `moco backup` into the store (mariadb-backup | zstd | multipart upload in the source replica's agent).
 *
 * For every phase and agent: the agent process's VmHWM (its peak RSS; reset with `echo 5 > /proc/PID/clear_refs`
 * before the phase, so it is the phase's own peak), the highest VmRSS sampled every 100 ms, the highest sum of the
 * agent's VmRSS and the peak (VmHWM) of each process it started that runs at that sample (mariadb-backup, mbstream,
 * zstd: they run in the agent container, so its memory limit covers them; a tool that lives less than 100 ms is
 * missed), CPU seconds of the agent and of agent plus those processes
 * (utime+stime, and cutime+cstime for the ones it reaped), and the highest CPU rate over one second (cores).
 * Prints the figures and one JSON line. Needs root or the agents' owner (clear_refs).
 */
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { requireMysqld } from '../../src/agent/mysqld.ts';
import { defaultManifest } from '../../src/platform/local/manifest.ts';
import { LocalCluster } from '../e2e/local-cluster.ts';
import { startS3Store, type S3Store } from '../helpers/s3-store.ts';

const DATA_MB = Number(process.env.MOCO_BENCH_MB ?? 512);
const IDLE_S = Number(process.env.MOCO_BENCH_IDLE_S ?? 60);
const IDLE_WINDOW_S = Number(process.env.MOCO_BENCH_IDLE_WINDOW_S ?? 30);
const SAMPLE_MS = 100;
const TICKS = 100; // getconf CLK_TCK on Linux
const root = path.resolve(import.meta.dirname, '../..');
const mb = (kb: number): number => Math.round(kb / 1024);

// ---- /proc ----

function statusKb(pid: number): { rss: number; hwm: number } | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    return { rss: Number(/VmRSS:\s+(\d+)/.exec(s)?.[1] ?? 0), hwm: Number(/VmHWM:\s+(\d+)/.exec(s)?.[1] ?? 0) };
  } catch {
    return undefined;
  }
}

/** utime+stime (own) and cutime+cstime (reaped children), in ticks; the start time in ticks after boot. */
function cpuTicks(pid: number): { own: number; reaped: number; start: number } | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    // Fields from the state (field 3): utime 14, stime 15, cutime 16, cstime 17, starttime 22.
    const n = (field: number): number => Number(f[field - 3]);
    return { own: n(14) + n(15), reaped: n(16) + n(17), start: n(22) };
  } catch {
    return undefined;
  }
}

function descendants(pid: number): number[] {
  const out: number[] = [];
  const walk = (p: number): void => {
    let tasks: string[];
    try {
      tasks = readdirSync(`/proc/${p}/task`);
    } catch {
      return;
    }
    for (const t of tasks) {
      let kids: string;
      try {
        kids = readFileSync(`/proc/${p}/task/${t}/children`, 'utf8');
      } catch {
        continue;
      }
      for (const k of kids.trim().split(/\s+/).filter(Boolean).map(Number)) {
        out.push(k);
        walk(k);
      }
    }
  };
  walk(pid);
  return out;
}

const uptimeTicks = (): number => Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]) * TICKS;

/** Resets VmHWM to the current RSS (Linux: clear_refs 5), so that a later VmHWM is the peak since now. */
function resetPeak(pid: number): void {
  writeFileSync(`/proc/${pid}/clear_refs`, '5');
}

// ---- sampling ----

interface Figures {
  /** VmHWM at the end: the agent process's peak RSS over the phase (or since its start). */
  hwm_mb: number;
  /** The highest VmRSS sampled. */
  peak_rss_mb: number;
  /** The highest sum, sampled, of the agent's VmRSS and the VmHWM of every process under it (the tools). */
  tree_peak_rss_mb: number;
  /** The agent process's own CPU seconds over the phase. */
  cpu_s: number;
  /** The agent's and every process under it (the tools), CPU seconds over the phase. */
  tree_cpu_s: number;
  /** The highest CPU rate of agent and tools over one second, in cores. */
  tree_peak_cores: number;
}

/** Samples one agent and what runs under it every 100 ms until stopped. */
class Sampler {
  private peakRss = 0;
  private peakTree = 0;
  private peakCores = 0;
  private readonly first: { own: number; reaped: number };
  private window: Array<{ at: number; ticks: number }> = [];
  private readonly timer: NodeJS.Timeout;

  /** `fromStart`: count CPU from the process's start (a process started for the phase), not from now. */
  constructor(readonly pid: number, fromStart = false) {
    const c = cpuTicks(pid);
    if (!c) throw new Error(`process ${pid} is gone`);
    this.first = fromStart ? { own: 0, reaped: 0 } : { own: c.own, reaped: c.reaped };
    this.sample();
    this.timer = setInterval(() => this.sample(), SAMPLE_MS);
  }

  /** The agent's own, reaped children's and live descendants' CPU ticks (each counted once). */
  private treeTicks(): number | undefined {
    const c = cpuTicks(this.pid);
    if (!c) return undefined;
    let live = 0;
    for (const d of descendants(this.pid)) {
      const dc = cpuTicks(d);
      // A live descendant's own ticks; its reaped children's are in its cutime, later in ours.
      if (dc) live += dc.own + dc.reaped;
    }
    return c.own + c.reaped + live;
  }

  private sample(): void {
    const s = statusKb(this.pid);
    if (!s) return;
    let tree = s.rss;
    // A tool's own peak so far (VmHWM): short peaks between two samples count too.
    for (const d of descendants(this.pid)) tree += statusKb(d)?.hwm ?? 0;
    this.peakRss = Math.max(this.peakRss, s.rss);
    this.peakTree = Math.max(this.peakTree, tree);
    const ticks = this.treeTicks();
    if (ticks === undefined) return;
    const at = performance.now();
    this.window.push({ at, ticks });
    while (this.window.length > 1 && at - (this.window[1] as { at: number }).at >= 1000) this.window.shift();
    const w0 = this.window[0] as { at: number; ticks: number };
    if (at - w0.at >= 1000) this.peakCores = Math.max(this.peakCores, (ticks - w0.ticks) / TICKS / ((at - w0.at) / 1000));
  }

  stop(): Figures {
    this.sample();
    clearInterval(this.timer);
    const s = statusKb(this.pid);
    const c = cpuTicks(this.pid);
    if (!s || !c) throw new Error(`agent process ${this.pid} exited during the measurement`);
    const own = c.own - this.first.own;
    // Tools still running at the end (none, normally) count with their ticks so far.
    const live = descendants(this.pid).reduce((sum, d) => sum + ((cpuTicks(d)?.own ?? 0) + (cpuTicks(d)?.reaped ?? 0)), 0);
    return {
      hwm_mb: mb(s.hwm), peak_rss_mb: mb(this.peakRss), tree_peak_rss_mb: mb(this.peakTree),
      cpu_s: +(own / TICKS).toFixed(2), tree_cpu_s: +((own + c.reaped - this.first.reaped + live) / TICKS).toFixed(2),
      tree_peak_cores: +this.peakCores.toFixed(2),
    };
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The bundle in dist/ is what the agents run only when it is newer than every source (bin/run-entry.js's rule). */
function bundleFresh(): boolean {
  const bundle = path.join(root, 'dist', 'moco-agent.mjs');
  if (!existsSync(bundle)) return false;
  const newest = (dir: string): number => readdirSync(dir, { withFileTypes: true }).reduce((m, e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return Math.max(m, newest(p));
    return e.name.endsWith('.ts') || e.name.endsWith('.proto') ? Math.max(m, statSync(p).mtimeMs) : m;
  }, 0);
  return statSync(bundle).mtimeMs >= Math.max(...['src', 'cmd', 'proto'].map((d) => newest(path.join(root, d))));
}

function manifest(store: S3Store, bucket: string): string {
  const cluster = YAML.parse(defaultManifest({ name: 'res', replicas: 3 })) as { spec: Record<string, unknown> };
  cluster.spec.backupPolicyName = 'policy';
  const policy = {
    apiVersion: 'moco.cybozu.com/v1beta2', kind: 'BackupPolicy', metadata: { name: 'policy', namespace: 'default' },
    spec: {
      schedule: '0 0 1 1 *',
      jobConfig: {
        serviceAccountName: 'backup-owner', workVolume: { emptyDir: {} },
        env: [
          { name: 'AWS_ACCESS_KEY_ID', value: store.credentials.accessKeyId },
          { name: 'AWS_SECRET_ACCESS_KEY', value: store.credentials.secretAccessKey },
          { name: 'AWS_REGION', value: store.region },
        ],
        bucketConfig: { bucketName: bucket, endpointURL: store.endpoint, usePathStyle: true },
      },
    },
  };
  return `${YAML.stringify(cluster)}---\n${YAML.stringify(policy)}`;
}

function line(name: string, f: Figures): string {
  return `${name.padEnd(22)} VmHWM ${String(f.hwm_mb).padStart(4)} MB, peak RSS sampled ${String(f.peak_rss_mb).padStart(4)} MB, ` +
    `with its tools ${String(f.tree_peak_rss_mb).padStart(4)} MB; CPU ${f.cpu_s} s (with tools ${f.tree_cpu_s} s), peak ${f.tree_peak_cores} cores`;
}

async function main(): Promise<void> {
  if (!bundleFresh()) {
    process.stderr.write('dist/moco-agent.mjs is missing or older than the sources, so the agents would run through tsx ' +
      '(more memory than the image): run npm run build first\n');
    process.exit(2);
  }
  const store = await startS3Store();
  let c: LocalCluster | undefined;
  try {
    await store.createBucket('bench');
    c = await LocalCluster.up('res', { manifest: manifest(store, 'bench'), timeoutSeconds: 300 });
    let st = await c.waitHealthy(300_000);
    const agents = st.instances.map((i) => i.pids.agent as number);
    const primary = st.status.currentPrimaryIndex;

    // Idle: IDLE_S after each agent started, then CPU over a window.
    const hz = uptimeTicks();
    const youngest = Math.max(...agents.map((p) => (cpuTicks(p) as { start: number }).start));
    await sleep(Math.max(0, (youngest + IDLE_S * TICKS - hz) / TICKS * 1000));
    const idleSamplers = agents.map((p) => new Sampler(p));
    await sleep(IDLE_WINDOW_S * 1000);
    const idle = idleSamplers.map((s) => s.stop());
    const idleRss = agents.map((p) => mb((statusKb(p) as { rss: number }).rss));
    const idleMillicores = idle.map((f) => Math.round(f.cpu_s / IDLE_WINDOW_S * 1000));
    for (const [i, f] of idle.entries()) {
      process.stdout.write(`idle agent ${i}${i === primary ? ' (primary)' : ''}: VmRSS ${idleRss[i]} MB, VmHWM since start ${f.hwm_mb} MB, ` +
        `CPU ${f.cpu_s} s in ${IDLE_WINDOW_S} s = ${idleMillicores[i]}m\n`);
    }

    // Load: DATA_MB of rows (256 random bytes and 252 bytes of repeated text each, zstd -1 about halves them).
    process.stdout.write(`loading about ${DATA_MB} MB through the primary endpoint...\n`);
    const w = await c.connect('primary', 'moco-writable');
    await w.query('CREATE DATABASE bench');
    await w.query('CREATE TABLE bench.t (id INT PRIMARY KEY AUTO_INCREMENT, pad VARBINARY(512) NOT NULL)');
    const batches = Math.ceil((DATA_MB * 1024 * 1024) / (560 * 10_000));
    for (let b = 0; b < batches; b++) {
      await w.query("INSERT INTO bench.t (pad) SELECT CONCAT(RANDOM_BYTES(256), REPEAT('moco agent bench ', 15)) " +
        'FROM (SELECT 1 FROM information_schema.COLUMNS a, information_schema.COLUMNS b LIMIT 10000) x');
    }
    await w.end();
    st = await c.waitHealthy(600_000);
    const dataDir = path.join(c.dir, 'res', 'instances', String(primary), 'data');
    const dataMb = Math.round(duMb(dataDir));

    // Clone: reinit the highest-index replica; the coordinator clones it from the primary.
    const target = [...st.instances.keys()].filter((i) => i !== primary).at(-1) as number;
    const donorPid = agents[primary] as number;
    resetPeak(donorPid);
    const donor = new Sampler(donorPid);
    let t = Date.now();
    const re = await c.moco(['reinit', 'res', '--index', String(target)]);
    if (re.code !== 0) throw new Error(`moco reinit failed: ${re.stderr}`);
    const recipientPid = (await c.status()).instances[target]?.pids.agent as number;
    const recipient = new Sampler(recipientPid, true);
    st = await c.waitStatus((s) => s.status.state === 'Healthy' && s.instances.every((i) => i.ready) &&
      s.instances[target]?.role === 'replica', 900_000, 'the re-initialised replica to be cloned and to rejoin');
    const cloneS = (Date.now() - t) / 1000;
    await sleep(1000);
    const clone = { donor: donor.stop(), recipient: recipient.stop() };
    process.stdout.write(`clone of instance ${target} from the primary (${dataMb} MB data directory): ${cloneS.toFixed(1)} s until Healthy\n`);
    process.stdout.write(`${line('  donor (primary)', clone.donor)}\n${line('  recipient (from start)', clone.recipient)}\n`);

    // Backup to the store; every agent is watched, the source's figures are reported.
    const now = (await c.status()).instances.map((i) => i.pids.agent as number);
    for (const p of now) resetPeak(p);
    const samplers = now.map((p) => new Sampler(p));
    t = Date.now();
    const b = await c.moco(['backup', 'res'], 900_000);
    const backupS = (Date.now() - t) / 1000;
    await sleep(1000);
    const during = samplers.map((s) => s.stop());
    if (b.code !== 0) throw new Error(`moco backup failed: ${b.stdout}\n${b.stderr}`);
    st = await c.status();
    const source = st.status.backup?.sourceIndex as number;
    const backup = { source_index: source, agent: during[source] as Figures, stored_mb: Math.round(Number(st.status.backup?.dumpSize ?? 0) / 1e6), s: +backupS.toFixed(1) };
    process.stdout.write(`backup from instance ${source} to S3: ${backup.s} s, ${backup.stored_mb} MB stored\n${line('  source', backup.agent)}\n`);

    const result = {
      bench: 'agent-resources', flavor: requireMysqld().flavor, node: process.version, data_mb: dataMb,
      idle: { seconds_after_start: IDLE_S, window_s: IDLE_WINDOW_S, rss_mb: idleRss, hwm_mb: idle.map((f) => f.hwm_mb), cpu_millicores: idleMillicores },
      clone: { s: +cloneS.toFixed(1), donor: clone.donor, recipient: clone.recipient },
      backup,
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    await c?.destroy();
    await store.stop();
  }
}

function duMb(dir: string): number {
  let bytes = 0;
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && !/^binlog\./.test(e.name)) bytes += statSync(p).size;
    }
  };
  walk(dir);
  return bytes / 1e6;
}

await main();
