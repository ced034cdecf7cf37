/**
 * Backup and restore through the agents' RPCs, with real mysqld processes and the `file` backend: a full
 * backup from a replica, writes, a second backup that archives the binlogs since the first, then restores
 * into an instance of another cluster (other passwords) at points in time: every row committed before the
 * point is there and none after it. Also: a cancelled backup leaves nothing that looks complete.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MocoError } from '../../src/shared/errors.ts';
import { bucketConfigOf, listBackups } from '../../src/backup/runner.ts';
import { chooseRestoreBackup } from '../../src/backup/choose.ts';
import { clusterPrefix, formatKeyTime } from '../../src/backup/layout.ts';
import { openBucket } from '../../src/backup/storage/index.ts';
import type { BucketTarget } from '../../src/backup/storage/types.ts';
import type { BackupResult } from '../../src/shared/agent-client.ts';
import { createTestCluster, formReplication, waitFor, type TestCluster, type TestInstance } from '../helpers/harness.ts';

let source: TestCluster;
let other: TestCluster;
let primary: TestInstance;
let replica: TestInstance;
let dir: string;
let target: BucketTarget;
const prefix = clusterPrefix('default', 'src');
const phases: Record<string, number[]> = { a: [], b: [], c: [] };
let cutBC: Date;
let first: BackupResult;
let second: BackupResult;

async function write(phase: string, n: number): Promise<void> {
  const c = await primary.connect('moco-writable', source.passwords.WRITABLE_PASSWORD);
  try {
    for (let i = 0; i < n; i++) {
      const [r] = await c.query('INSERT INTO app.t (phase) VALUES (?)', [phase]);
      phases[phase]?.push((r as { insertId: number }).insertId);
    }
  } finally {
    await c.end();
  }
}

async function rows(inst: TestInstance, password: string): Promise<Record<string, number[]>> {
  const c = await inst.connect('moco-admin', password);
  try {
    const [rs] = await c.query('SELECT id, phase FROM app.t ORDER BY id');
    const out: Record<string, number[]> = { a: [], b: [], c: [] };
    for (const r of rs as { id: number; phase: string }[]) out[r.phase]?.push(r.id);
    return out;
  } finally {
    await c.end();
  }
}

/** Waits until the clock is past the next whole second plus `marginMs`; returns that whole second. */
async function nextWholeSecond(marginMs = 1100): Promise<Date> {
  const cut = new Date(Math.ceil((Date.now() + marginMs) / 1000) * 1000);
  await new Promise((r) => setTimeout(r, cut.getTime() - Date.now() + 1100));
  return cut;
}

async function backupFrom(inst: TestInstance, time: Date, prev?: BackupResult, signal?: AbortSignal): Promise<BackupResult> {
  return inst.client.backup({
    bucket: bucketConfigOf(target), prefix, time: formatKeyTime(time), clusterNamespace: 'default', clusterName: 'src', sourceIndex: inst.index,
    previousTime: prev?.time ?? '', previousGtid: prev?.gtid ?? '', previousBinlogFile: prev?.binlogFile ?? '',
  }, () => undefined, signal);
}

