/**
 * The local backup service with fake agents and a real state directory: `moco backup` requests are answered
 * under their own id, a failed scheduled backup is retried with backoff up to backoffLimit, activeDeadlineSeconds
 * stops a run that takes too long, and the status records successes and failures.
 */
import YAML from 'yaml';
import { defaultManifest } from '../../../src/platform/local/manifest.ts';
import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BackupService, requestBackup, type BackupRunFile } from '../../../src/platform/local/backups.ts';
import { ClusterDir } from '../../../src/platform/local/state.ts';
import { CoordinatorMetrics } from '../../../src/coordinator/metrics.ts';
import type { ClusterStatus } from '../../../src/api/types.ts';
import { LocalStatusStore } from '../../../src/platform/local/platform.ts';
import type { BackupPolicySpec } from '../../../src/api/spec.ts';
import type { RunnerAgent } from '../../../src/backup/runner.ts';
import type { BackupRequest, BackupResult, InstanceStatus } from '../../../src/shared/agent-client.ts';
import { MocoError } from '../../../src/shared/errors.ts';
import { silentLogger } from '../../../src/shared/logger.ts';

let root: string;
let dir: ClusterDir;
/** The status as stored (the service writes its fields through a LocalStatusStore of the state directory). */
const current = async (): Promise<ClusterStatus> => (await new LocalStatusStore(dir).readStatus()).status;

/** The manifest of a one-instance cluster "c", with BackupPolicy "p" (file backend, bucket "bk") when `policy` is given. */
function manifest(policy?: Partial<BackupPolicySpec>): string {
  const cluster = YAML.parse(defaultManifest({ name: 'c', replicas: 1 })) as Record<string, Record<string, unknown>>;
  if (!policy) return YAML.stringify(cluster);
  (cluster.spec as Record<string, unknown>).backupPolicyName = 'p';
  const doc = {
    apiVersion: 'moco.cybozu.com/v1beta2', kind: 'BackupPolicy', metadata: { name: 'p' },
    spec: {
      schedule: '0 0 1 1 *', concurrencyPolicy: 'Allow', ...policy,
      jobConfig: { serviceAccountName: 'sa', workVolume: { emptyDir: {} }, threads: 1, bucketConfig: { bucketName: 'bk', backendType: 'file' } },
    },
  };
  return `${YAML.stringify(cluster)}---\n${YAML.stringify(doc)}`;
}

/** An agent whose Backup fails `failures` times, or waits for cancellation when `hang` is set. */
function agent(o: { failures?: number; hang?: boolean } = {}): RunnerAgent & { calls: BackupRequest[] } {
  let failures = o.failures ?? 0;
  const calls: BackupRequest[] = [];
  return {
    calls,
    getStatus: async () => ({ instanceId: 'id-0' }) as InstanceStatus,
    backup: async (req, _progress, signal) => {
      calls.push(req);
      if (o.hang) {
        await new Promise((_, reject) => signal?.addEventListener('abort', () => reject(new MocoError('CANCELLED', 'cancelled'))));
      }
      if (failures-- > 0) throw new MocoError('INTERNAL', 'the store is down');
      return { time: req.time, gtid: '0-1-5', instanceId: 'id-0', binlogFile: 'binlog.000001', dumpSize: '10', binlogSize: '0',
        workDirUsage: '0', warnings: [], manifestKey: `${req.prefix}${req.time}/manifest.json` } as unknown as BackupResult;
    },
    restore: async () => {
      throw new Error('not used');
    },
  };
}

function service(a: RunnerAgent, retryBaseMs = 50): BackupService {
  return new BackupService({
    dir, status: new LocalStatusStore(dir), metrics: new CoordinatorMetrics().forCluster('c', 'default'), agent: () => a, ready: async () => true,
    log: silentLogger(), retryBaseMs,
  });
}

const readRun = async (): Promise<BackupRunFile> => JSON.parse(await fs.readFile(dir.backupRunFile, 'utf8')) as BackupRunFile;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('local backup service', () => {
  beforeEach(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'moco-bsvc-'));
    dir = new ClusterDir(root, 'c');
    await fs.mkdir(dir.path('requests'), { recursive: true });
  });
  afterEach(async () => {
    await fs.rm(root, { recursive: true, force: true });
  });

  it('answers a moco backup request under its id and records the backup in the status', async () => {
    await dir.writeManifest(manifest());
    const a = agent();
    const s = service(a);
    const id = await requestBackup(dir);
    await s.tick();
    await s.idle();
    const run = await readRun();
    assert.equal(run.id, id);
    assert.equal(run.state, 'succeeded');
    assert.equal(run.location, `directory ${path.join(root, 'backups')}`);
    assert.equal((await current()).backup.gtidSet, '0-1-5');
    assert.equal(a.calls[0]?.prefix, 'moco/default/c/');
    assert.equal(a.calls[0]?.bucket?.bucket, path.join(root, 'backups'));
    await s.stop();
  });

  it('records a failure without touching the last success, and the next success clears it', async () => {
    await dir.writeManifest(manifest());
    const s = service(agent({ failures: 1 }));
    await requestBackup(dir);
    await s.tick();
    await s.idle();
    assert.equal((await readRun()).state, 'failed');
    assert.match((await current()).lastBackupFailure?.message ?? '', /the store is down/);
    assert.deepEqual((await current()).backup, {});
    await requestBackup(dir);
    await s.tick();
    await s.idle();
    assert.equal((await current()).lastBackupFailure, undefined);
    assert.ok((await current()).backup.time);
    await s.stop();
  });

  it('retries a failed scheduled backup with backoff, at most backoffLimit times', async () => {
    await dir.writeManifest(manifest({ schedule: '@every 1h', backoffLimit: 2 }));
    const a = agent({ failures: 10 });
    const s = service(a, 30);
    // Force the first scheduled run now.
    (s as unknown as { nextDue: Date; scheduleText: string }).scheduleText = '@every 1h';
    (s as unknown as { nextDue: Date }).nextDue = new Date(Date.now() - 1);
    for (let k = 0; k < 40; k++) {
      await s.tick();
      await s.idle();
      await sleep(10);
    }
    assert.equal(a.calls.length, 3, 'the first run and two retries');
    await s.stop();
  });

  it('stops a scheduled backup that runs longer than activeDeadlineSeconds', async () => {
    await dir.writeManifest(manifest({ schedule: '@every 1h', activeDeadlineSeconds: 1, backoffLimit: 0 }));
    const s = service(agent({ hang: true }));
    (s as unknown as { nextDue: Date; scheduleText: string }).scheduleText = '@every 1h';
    (s as unknown as { nextDue: Date }).nextDue = new Date(Date.now() - 1);
    await s.tick();
    await sleep(20);
    await s.idle();
    const run = await readRun();
    assert.equal(run.state, 'cancelled');
    assert.match(run.error ?? '', /activeDeadlineSeconds \(1 s\)/);
    await s.stop();
  });
});
