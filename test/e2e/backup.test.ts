/**
 * Backups and point-in-time restores of local clusters through the `moco` CLI, with a real S3-compatible
 * store (OpenStack Swift with s3api, started here): a full backup, writes, an incremental backup taken under
 * continuous writes, restores at several points (every row committed before the point, none after it), a
 * restored 3-instance cluster that ends Healthy with identical rows everywhere, refused restores, the store
 * killed in the middle of an upload, and scheduled backups to the embedded file backend.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { defaultManifest } from '../../src/platform/local/manifest.ts';
import { clusterPrefix } from '../../src/backup/layout.ts';
import { openBucket } from '../../src/backup/storage/index.ts';
import { startS3Store, type S3Store } from '../helpers/s3-store.ts';
import { LocalCluster, Writer, runMoco, waitFor } from './local-cluster.ts';

const BUCKET = 'moco-backups';
let store: S3Store;
const clusters: LocalCluster[] = [];

function jobConfig(bucket = BUCKET) {
  return {
    serviceAccountName: 'backup-owner',
    env: [
      { name: 'AWS_ACCESS_KEY_ID', value: store.credentials.accessKeyId },
      { name: 'AWS_SECRET_ACCESS_KEY', value: store.credentials.secretAccessKey },
      { name: 'AWS_REGION', value: store.region },
    ],
    bucketConfig: { bucketName: bucket, endpointURL: store.endpoint, usePathStyle: true },
    workVolume: { emptyDir: {} },
  };
}

function sourceManifest(name: string, replicas: number, schedule = '0 0 1 1 *', bucketConfig?: Record<string, unknown>): string {
  const cluster = YAML.parse(defaultManifest({ name, replicas })) as { spec: Record<string, unknown> };
  cluster.spec.backupPolicyName = 'policy';
  const job = bucketConfig ? { ...jobConfig(), env: [], bucketConfig } : jobConfig();
  const policy = { apiVersion: 'moco.cybozu.com/v1beta2', kind: 'BackupPolicy', metadata: { name: 'policy', namespace: 'default' }, spec: { schedule, jobConfig: job } };
  return `${YAML.stringify(cluster)}---\n${YAML.stringify(policy)}`;
}

function restoreManifest(name: string, replicas: number, restorePoint: string, bucket = BUCKET): string {
  const cluster = YAML.parse(defaultManifest({ name, replicas })) as { spec: Record<string, unknown> };
  cluster.spec.restore = { sourceName: 'src', sourceNamespace: 'default', restorePoint, jobConfig: jobConfig(bucket) };
  return YAML.stringify(cluster);
}

async function up(name: string, manifest: string, timeoutSeconds = 300): Promise<LocalCluster> {
  const c = await LocalCluster.up(name, { manifest, timeoutSeconds });
  clusters.push(c);
  return c;
}

/** Inserts explicit ids through the primary endpoint. */
async function insert(c: LocalCluster, ids: number[]): Promise<number[]> {
  const conn = await c.connect('primary', 'moco-writable');
  try {
    for (const id of ids) await conn.query('INSERT INTO e2e.w (id) VALUES (?)', [id]);
    return ids;
  } finally {
    await conn.end();
  }
}
const range = (from: number, n: number): number[] => Array.from({ length: n }, (_, k) => from + k);

/** Waits past the next whole second (plus a margin on both sides) and returns it as an RFC 3339 time. */
async function cutPoint(): Promise<string> {
  const cut = Math.ceil((Date.now() + 1100) / 1000) * 1000;
  await new Promise((r) => setTimeout(r, cut - Date.now() + 1100));
  return new Date(cut).toISOString().replace('.000Z', 'Z');
}

async function backup(c: LocalCluster): Promise<{ code: number; out: string }> {
  const r = await c.moco(['backup', c.name], 300_000);
  return { code: r.code, out: r.stdout + r.stderr };
}