describe('backup and point-in-time restore through the agents', () => {
  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'moco-bk-'));
    target = { backendType: 'file', bucket: dir };
    source = await createTestCluster('bksrc');
    primary = await source.add();
    replica = await source.add();
    await formReplication(primary, [replica]);
    const c = await primary.connect('moco-admin', source.passwords.ADMIN_PASSWORD);
    await c.query('CREATE DATABASE app');
    await c.query('CREATE TABLE app.t (id INT PRIMARY KEY AUTO_INCREMENT, phase CHAR(1) NOT NULL, pad VARCHAR(200) DEFAULT (REPEAT(\'x\', 200)))');
    await c.end();
    other = await createTestCluster('bkdst');
  });
  after(async () => {
    await source?.close();
    await other?.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  test('a full backup from a replica, then one that archives the binlogs since it', async () => {
    await write('a', 200);
    await waitFor(async () => (await rows(replica, source.passwords.ADMIN_PASSWORD)).a?.length === 200, 10_000, 'the replica to apply phase a');
    first = await backupFrom(replica, new Date(Date.now() - 1000));
    assert.ok(Number(first.dumpSize) > 0);
    assert.equal(Number(first.binlogSize), 0);
    assert.match(first.gtid, /^0-\d+-\d+/);
    await write('b', 100);
    cutBC = await nextWholeSecond();
    await write('c', 100);
    await waitFor(async () => (await rows(replica, source.passwords.ADMIN_PASSWORD)).c?.length === 100, 10_000, 'the replica to apply phase c');
    second = await backupFrom(replica, new Date(), first);
    assert.ok(Number(second.binlogSize) > 0, 'binlogs archived');
    assert.deepEqual(second.warnings, []);
    const entries = await listBackups(openBucket(target), prefix, AbortSignal.timeout(5000));
    assert.equal(entries.length, 2);
    assert.ok(entries.find((e) => e.manifest.time === first.time)?.binlog, 'the first directory holds the binlogs since it');
  });

  test('a restore between two backups has every row before the point and none after it, with this cluster\'s passwords', async () => {
    const fresh = await other.add();
    const entries = await listBackups(openBucket(target), prefix, AbortSignal.timeout(5000));
    const choice = chooseRestoreBackup(entries, cutBC, dir);
    assert.equal(choice.time, first.time);
    assert.equal(choice.applyBinlog, true);
    const res = await fresh.client.restore({
      bucket: bucketConfigOf(target), prefix, time: choice.time, applyBinlog: true, restorePoint: cutBC.toISOString(),
      passwords: { ...other.passwords },
    }, () => undefined);
    assert.equal(res.binlogApplied, true);
    const got = await rows(fresh, other.passwords.ADMIN_PASSWORD);
    assert.deepEqual(got.a, phases.a);
    assert.deepEqual(got.b, phases.b);
    assert.deepEqual(got.c, []);
    const st = await fresh.client.getStatus();
    assert.equal(st.hasUserData, true);
    assert.equal(st.readOnly, true, 'a restored instance stays read-only');
    // The source cluster's passwords do not work on the restored copy.
    await assert.rejects(fresh.connect('moco-admin', source.passwords.ADMIN_PASSWORD));
    // Repeating the same restore returns the recorded result; another one is refused.
    const again = await fresh.client.restore({
      bucket: bucketConfigOf(target), prefix, time: choice.time, applyBinlog: true, restorePoint: cutBC.toISOString(),
      passwords: { ...other.passwords },
    }, () => undefined);
    assert.equal(again.durationMs, res.durationMs);
    await assert.rejects(fresh.client.restore({
      bucket: bucketConfigOf(target), prefix, time: second.time, applyBinlog: false, restorePoint: '', passwords: { ...other.passwords },
    }, () => undefined), (e: unknown) => e instanceof MocoError && e.code === 'FAILED_PRECONDITION');
  });

  test('a restore of the newest backup alone has every row it holds', async () => {
    const fresh = await other.add();
    const res = await fresh.client.restore({
      bucket: bucketConfigOf(target), prefix, time: second.time, applyBinlog: false, restorePoint: '', passwords: { ...other.passwords },
    }, () => undefined);
    assert.equal(res.binlogApplied, false);
    const got = await rows(fresh, other.passwords.ADMIN_PASSWORD);
    assert.deepEqual([got.a?.length, got.b?.length, got.c?.length], [200, 100, 100]);
  });

  test('a cancelled backup leaves no manifest and no archive', async () => {
    const ac = new AbortController();
    const time = new Date(Date.now() + 5000);
    const running = backupFrom(replica, time, undefined, ac.signal);
    setTimeout(() => ac.abort(), 150);
    await assert.rejects(running, (e: unknown) => e instanceof MocoError && e.code === 'CANCELLED');
    await waitFor(async () => {
      const keys = (await openBucket(target).list(`${prefix}${formatKeyTime(time)}/`)).map((o) => o.key);
      return keys.length === 0;
    }, 10_000, 'nothing stored for the cancelled backup');
    // The agent is free again for the next backup once it has stopped the tools (BUSY until then).
    const next = await waitFor(() => backupFrom(replica, new Date(Date.now() + 10_000)).catch((e: unknown) => {
      if (e instanceof MocoError && e.code === 'BUSY') return undefined;
      throw e;
    }), 20_000, 'the next backup');
    assert.ok(Number(next.dumpSize) > 0);
  });
});
