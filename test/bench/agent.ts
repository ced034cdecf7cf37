/**
 * Agent benchmark (npm run bench:agent): GetStatus latency over mTLS, clone throughput against a plain
 * `tar | cat` of the same data directory, and the agent process's idle RSS. Prints the figures and one JSON
 * line. Sizes: MOCO_BENCH_CLONE_MB (default 1024), MOCO_BENCH_CALLS (default 2000).
 *
 * Every agent measured is a real `moco-agent serve` process, as deployed (the image runs
 * `node dist/moco-agent.mjs serve`): the clone's donor and recipient agents and the agent that answers GetStatus.
 * The harness's in-process agents of the same instances stay idle. GetStatus is called by a client process of its
 * own (test/bench/status-client.ts), as a coordinator is.
 */
import { spawn, execSync, execFile, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, promises as fs } from 'node:fs';
import { createInterface } from 'node:readline';
import { AgentClient } from '../../src/shared/agent-client.ts';
import { AGENT_NODE_FLAGS } from '../../src/agent/config.ts';
import path from 'node:path';
import { createTestCluster, formReplication, freePort, waitFor, type TestCluster, type TestInstance } from '../helpers/harness.ts';

const CALLS = Number(process.env.MOCO_BENCH_CALLS ?? 2000);
const CLONE_MB = Number(process.env.MOCO_BENCH_CLONE_MB ?? 1024);
const BUNDLE = path.resolve(import.meta.dirname, '../../dist/moco-agent.mjs');
// The bundle as the image runs it; without a build, the bin shim (TypeScript through tsx, more memory).
const bundled = existsSync(BUNDLE);
const AGENT = bundled ? BUNDLE : path.resolve(import.meta.dirname, '../../bin/moco-agent.js');

const pct = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] as number;
const du = (dir: string): number => Number(execSync(`du -sb ${dir}`).toString().split('\t')[0]);
const binlogBytes = (dir: string): number => Number(execSync(`cat ${dir}/binlog.[0-9]* | wc -c`).toString().trim());

interface AgentProcess {
  child: ChildProcess;
  client: AgentClient;
  grpcAddress: string;
  httpPort: number;
  /** The agent's JSON log lines. */
  logs: Record<string, unknown>[];
  stop(): Promise<void>;
}

