/**
 * Archives on their way to and from storage (a directory bucket): compressed, checksummed, and never stored
 * when the producer fails; a damaged archive is detected on the way back. Also the tar of binlog files, and
 * reading mariadb-backup's consistent position from its log.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { uploadArchive, downloadArchive, type Producer } from '../../../src/backup/transfer.ts';
import { packFiles, unpackFiles } from '../../../src/backup/tar.ts';
import { openBucket } from '../../../src/backup/storage/index.ts';
import type { BucketClient } from '../../../src/backup/storage/types.ts';
import { parseBackupPosition } from '../../../src/agent/clone/donor.ts';

let dir: string;
let bucket: BucketClient;
const data = Buffer.concat([randomBytes(3 * 1024 * 1024), Buffer.alloc(3 * 1024 * 1024, 7)]);

const producerOf = (chunks: Buffer[], failAt?: number): Producer => {
  const stream = new PassThrough();
  const done = (async () => {
    for (let i = 0; i < chunks.length; i++) {
      if (i === failAt) {
        const err = new Error('the tool died');
        stream.destroy(err);
        throw err;
      }
      if (!stream.write(chunks[i])) await new Promise((r) => stream.once('drain', r));
    }
    stream.end();
  })();
  done.catch(() => undefined);
  return { stream, done, stop: () => stream.destroy() };
};

function collector(): { sink: Writable; bytes: () => Buffer } {
  const parts: Buffer[] = [];
  return { sink: new Writable({ write(c: Buffer, _e, cb) { parts.push(c); cb(); } }), bytes: () => Buffer.concat(parts) };
}

describe('archives', () => {
  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'moco-arch-'));
    bucket = openBucket({ backendType: 'file', bucket: dir });
  });
  after(async () => {
    bucket.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  for (const compression of ['zstd', 'gzip'] as const) {
    it(`${compression}: round-trips byte for byte, with size and sha256 of what is stored`, async () => {
      const chunks = [data.subarray(0, 1e6), data.subarray(1e6)];
      const stored = await uploadArchive(bucket, `k/${compression}.bin`, producerOf(chunks), { compression, signal: AbortSignal.timeout(30_000) });
      assert.equal(stored.size, (await fs.stat(path.join(dir, 'k', `${compression}.bin`))).size);
      assert.ok(stored.size < data.length, 'compressed');
      const out = collector();
      await downloadArchive(bucket, stored, out.sink, Promise.resolve(), { signal: AbortSignal.timeout(30_000) });
      assert.ok(out.bytes().equals(data));
    });
  }

  it('a producer that fails midway leaves no object', async () => {
    const chunks = [data.subarray(0, 1e6), data.subarray(1e6, 2e6), data.subarray(2e6)];
    await assert.rejects(uploadArchive(bucket, 'k/failed.bin', producerOf(chunks, 2), { compression: 'zstd', signal: AbortSignal.timeout(30_000) }), /the tool died/);
    assert.deepEqual((await bucket.list('k/failed')).map((o) => o.key), []);
  });

  it('a store that fails after the producer finished fails the upload at once, whatever the compressor still holds', { timeout: 20_000 }, async () => {
    // The backup tool has written everything and exited; the compressor still holds output nobody reads any more
    // when the store fails (it took none of the body) and drops the body, as the S3 upload does. The rejection
    // must come: it waited before for the compressor's output to close, forever.
    for (const size of [1.1, 1.3, 1.6, 2]) {
      const producer = producerOf([randomBytes(Math.round(size * 1024 * 1024))]);
      const failing = Object.create(bucket) as BucketClient;
      failing.upload = async (_key, body) => {
        await producer.done;
        await new Promise((r) => setTimeout(r, 200));
        body.destroy();
        throw new Error('the store went away');
      };
      await assert.rejects(uploadArchive(failing, `k/store-failed-${size}.bin`, producer, { compression: 'zstd', signal: AbortSignal.timeout(30_000) }),
        /the store went away/);
    }
  });

  it('a damaged archive is refused on the way back', async () => {
    const stored = await uploadArchive(bucket, 'k/damaged.bin', producerOf([data]), { compression: 'gzip', signal: AbortSignal.timeout(30_000) });
    await assert.rejects(downloadArchive(bucket, { ...stored, sha256: '0'.repeat(64) }, collector().sink, Promise.resolve(), { signal: AbortSignal.timeout(30_000) }),
      /is damaged/);
  });

  it('packs closed files into a tar and unpacks them by name', async () => {
    const src = path.join(dir, 'binlogs');
    await fs.mkdir(src);
    await fs.writeFile(path.join(src, 'binlog.000001'), data.subarray(0, 5000));
    await fs.writeFile(path.join(src, 'binlog.000002'), data.subarray(5000, 9000));
    const files = ['binlog.000001', 'binlog.000002'].map((f) => path.join(src, f));
    const stored = await uploadArchive(bucket, 'k/binlog.tar.zst', packFiles(files, AbortSignal.timeout(30_000)), { compression: 'zstd', signal: AbortSignal.timeout(30_000) });
    const out = path.join(dir, 'out');
    await fs.mkdir(out);
    const unpack = unpackFiles(out);
    await downloadArchive(bucket, stored, unpack.sink, unpack.done.then(() => undefined), { signal: AbortSignal.timeout(30_000) });
    assert.deepEqual(await unpack.done, ['binlog.000001', 'binlog.000002']);
    assert.ok((await fs.readFile(path.join(out, 'binlog.000002'))).equals(data.subarray(5000, 9000)));
  });

  it('reads the consistent binlog position from mariadb-backup\'s log', () => {
    assert.deepEqual(parseBackupPosition("[00] 2026-11-21 12:00:00 MySQL binlog position: filename 'binlog.000003', position '1234', GTID of the last change '0-101-77'\n"),
      { file: 'binlog.000003', position: '1234', gtid: '0-101-77' });
    assert.deepEqual(parseBackupPosition("MySQL binlog position: filename 'binlog.000001', position '330'"), { file: 'binlog.000001', position: '330', gtid: '' });
    assert.equal(parseBackupPosition('completed OK!'), undefined);
  });
});
