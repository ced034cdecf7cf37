/**
 * Backups through an agent to a real S3-compatible store (OpenStack Swift with s3api): the store killed in the
 * middle of an upload makes the backup fail at once with a clear error, leaves nothing that looks complete,
 * and the next backup succeeds.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MocoError } from '../../src/shared/errors.ts';
import { bucketConfigOf } from '../../src/backup/runner.ts';
import { clusterPrefix, formatKeyTime } from '../../src/backup/layout.ts';
import { openBucket } from '../../src/backup/storage/index.ts';
import { startS3Store, type S3Store } from '../helpers/s3-store.ts';
import { createTestCluster, waitFor, type TestCluster, type TestInstance } from '../helpers/harness.ts';

let cluster: TestCluster;
let inst: TestInstance;
let store: S3Store;
const prefix = clusterPrefix('default', 's3');

describe('backups to an S3-compatible store', () => {
  before(async () => {
    store = await startS3Store();
    await store.createBucket('bk-s3');
    cluster = await createTestCluster('bks3');
    inst = await cluster.add();
    await inst.client.setWritable();
    const c = await inst.connect();
    await c.query('CREATE DATABASE app');
    await c.query('CREATE TABLE app.big (id INT PRIMARY KEY AUTO_INCREMENT, pad VARBINARY(1024))');
    for (let b = 0; b < 50; b++) {
      await c.query('INSERT INTO app.big (pad) SELECT RANDOM_BYTES(1000) FROM (SELECT 1 FROM information_schema.COLUMNS LIMIT 2000) x');
    }
    await c.end();
  });
  after(async () => {
    await cluster?.close();
    await store?.stop();
  });

  test('the store killed mid-upload: the backup fails, nothing is complete, the next backup succeeds', async () => {
    const time = formatKeyTime(new Date());
    let bytes = 0;
    const req = {
      bucket: bucketConfigOf(store.target('bk-s3')), prefix, time, clusterNamespace: 'default', clusterName: 's3', sourceIndex: 0,
    };
    const started = Date.now();
    const running = inst.client.backup(req, (p) => {
      bytes = p.bytes;
    });
    running.catch(() => undefined);
    await waitFor(() => bytes > 8 * 1024 * 1024, 60_000, 'the upload to be under way');
    await store.stopProxy();
    const killedAt = Date.now();
    await assert.rejects(running, (e: unknown) => e instanceof MocoError && /cannot reach|store|socket|ECONN/i.test(e.message));
    const failedAfterMs = Date.now() - killedAt;
    await store.startProxy();
    const keys = (await openBucket(store.target('bk-s3')).list(prefix)).map((o) => o.key);
    assert.deepEqual(keys.filter((k) => k.endsWith('manifest.json')), []);
    assert.ok(failedAfterMs < 60_000, `failed ${failedAfterMs} ms after the store went away (${Date.now() - started} ms in all)`);
    const next = await waitFor(() => inst.client.backup({ ...req, time: formatKeyTime(new Date(Date.now() + 2000)) }, () => undefined).catch((e: unknown) => {
      if (e instanceof MocoError && e.code === 'BUSY') return undefined;
      throw e;
    }), 120_000, 'the next backup');
    assert.ok(Number(next.dumpSize) > 8 * 1024 * 1024);
  });
});
