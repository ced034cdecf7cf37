/**
 * A real S3-compatible store for integration tests: OpenStack Swift with s3api, started by scripts/s3-store.sh
 * on free ports under a temporary directory (installed first by scripts/ensure-s3-store.sh when missing).
 * Everything is stopped by the PIDs the script records, also when a test fails or the runner exits.
 * Start-up takes a few seconds: use one store per test file.
 */
import { execFile, spawnSync } from 'node:child_process';
import { promises as fs, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { freePort } from '../../src/shared/net.ts';
import type { BucketTarget } from '../../src/backup/storage/types.ts';

const scripts = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../scripts');
const services = ['proxy', 'object', 'container', 'account', 'memcached'] as const;

/** PIDs of every server started by this process, killed when it exits whatever happened. */
const started = new Set<number>();
process.on('exit', () => {
  for (const pid of started) {
    if (alive(pid) && isStoreProcess(pid)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
});

export interface S3Store {
  /** http://127.0.0.1:PORT */
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** The directory holding the store's config, data, logs and PID files. */
  root: string;
  /** A path-style target for `bucket` on this store with its credentials. */
  target(bucket: string): BucketTarget;
  /** Creates a bucket (idempotent). */
  createBucket(name: string): Promise<void>;
  /** Kills only the proxy (SIGKILL, by PID): the store stops answering, as in a crash. */
  stopProxy(): Promise<void>;
  /** Starts the proxy again and waits until it answers. */
  startProxy(): Promise<void>;
  /** Stops every server by PID and removes the directory. */
  stop(): Promise<void>;
}

/** True while `pid` runs; zombies (never reaped by PID 1 here) count as gone. */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** Guards the exit handler against a PID reused by something else. */
function isStoreProcess(pid: number): boolean {
  try {
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmd.includes('swift-') || cmd.includes('memcached');
  } catch {
    return false;
  }
}

async function waitGone(pid: number, ms: number): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end;) {
    if (!alive(pid)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return !alive(pid);
}

function run(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 120_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('bash', args, { env: { ...process.env, ...env }, timeout: timeoutMs }, (err, stdout, stderr) => {
      if (err) reject(new Error(`bash ${args.join(' ')} failed: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

async function recordedPid(root: string, name: string): Promise<number | undefined> {
  try {
    const pid = Number((await fs.readFile(path.join(root, 'pids', name), 'utf8')).trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

async function track(root: string): Promise<void> {
  for (const name of services) {
    const pid = await recordedPid(root, name);
    if (pid !== undefined) started.add(pid);
  }
}

function installed(): boolean {
  return spawnSync('sh', ['-c', 'command -v swift-proxy-server'], { stdio: 'ignore' }).status === 0;
}

/** Installs Swift if needed, then starts a store on free ports. */
export async function startS3Store(options: { root?: string } = {}): Promise<S3Store> {
  if (!installed()) await run([path.join(scripts, 'ensure-s3-store.sh')], {}, 600_000);
  const root = options.root ?? await fs.mkdtemp(path.join(os.tmpdir(), 'moco-s3-'));
  const ports: number[] = [];
  for (let i = 0; i < 5; i++) ports.push(await freePort(ports));
  const [proxyPort, accountPort, containerPort, objectPort, memcachedPort] = ports as [number, number, number, number, number];
  const script = path.join(scripts, 's3-store.sh');
  try {
    await run([script, 'start', root, String(proxyPort)], {
      S3_STORE_ACCOUNT_PORT: String(accountPort),
      S3_STORE_CONTAINER_PORT: String(containerPort),
      S3_STORE_OBJECT_PORT: String(objectPort),
      S3_STORE_MEMCACHED_PORT: String(memcachedPort),
    });
  } catch (err) {
    // The script stops what it started when start-up fails; this covers a script killed by the timeout.
    await track(root);
    await run([script, 'stop', root], {}, 60_000).catch(() => undefined);
    if (!options.root) await fs.rm(root, { recursive: true, force: true });
    throw err;
  }
  await track(root);

  const endpoint = `http://127.0.0.1:${proxyPort}`;
  const region = 'us-east-1';
  const credentials = { accessKeyId: 'test:tester', secretAccessKey: 'testing' };
  const admin = new S3Client({
    endpoint, region, credentials, forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED',
  });
  let stopped = false;

  return {
    endpoint, region, credentials, root,
    target: (bucket) => ({ backendType: 's3', bucket, endpointURL: endpoint, region, usePathStyle: true, credentials: { ...credentials } }),
    async createBucket(name) {
      try {
        await admin.send(new CreateBucketCommand({ Bucket: name }));
      } catch (err) {
        const n = (err as { name?: string }).name;
        if (n !== 'BucketAlreadyOwnedByYou' && n !== 'BucketAlreadyExists') throw err;
      }
    },
    async stopProxy() {
      const pid = await recordedPid(root, 'proxy');
      if (pid === undefined || !alive(pid)) return;
      process.kill(pid, 'SIGKILL');
      if (!await waitGone(pid, 5000)) throw new Error(`the Swift proxy (pid ${pid}) did not die after SIGKILL`);
      started.delete(pid);
    },
    async startProxy() {
      try {
        await run([script, 'start-proxy', root]);
      } finally {
        await track(root);
      }
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      admin.destroy();
      const pids = (await Promise.all(services.map((s) => recordedPid(root, s)))).filter((p): p is number => p !== undefined);
      try {
        await run([script, 'stop', root], {}, 60_000);
      } finally {
        // The script escalates to SIGKILL itself; this only covers a script that could not run at all.
        for (const pid of pids) {
          if (alive(pid) && isStoreProcess(pid)) process.kill(pid, 'SIGKILL');
          await waitGone(pid, 5000);
          started.delete(pid);
        }
        if (!options.root) await fs.rm(root, { recursive: true, force: true });
      }
    },
  };
}