/** Starts `moco-agent serve` for one instance of the cluster, waits until it answers HTTP. */
async function startAgent(cluster: TestCluster, inst: TestInstance, logLevel = 'warn'): Promise<AgentProcess> {
  const httpPort = await freePort();
  const grpcPort = await freePort();
  const child = spawn(process.execPath, [...AGENT_NODE_FLAGS, AGENT, 'serve', '--cluster-name', 'bench', '--index', String(inst.index),
    '--socket', inst.layout.socket, '--data-dir', inst.layout.dataDir, '--mycnf', inst.layout.myCnf,
    '--grpc-address', `127.0.0.1:${grpcPort}`, '--http-address', `127.0.0.1:${httpPort}`,
    '--tls-ca', cluster.pki.agent.caCert, '--tls-cert', cluster.pki.agent.cert, '--tls-key', cluster.pki.agent.key,
    '--passwords-dir', path.join(cluster.base, 'passwords'), '--log-level', logLevel,
    ...(cluster.install.mariadbBackup ? ['--mariadb-backup', cluster.install.mariadbBackup] : []),
    ...(cluster.install.mbstream ? ['--mbstream', cluster.install.mbstream] : []),
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  // The agent logs JSON lines to stderr: keep them for the clone's phase times, pass anything else through.
  const logs: Record<string, unknown>[] = [];
  createInterface({ input: child.stderr as NodeJS.ReadableStream }).on('line', (line) => {
    try {
      logs.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      process.stderr.write(`${line}\n`);
    }
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const grpcAddress = `127.0.0.1:${grpcPort}`;
  const client = new AgentClient(grpcAddress, cluster.pki.coordinator);
  const stop = async (): Promise<void> => {
    client.close();
    if (child.exitCode === null) child.kill('SIGTERM');
    await exited;
  };
  try {
    await waitFor(async () => (await fetch(`http://127.0.0.1:${httpPort}/readyz`)).status > 0, 20_000, `the agent process of instance ${inst.index}`);
  } catch (err) {
    await stop();
    throw err;
  }
  return { child, client, grpcAddress, httpPort, logs, stop };
}

const cluster = await createTestCluster('bench');
try {
  const primary = await cluster.add();
  const replica = await cluster.add();
  await formReplication(primary, [replica]);

  // 2. Clone throughput for about CLONE_MB of data, and tar | cat of the same directory.
  console.log(`loading about ${CLONE_MB} MB into the primary...`);
  const c = await primary.connect('moco-writable', cluster.passwords.WRITABLE_PASSWORD);
  await c.query('CREATE DATABASE bench');
  await c.query('CREATE TABLE bench.t (id INT PRIMARY KEY AUTO_INCREMENT, pad VARCHAR(1000))');
  const batches = Math.ceil((CLONE_MB * 1024 * 1024) / (1100 * 5000));
  for (let b = 0; b < batches; b++) {
    await c.query('INSERT INTO bench.t (pad) SELECT REPEAT(MD5(RAND()), 31) FROM (SELECT 1 FROM information_schema.COLUMNS a, information_schema.COLUMNS b LIMIT 5000) x');
  }
  await c.end();
  await primary.client.flushBinlogs();
  // Both copies run on a quiet machine: InnoDB writes the load's dirty pages out first (otherwise whichever copy
  // runs first competes with that flushing, and tar runs first).
  const admin = await primary.connect();
  const [[{ dirtyPct }]] = await admin.query('SELECT @@innodb_max_dirty_pages_pct AS dirtyPct') as unknown as [[{ dirtyPct: number }]];
  await admin.query('SET GLOBAL innodb_max_dirty_pages_pct = 0');
  await waitFor(async () => {
    const [rows] = await admin.query("SHOW GLOBAL STATUS LIKE 'Innodb_buffer_pool_pages_dirty'") as unknown as [{ Value: string }[]];
    return Number(rows[0]?.Value) === 0;
  }, 120_000, 'InnoDB to write out the dirty pages');
  await admin.query('SET GLOBAL innodb_max_dirty_pages_pct = ?', [dirtyPct]);
  await admin.end();
  execSync('sync');
  // A clone copies the data, not the binary logs: the tar leaves them out too, so both move the same files.
  const dataBytes = du(primary.layout.dataDir) - binlogBytes(primary.layout.dataDir);
  const tarFile = path.join(cluster.base, 'tar-copy.tar');
  let t = Date.now();
  execSync(`tar -C ${primary.layout.dataDir} --exclude='./binlog.*' -cf - . | cat > ${tarFile} && sync`);
  const tarMs = Date.now() - t;
  await fs.rm(tarFile);
  const fresh = await cluster.add();
  // The donor's and the recipient's agents as their own processes (as deployed: one agent per mysqld).
  const donorAgent = await startAgent(cluster, primary, 'info');
  const recipientAgent = await startAgent(cluster, fresh, 'info');
  let res;
  let cloneMs;
  try {
    t = Date.now();
    res = await recipientAgent.client.clone({ donorAgentAddress: donorAgent.grpcAddress, donorHost: '127.0.0.1', donorPort: primary.port });
    cloneMs = Date.now() - t;
  } finally {
    await Promise.all([donorAgent.stop(), recipientAgent.stop()]);
  }
  const phaseMs = (msg: string): number | undefined => recipientAgent.logs.find((l) => l.msg === msg)?.ms as number | undefined;
  const cloneBytes = Number(res.bytesTransferred) || dataBytes;
  const clone = {
    data_dir_mb: Math.round(dataBytes / 1e6), transferred_mb: Math.round(cloneBytes / 1e6), clone_s: +(cloneMs / 1000).toFixed(2),
    clone_mb_s: Math.round(cloneBytes / 1e6 / (cloneMs / 1000)), tar_s: +(tarMs / 1000).toFixed(2),
    tar_mb_s: Math.round(dataBytes / 1e6 / (tarMs / 1000)), ratio: +((dataBytes / cloneMs) / (dataBytes / tarMs)).toFixed(2),
    // From the recipient agent's log: how long streaming (mariadb-backup, gRPC, mbstream) took, how long prepare
    // took, and the time inside the agent from the start until mysqld was restarted and positioned.
    phases_ms: { streamed: phaseMs('clone received; preparing'), prepared: phaseMs('clone prepared; restarting mysqld'), total: phaseMs('clone restarted on the new data') },
  };
  console.log(`clone: ${clone.transferred_mb} MB (data dir without binary logs ${clone.data_dir_mb} MB) in ${clone.clone_s} s = ${clone.clone_mb_s} MB/s, end to end (stream, prepare, restart)`);
  console.log(`clone phases in the recipient agent (ms): ${JSON.stringify(clone.phases_ms)}`);
  console.log(`tar | cat of the same data dir: ${clone.tar_s} s = ${clone.tar_mb_s} MB/s; clone/tar time ratio ${clone.ratio}`);

  // 3. A real agent process beside the replica: idle RSS, then GetStatus latency over mTLS.
  let rssMb = 0;
  let getStatus;
  const statusAgent = await startAgent(cluster, replica);
  try {
    await new Promise((r) => setTimeout(r, 5000));
    const status = await fs.readFile(`/proc/${statusAgent.child.pid}/status`, 'utf8');
    rssMb = Math.round(Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]) / 1024);
    // The calls come from a client process of its own, as a coordinator's would.
    const { stdout: out } = await promisify(execFile)(process.execPath, ['--import', 'tsx', path.resolve(import.meta.dirname, 'status-client.ts')], {
      env: { ...process.env, AGENT_ADDRESS: statusAgent.grpcAddress, PKI: JSON.stringify(cluster.pki.coordinator), CALLS: String(CALLS), WARMUP: '50' },
      encoding: 'utf8', maxBuffer: 16 * 1024 * 1024,
    });
    const lat = (JSON.parse(out.trim().split('\n').at(-1) as string) as { latencies_ms: number[] }).latencies_ms;
    getStatus = { calls: CALLS, p50_ms: +pct(lat, 0.5).toFixed(2), p99_ms: +pct(lat, 0.99).toFixed(2), max_ms: +(lat.at(-1) as number).toFixed(2) };
  } finally {
    await statusAgent.stop();
  }
  console.log(`agent idle RSS: ${rssMb} MB (${bundled ? 'esbuild bundle' : 'through tsx: run npm run build first'})`);
  console.log(`GetStatus over mTLS to the agent process (a replica), from a client process: ${CALLS} calls, p50 ${getStatus.p50_ms} ms, p99 ${getStatus.p99_ms} ms, max ${getStatus.max_ms} ms`);
  console.log(JSON.stringify({ bench: 'agent', flavor: cluster.install.flavor, getStatus, clone, agent_idle_rss_mb: rssMb }));
} finally {
  await cluster.close();
}