describe('backup and point-in-time restore (local clusters, S3-compatible store)', () => {
  let src: LocalCluster;
  const phase: Record<string, number[]> = {};
  let cuts: { bc: string; cd: string };
  let beforeFirst: string;
  let writerAcked: number[] = [];
  let ackedBeforeSecond = 0;

  before(async () => {
    store = await startS3Store();
    await store.createBucket(BUCKET);
    beforeFirst = new Date(Date.now() - 3_600_000).toISOString().replace(/\.\d+Z$/, 'Z');
    src = await up('src', sourceManifest('src', 3));
    await Writer.prepare(src);
  });
  after(async () => {
    for (const c of clusters) await c.destroy();
    await store?.stop();
  });

  it('takes a full backup from a replica, then an incremental one under continuous writes', async () => {
    phase.a = await insert(src, range(100_001, 100));
    const first = await backup(src);
    assert.equal(first.code, 0, first.out);
    assert.match(first.out, /backup stored in s3:\/\/moco-backups.*manifest\.json/s);
    let st = await src.status();
    const b1 = st.status.backup;
    assert.notEqual(b1.sourceIndex, st.status.currentPrimaryIndex, 'the backup source is a replica');
    phase.b = await insert(src, range(200_001, 100));
    const bc = await cutPoint();
    phase.c = await insert(src, range(300_001, 100));
    const cd = await cutPoint();
    phase.d = await insert(src, range(400_001, 100));
    cuts = { bc, cd };

    const writer = new Writer(src);
    writer.start();
    await writer.progress(50);
    ackedBeforeSecond = writer.acked.length;
    const second = await backup(src);
    await writer.progress(50);
    await writer.stop();
    writerAcked = writer.acked;
    assert.equal(second.code, 0, second.out);
    st = await src.status();
    const b2 = st.status.backup;
    assert.ok((b2.binlogSize ?? 0) > 0, 'the binlogs since the first backup were archived');
    assert.equal(b2.warnings, null);
    assert.notEqual(b2.sourceIndex, st.status.currentPrimaryIndex);
    const metrics = await fetch(`http://127.0.0.1:${JSON.parse(await fs.readFile(path.join(src.dir, 'src', 'cluster.json'), 'utf8')).coordinatorHttpPort}/metrics`).then((r) => r.text());
    assert.match(metrics, /moco_backup_timestamp\{[^}]*\} \d+/);
    assert.match(metrics, /moco_backup_binlog_bytes\{[^}]*\} [1-9]/);
  });

  it('restores to a point between backups: every row before it, none after it', async () => {
    const dst = await up('pitr1', restoreManifest('pitr1', 1, cuts.bc));
    const st = await dst.waitHealthy(120_000);
    assert.ok(st.status.restoredTime, 'restoredTime is set');
    const rows = await dst.rows('primary');
    assert.deepEqual(rows, [...(phase.a ?? []), ...(phase.b ?? [])].sort((x, y) => x - y));
  });

  it('restores a 3-instance cluster that ends Healthy with identical rows on every instance', async () => {
    const dst = await up('pitr3', restoreManifest('pitr3', 3, cuts.cd));
    await dst.waitHealthy(180_000, 3);
    const expected = [...(phase.a ?? []), ...(phase.b ?? []), ...(phase.c ?? [])].sort((x, y) => x - y);
    for (const i of [0, 1, 2]) {
      await waitFor(async () => JSON.stringify(await dst.rows(i)) === JSON.stringify(expected), 30_000, `instance ${i} to hold the restored rows`);
    }
    // It is an ordinary cluster now: writes work.
    await insert(dst, [900_001]);
  });

  it('a backup taken during continuous writes restores to a consistent state', async () => {
    const point = new Date(Date.now() + 1000).toISOString().replace(/\.\d+Z$/, 'Z');
    await new Promise((r) => setTimeout(r, 1500));
    const dst = await up('during', restoreManifest('during', 1, point));
    await dst.waitHealthy(120_000);
    const rows = await dst.rows('primary');
    const fromWriter = rows.filter((id) => id < 100_000);
    // One writer inserts ids in order: a consistent copy holds a prefix of them, with no hole.
    assert.ok(fromWriter.length >= ackedBeforeSecond, `${fromWriter.length} writer rows, ${ackedBeforeSecond} acknowledged before the backup`);
    assert.deepEqual(fromWriter, writerAcked.slice(0, fromWriter.length));
    for (const p of ['a', 'b', 'c', 'd']) for (const id of phase[p] ?? []) assert.ok(rows.includes(id), `row ${id} of phase ${p}`);
  });

  it('refuses a restore point before the first backup, and a missing bucket, with nothing created', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'moco-e2e-'));
    try {
      for (const [manifest, pattern] of [
        [restoreManifest('early', 1, beforeFirst), /before the earliest complete backup/],
        [restoreManifest('nobucket', 1, cuts.bc, 'no-such-bucket'), /no-such-bucket.*does not exist/s],
      ] as const) {
        const file = path.join(dir, 'm.yaml');
        await fs.writeFile(file, manifest);
        const r = await runMoco(dir, ['up', '-d', '-f', file], 120_000);
        assert.equal(r.code, 2, r.stdout + r.stderr);
        assert.match(r.stderr, pattern);
        assert.match(r.stderr, /nothing was created/);
      }
      assert.deepEqual((await fs.readdir(dir)).filter((f) => f !== 'm.yaml'), []);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it('the store killed in the middle of an upload: the backup fails clearly, nothing partial looks complete, the next one succeeds', async () => {
    // Enough data that the upload takes a while.
    const conn = await src.connect('primary', 'moco-writable');
    await conn.query('CREATE TABLE e2e.pad (id INT PRIMARY KEY AUTO_INCREMENT, pad VARBINARY(1024))');
    for (let k = 0; k < 30; k++) {
      await conn.query('INSERT INTO e2e.pad (pad) SELECT RANDOM_BYTES(1000) FROM (SELECT 1 FROM information_schema.COLUMNS LIMIT 2000) x');
    }
    await conn.end();
    const bucket = openBucket(store.target(BUCKET));
    const manifestsBefore = (await bucket.list(clusterPrefix('default', 'src'))).filter((o) => o.key.endsWith('/manifest.json')).length;
    const running = backup(src);
    await waitFor(async () => {
      const run = JSON.parse(await fs.readFile(path.join(src.dir, 'src', 'backup-run.json'), 'utf8').catch(() => '{}')) as { state?: string; bytes?: number };
      return run.state === 'running' && (run.bytes ?? 0) > 0;
    }, 60_000, 'the upload to be under way');
    await store.stopProxy();
    const failed = await running;
    await store.startProxy();
    assert.notEqual(failed.code, 0, failed.out);
    assert.match(failed.out, /backup failed/);
    const st = await src.status();
    assert.ok((st.status as { lastBackupFailure?: { message: string } }).lastBackupFailure?.message, 'the status says the backup failed');
    const manifestsAfter = (await bucket.list(clusterPrefix('default', 'src'))).filter((o) => o.key.endsWith('/manifest.json')).length;
    assert.equal(manifestsAfter, manifestsBefore, 'no new complete backup');
    const next = await backup(src);
    assert.equal(next.code, 0, next.out);
    const st2 = await src.status();
    assert.equal((st2.status as { lastBackupFailure?: unknown }).lastBackupFailure, undefined);
    bucket.close();
  });

  it('takes scheduled backups into the embedded file backend', async () => {
    const c = await up('sched', sourceManifest('sched', 1, '@every 5s', { bucketName: 'backups', backendType: 'file' }));
    const dir = path.join(c.dir, 'backups', 'moco', 'default', 'sched');
    const manifests = await waitFor(async () => {
      const dirs = await fs.readdir(dir).catch(() => [] as string[]);
      const done = [];
      for (const d of dirs) if (await fs.access(path.join(dir, d, 'manifest.json')).then(() => true, () => false)) done.push(d);
      return done.length >= 2 ? done : undefined;
    }, 60_000, 'two scheduled backups');
    assert.ok(manifests.length >= 2);
    const st = await c.status();
    assert.ok(st.status.backup.time);
  });
});
