/**
 * Backup and restore benchmark (npm run bench:backup): about MOCO_BENCH_MB (default 1024) MB of partly
 * compressible rows in one instance, then, against one real S3-compatible store (Swift + s3api) in the same run:
 *   - a plain uncompressed tar of the data directory (packFiles, streamed to the bucket) against a moco backup
 *     (the Backup RPC: mariadb-backup xbstream, zstd -1, multipart upload);
 *   - that tar downloaded and extracted by `tar -x` against a moco restore into a fresh instance of another
 *     cluster (the Restore RPC: download, zstd -d, mbstream, prepare, account reset, restart).
 * Every rate divides the same numerator, the bytes of the data directory's files without the binary logs
 * (neither a backup nor a restore moves them), by the seconds the job took. Prints the figures, then one JSON line.
 */
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { bucketConfigOf } from '../../src/backup/runner.ts';
import { clusterPrefix, formatKeyTime } from '../../src/backup/layout.ts';
import { openBucket, type BucketClient } from '../../src/backup/storage/index.ts';
import { packFiles } from '../../src/backup/tar.ts';
import type { Progress } from '../../src/shared/agent-client.ts';
import { startS3Store, type S3Store } from '../helpers/s3-store.ts';
import { createTestCluster, type TestCluster } from '../helpers/harness.ts';

const TARGET_MB = Number(process.env.MOCO_BENCH_MB ?? 1024);
const BUCKET = 'bench-backup';
const TAR_KEY = 'baseline/datadir.tar';
/** Bytes a row takes in its .ibd file (508 bytes of payload, row header, pages about 15/16 full). */
const ROW_BYTES = 570;
const ROWS_PER_BATCH = 20_000;

const mb = (bytes: number): number => Math.round(bytes / 1e6);
const rate = (bytes: number, ms: number): number => Math.round(bytes / 1e6 / (ms / 1000));
const secs = (ms: number): number => +(ms / 1000).toFixed(2);

/** Every regular file under `dir` (sockets, pipes and links left out) except those `skip` names, relative path. */
async function regularFiles(dir: string, skip: (rel: string) => boolean, rel = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await fs.readdir(path.join(dir, rel), { withFileTypes: true })) {
    const r = path.join(rel, e.name);
    if (e.isDirectory()) out.push(...await regularFiles(dir, skip, r));
    else if (e.isFile() && !skip(r)) out.push(path.join(dir, r));
  }
  return out;
}

/** Runs `tar -x -C dir` on the object's bytes; resolves when tar exited 0. */
async function extractObject(bucket: BucketClient, key: string, dir: string): Promise<void> {
  const tar = spawn('tar', ['-x', '-C', dir], { stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  tar.stderr.on('data', (s: Buffer) => { stderr = (stderr + String(s)).slice(-2000); });
  const exited = new Promise<void>((resolve, reject) => {
    tar.on('error', reject);
    tar.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`tar -x exited ${code}: ${stderr}`))));
  });
  try {
    await Promise.all([pipeline(await bucket.getObject(key), tar.stdin), exited]);
  } catch (err) {
    if (tar.exitCode === null) tar.kill('SIGTERM');
    throw err;
  }
}

/**
 * Records when each phase of a progress stream was first reported, relative to `t0`. The agent sends progress at
 * most every 500 ms, so a phase may be reported up to 500 ms late, or not at all when it is shorter.
 */
function phaseClock(t0: number): { onProgress: (p: Progress) => void; phases: Record<string, number> } {
  const phases: Record<string, number> = {};
  return { phases, onProgress: (p) => { phases[p.phase] ??= Date.now() - t0; } };
}

