/**
 * Agent benchmark (npm run bench:agent): GetStatus latency over mTLS, clone throughput against a plain
 * `tar | cat` of the same data directory, and the agent process's idle RSS. Prints the figures and one JSON
 * line. Sizes: MOCO_BENCH_CLONE_MB (default 1024), MOCO_BENCH_CALLS (default 2000).
 */
import { spawn, execSync } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import { AgentClient } from '../../src/shared/agent-client.ts';
import path from 'node:path';
import { createTestCluster, formReplication, freePort, waitFor } from '../helpers/harness.ts';

const CALLS = Number(process.env.MOCO_BENCH_CALLS ?? 2000);
const CLONE_MB = Number(process.env.MOCO_BENCH_CLONE_MB ?? 1024);
const AGENT = path.resolve(import.meta.dirname, '../../bin/moco-agent.js');

const pct = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] as number;
const du = (dir: string): number => Number(execSync(`du -sb ${dir}`).toString().split('\t')[0]);
const binlogBytes = (dir: string): number => Number(execSync(`cat ${dir}/binlog.[0-9]* | wc -c`).toString().trim());
const bundled = existsSync(path.resolve(import.meta.dirname, '../../dist/moco-agent.mjs'));

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
  // A clone copies the data, not the binary logs: the tar leaves them out too, so both move the same files.
  const dataBytes = du(primary.layout.dataDir) - binlogBytes(primary.layout.dataDir);
  const tarFile = path.join(cluster.base, 'tar-copy.tar');
  let t = Date.now();
  execSync(`tar -C ${primary.layout.dataDir} --exclude='./binlog.*' -cf - . | cat > ${tarFile} && sync`);
  const tarMs = Date.now() - t;
  await fs.rm(tarFile);
  const fresh = await cluster.add();
  t = Date.now();
  const res = await fresh.client.clone({ donorAgentAddress: primary.grpcAddress, donorHost: '127.0.0.1', donorPort: primary.port });
  const cloneMs = Date.now() - t;
  const cloneBytes = Number(res.bytesTransferred) || dataBytes;
  const clone = {
    data_dir_mb: Math.round(dataBytes / 1e6), transferred_mb: Math.round(cloneBytes / 1e6), clone_s: +(cloneMs / 1000).toFixed(2),
    clone_mb_s: Math.round(cloneBytes / 1e6 / (cloneMs / 1000)), tar_s: +(tarMs / 1000).toFixed(2),
    tar_mb_s: Math.round(dataBytes / 1e6 / (tarMs / 1000)), ratio: +((dataBytes / cloneMs) / (dataBytes / tarMs)).toFixed(2),
  };
  console.log(`clone: ${clone.transferred_mb} MB (data dir without binary logs ${clone.data_dir_mb} MB) in ${clone.clone_s} s = ${clone.clone_mb_s} MB/s, end to end (stream, prepare, restart)`);
  console.log(`tar | cat of the same data dir: ${clone.tar_s} s = ${clone.tar_mb_s} MB/s; clone/tar time ratio ${clone.ratio}`);

  // 3. A real agent process (the bundle, as deployed): idle RSS, then GetStatus latency over mTLS.
  const httpPort = await freePort();
  const grpcPort = await freePort();
  const child = spawn(process.execPath, [AGENT, 'serve', '--cluster-name', 'bench', '--index', '1',
    '--socket', replica.layout.socket, '--data-dir', replica.layout.dataDir, '--mycnf', replica.layout.myCnf,
    '--grpc-address', `127.0.0.1:${grpcPort}`, '--http-address', `127.0.0.1:${httpPort}`,
    '--tls-ca', cluster.pki.agent.caCert, '--tls-cert', cluster.pki.agent.cert, '--tls-key', cluster.pki.agent.key,
    '--passwords-dir', path.join(cluster.base, 'passwords'), '--log-level', 'warn'], { stdio: 'ignore' });
  let rssMb = 0;
  let getStatus;
  const client = new AgentClient(`127.0.0.1:${grpcPort}`, cluster.pki.coordinator);
  try {
    await waitFor(async () => (await fetch(`http://127.0.0.1:${httpPort}/readyz`)).status > 0, 20_000, 'the agent process');
    await new Promise((r) => setTimeout(r, 5000));
    const status = await fs.readFile(`/proc/${child.pid}/status`, 'utf8');
    rssMb = Math.round(Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]) / 1024);
    for (let i = 0; i < 50; i++) await client.getStatus();
    const lat: number[] = [];
    for (let i = 0; i < CALLS; i++) {
      const t = process.hrtime.bigint();
      await client.getStatus();
      lat.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
    lat.sort((a, b) => a - b);
    getStatus = { calls: CALLS, p50_ms: +pct(lat, 0.5).toFixed(2), p99_ms: +pct(lat, 0.99).toFixed(2), max_ms: +(lat.at(-1) as number).toFixed(2) };
  } finally {
    client.close();
    child.kill('SIGTERM');
  }
  console.log(`agent idle RSS: ${rssMb} MB (${bundled ? 'esbuild bundle' : 'through tsx: run npm run build first'})`);
  console.log(`GetStatus over mTLS to the agent process (a replica): ${CALLS} calls, p50 ${getStatus.p50_ms} ms, p99 ${getStatus.p99_ms} ms, max ${getStatus.max_ms} ms`);
  console.log(JSON.stringify({ bench: 'agent', flavor: cluster.install.flavor, getStatus, clone, agent_idle_rss_mb: rssMb }));
} finally {
  await cluster.close();
}