let store: S3Store | undefined;
let source: TestCluster | undefined;
let other: TestCluster | undefined;
let scratch: string | undefined;
let bucket: BucketClient | undefined;
try {
  store = await startS3Store();
  await store.createBucket(BUCKET);
  const target = store.target(BUCKET);
  bucket = openBucket(target);
  source = await createTestCluster('bench-src');
  const inst = await source.add();
  await inst.client.setWritable();

  // 1. About TARGET_MB of rows: 256 random bytes and 252 bytes of repeated text each, so zstd -1 halves them.
  const batches = Math.max(1, Math.ceil((TARGET_MB * 1024 * 1024) / (ROW_BYTES * ROWS_PER_BATCH)));
  console.log(`loading about ${TARGET_MB} MB (${batches} batches of ${ROWS_PER_BATCH} rows)...`);
  const c = await inst.connect();
  await c.query('CREATE DATABASE bench');
  await c.query('CREATE TABLE bench.t (id INT PRIMARY KEY AUTO_INCREMENT, pad VARBINARY(512) NOT NULL)');
  let t = Date.now();
  for (let b = 1; b <= batches; b++) {
    await c.query("INSERT INTO bench.t (pad) SELECT CONCAT(RANDOM_BYTES(256), REPEAT('moco backup bench ', 14)) " +
      `FROM (SELECT 1 FROM information_schema.COLUMNS a, information_schema.COLUMNS b LIMIT ${ROWS_PER_BATCH}) x`);
    if (b % 10 === 0 || b === batches) console.log(`  ${b}/${batches} batches, ${secs(Date.now() - t)} s`);
  }
  const [[{ n: rows }]] = await c.query('SELECT COUNT(*) AS n FROM bench.t') as unknown as [[{ n: number }]];
  await c.end();

  // The files a backup copies: the data directory without the binary logs (about as large as the data here).
  const dataDir = inst.layout.dataDir;
  const all = await regularFiles(dataDir, () => false);
  const files = await regularFiles(dataDir, (rel) => /^binlog\.\d+$/.test(rel));
  const sizeOf = async (fs_: string[]): Promise<number> => (await Promise.all(fs_.map((f) => fs.stat(f)))).reduce((s, st) => s + st.size, 0);
  const dataBytes = await sizeOf(files);
  console.log(`loaded ${rows} rows in ${secs(Date.now() - t)} s: data directory ${mb(dataBytes)} MB in ${files.length} files ` +
    `without the binary logs (${mb(await sizeOf(all))} MB with them)`);

  // 2. Baseline backup: plain tar of those files into the store, while mysqld runs (a crash-consistent copy is
  // enough for a throughput baseline). packFiles names entries by base name, so the few same-named files of
  // different schema directories (db.opt) overwrite each other on extraction: the bytes moved are the same.
  // The same part size as the agent's upload (which passes no expected size: 32 MiB parts); an expected size
  // would pick 8 MiB parts here.
  t = Date.now();
  const packer = packFiles(files, AbortSignal.timeout(600_000));
  try {
    await Promise.all([bucket.upload(TAR_KEY, packer.stream), packer.done]);
  } catch (err) {
    packer.stop();
    throw err;
  }
  const tarBackupMs = Date.now() - t;
  console.log(`tar backup: ${secs(tarBackupMs)} s = ${rate(dataBytes, tarBackupMs)} MB/s`);

  // 3. moco backup to the same bucket.
  const prefix = clusterPrefix('default', 'bench');
  const time = formatKeyTime(new Date());
  t = Date.now();
  const bk = phaseClock(t);
  const backup = await inst.client.backup({
    bucket: bucketConfigOf(target), prefix, time, clusterNamespace: 'default', clusterName: 'bench', sourceIndex: inst.index,
  }, bk.onProgress);
  const backupMs = Date.now() - t;
  const storedBytes = Number(backup.dumpSize);
  console.log(`moco backup: ${secs(backupMs)} s = ${rate(dataBytes, backupMs)} MB/s, stored ${mb(storedBytes)} MB ` +
    `(${backup.compression}, ${(dataBytes / storedBytes).toFixed(2)}:1); phases first reported at ${JSON.stringify(bk.phases)} ms`);

  // 4. Baseline restore: the tar downloaded and extracted.
  scratch = await fs.mkdtemp(path.join(os.tmpdir(), 'moco-bench-untar-'));
  t = Date.now();
  await extractObject(bucket, TAR_KEY, scratch);
  const tarRestoreMs = Date.now() - t;
  console.log(`tar restore: ${secs(tarRestoreMs)} s = ${rate(dataBytes, tarRestoreMs)} MB/s`);
  await fs.rm(scratch, { recursive: true, force: true });
  scratch = undefined;

  // 5. moco restore into a fresh instance of another cluster.
  other = await createTestCluster('bench-dst');
  const fresh = await other.add();
  t = Date.now();
  const rs = phaseClock(t);
  await fresh.client.restore({
    bucket: bucketConfigOf(target), prefix, time: backup.time, applyBinlog: false, restorePoint: '', passwords: { ...other.passwords },
  }, rs.onProgress);
  const restoreMs = Date.now() - t;
  const d = await fresh.connect('moco-admin', other.passwords.ADMIN_PASSWORD);
  const [[{ n: restoredRows }]] = await d.query('SELECT COUNT(*) AS n FROM bench.t') as unknown as [[{ n: number }]];
  await d.end();
  if (Number(restoredRows) !== Number(rows)) throw new Error(`the restored copy has ${restoredRows} rows, the source ${rows}`);
  console.log(`moco restore: ${secs(restoreMs)} s = ${rate(dataBytes, restoreMs)} MB/s (${restoredRows} rows); ` +
    `phases first reported at ${JSON.stringify(rs.phases)} ms`);

  // For the analysis: how long the store alone takes to serve the compressed backup (read and dropped).
  const base = (JSON.parse(await bucket.readText(backup.manifestKey) ?? '{}') as { base?: { key: string } }).base?.key ?? '';
  t = Date.now();
  for await (const chunk of await bucket.getObject(base)) void chunk;
  const getStoredMs = Date.now() - t;
  console.log(`store GET of the ${mb(storedBytes)} MB backup object alone: ${secs(getStoredMs)} s`);

  // 6. The figures.
  const r = {
    bench: 'backup', data_mb: mb(dataBytes), stored_mb: mb(storedBytes),
    tar_backup_s: secs(tarBackupMs), tar_backup_mb_s: rate(dataBytes, tarBackupMs),
    backup_s: secs(backupMs), backup_mb_s: rate(dataBytes, backupMs), backup_ratio: +(tarBackupMs / backupMs).toFixed(2),
    tar_restore_s: secs(tarRestoreMs), tar_restore_mb_s: rate(dataBytes, tarRestoreMs),
    restore_s: secs(restoreMs), restore_mb_s: rate(dataBytes, restoreMs), restore_ratio: +(tarRestoreMs / restoreMs).toFixed(2),
    backup_phases_ms: bk.phases, restore_phases_ms: rs.phases, store_get_stored_s: secs(getStoredMs),
  };
  const cell = (mbs: number, s: number): string => `${mbs} MB/s (${s} s)`.padEnd(22);
  console.log(`
${r.data_mb} MB of data (stored by moco as ${r.stored_mb} MB), one S3-compatible store:
           ${'tar, uncompressed'.padEnd(22)} ${'moco'.padEnd(22)} moco/tar  goal
  backup   ${cell(r.tar_backup_mb_s, r.tar_backup_s)} ${cell(r.backup_mb_s, r.backup_s)} ${String(r.backup_ratio).padEnd(9)} >= 0.5
  restore  ${cell(r.tar_restore_mb_s, r.tar_restore_s)} ${cell(r.restore_mb_s, r.restore_s)} ${String(r.restore_ratio).padEnd(9)} >= 0.5
`);
  console.log(JSON.stringify(r));
} finally {
  bucket?.close();
  await other?.close();
  await source?.close();
  await store?.stop();
  if (scratch) await fs.rm(scratch, { recursive: true, force: true });
}
