import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';

import { hasCode, MocoError } from '../../../src/shared/errors.ts';
import { FileBucket, ensureDirectory, openBucket } from '../../../src/backup/storage/index.ts';
import { checkKey, isTempName, tempName } from '../../../src/backup/storage/file-paths.ts';

let base: string;
before(async () => {
  base = await fs.mkdtemp(path.join(os.tmpdir(), 'moco-file-bucket-'));
});
after(async () => {
  await fs.rm(base, { recursive: true, force: true });
});

let n = 0;
/** A fresh, existing bucket directory. */
async function freshBucket(): Promise<FileBucket> {
  const dir = path.join(base, `b${n++}`);
  await fs.mkdir(dir);
  return new FileBucket(dir);
}

/** Every file name under `dir`, recursively (temporary ones included). */
async function allFiles(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => e.name).sort();
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** A body that yields two chunks and then fails. */
function failingBody(err: Error): Readable {
  let i = 0;
  return new Readable({
    read() {
      if (i++ < 2) this.push(Buffer.alloc(64 * 1024, i));
      else this.destroy(err);
    },
  });
}

describe('FileBucket', () => {
  it('uploads, lists, reads and deletes', async () => {
    const bucket = await freshBucket();
    const key = 'moco/ns/c/20240101-000000/dump.tar';
    const chunks = [Buffer.from('hello '), Buffer.alloc(100_000, 7), Buffer.from(' world')];
    const progress: number[] = [];
    const bytes = await bucket.upload(key, Readable.from(chunks), { onProgress: (b) => progress.push(b) });
    assert.equal(bytes, 100_012);
    assert.equal(progress.at(-1), 100_012);
    await bucket.putObject('moco/ns/c/20240101-000000/manifest.json', '{"a":1}');
    await bucket.putObject('moco/ns/c/20240102-000000/manifest.json', Buffer.from('{"b":2}'));
    await bucket.putObject('moco/ns/other/x', 'x');

    assert.deepEqual(await bucket.list('moco/ns/c/'), [
      { key: 'moco/ns/c/20240101-000000/dump.tar', size: 100_012 },
      { key: 'moco/ns/c/20240101-000000/manifest.json', size: 7 },
      { key: 'moco/ns/c/20240102-000000/manifest.json', size: 7 },
    ]);
    assert.deepEqual((await bucket.list('moco/ns/c/20240102')).map((o) => o.key), ['moco/ns/c/20240102-000000/manifest.json']);
    assert.equal((await bucket.list('')).length, 4);
    assert.deepEqual(await bucket.list('moco/none/'), []);

    assert.deepEqual(await readAll(await bucket.getObject(key)), Buffer.concat(chunks));
    assert.equal(await bucket.readText('moco/ns/c/20240101-000000/manifest.json'), '{"a":1}');
    assert.equal(await bucket.readText('moco/ns/c/missing.json'), undefined);
    assert.equal(await bucket.readText('moco/ns/c/20240101-000000/dump.tar/deeper'), undefined);
    await assert.rejects(bucket.getObject('moco/ns/c/missing'), (err: unknown) => hasCode(err, 'NOT_FOUND'));
    // A key prefix is not an object.
    await assert.rejects(bucket.getObject('moco/ns/c'), (err: unknown) => hasCode(err, 'NOT_FOUND'));
    assert.equal(await bucket.readText('moco/ns/c'), undefined);

    await bucket.delete([key, 'moco/ns/c/20240101-000000/manifest.json', 'moco/ns/c/never-existed']);
    assert.deepEqual((await bucket.list('moco/')).map((o) => o.key), ['moco/ns/c/20240102-000000/manifest.json', 'moco/ns/other/x']);
    // Directories left empty are removed.
    await assert.rejects(fs.stat(path.join(bucket.dir, 'moco/ns/c/20240101-000000')), { code: 'ENOENT' });
    assert.deepEqual(await allFiles(bucket.dir), ['manifest.json', 'x']);
  });

  it('replaces an existing object atomically', async () => {
    const bucket = await freshBucket();
    await bucket.putObject('k', 'old');
    await bucket.upload('k', Readable.from([Buffer.from('new')]));
    assert.equal(await bucket.readText('k'), 'new');
    // A failed overwrite keeps the old object whole.
    await assert.rejects(bucket.upload('k', failingBody(new Error('boom'))));
    assert.equal(await bucket.readText('k'), 'new');
    assert.deepEqual(await allFiles(bucket.dir), ['k']);
  });

  it('leaves nothing when the body fails midway', async () => {
    const bucket = await freshBucket();
    await assert.rejects(bucket.upload('a/b/dump.tar', failingBody(new Error('tool exited 1'))), (err: unknown) => {
      assert.ok(hasCode(err, 'INTERNAL'));
      assert.match(err.message, /reading the data for a\/b\/dump.tar failed: tool exited 1/);
      return true;
    });
    assert.deepEqual(await bucket.list(''), []);
    assert.deepEqual(await allFiles(bucket.dir), []);
  });

  it("passes the body's own MocoError through unchanged", async () => {
    const bucket = await freshBucket();
    const own = new MocoError('FAILED_PRECONDITION', 'the source went away');
    await assert.rejects(bucket.upload('x', failingBody(own)), (err: unknown) => err === own);
    assert.deepEqual(await allFiles(bucket.dir), []);
  });

  it('leaves nothing when cancelled midway, and destroys the body', async () => {
    const bucket = await freshBucket();
    const body = new PassThrough();
    const ac = new AbortController();
    body.write(Buffer.alloc(256 * 1024, 1)); // never ended: only the abort can finish this upload
    const upload = bucket.upload('c/dump.tar', body, {
      signal: ac.signal,
      onProgress: () => ac.abort(),
    });
    await assert.rejects(upload, (err: unknown) => hasCode(err, 'CANCELLED'));
    assert.ok(body.destroyed);
    assert.deepEqual(await bucket.list(''), []);
    assert.deepEqual(await allFiles(bucket.dir), []);
  });

  it('refuses to start with an aborted signal', async () => {
    const bucket = await freshBucket();
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(bucket.upload('k', Readable.from([Buffer.from('x')]), { signal: ac.signal }),
      (err: unknown) => hasCode(err, 'CANCELLED'));
    await assert.rejects(bucket.putObject('k', 'x', { signal: ac.signal }));
    assert.deepEqual(await allFiles(bucket.dir), []);
  });

  it('ignores temporary files (a crash mid-upload) when listing', async () => {
    const bucket = await freshBucket();
    await bucket.putObject('d/real', 'r');
    await fs.writeFile(path.join(bucket.dir, 'd', tempName('dump.tar')), 'partial');
    assert.deepEqual(await bucket.list('d/'), [{ key: 'd/real', size: 1 }]);
  });

  describe('keys', () => {
    const bad = ['', '/etc/passwd', '../x', 'a/../../b', 'a/..', './a', 'a/./b', 'a//b', 'a/', 'a\\b', 'a\0b',
      `d/${tempName('x')}`];
    for (const key of bad) {
      it(`rejects ${JSON.stringify(key)} in every call`, async () => {
        const bucket = await freshBucket();
        const invalid = (err: unknown): boolean => hasCode(err, 'INVALID_ARGUMENT') && err.message.includes('object key');
        const body = Readable.from([Buffer.from('x')]);
        await assert.rejects(bucket.upload(key, body), invalid);
        assert.ok(body.destroyed);
        await assert.rejects(bucket.putObject(key, 'x'), invalid);
        await assert.rejects(bucket.getObject(key), invalid);
        await assert.rejects(bucket.readText(key), invalid);
        await assert.rejects(bucket.delete(['fine', key]), invalid);
        assert.deepEqual(await allFiles(bucket.dir), []);
      });
    }
    it('accepts dots inside segments', () => assert.deepEqual(checkKey('a..b/.c/d.'), ['a..b', '.c', 'd.']));
    it('recognises its temporary names only', () => {
      assert.ok(isTempName(tempName('dump.tar')));
      assert.ok(!isTempName('.dump.tar.partial'));
      assert.ok(!isTempName('dump.tar'));
    });
    it('rejects list prefixes that leave the directory', async () => {
      const bucket = await freshBucket();
      for (const prefix of ['/abs', '../', 'a/../']) {
        await assert.rejects(bucket.list(prefix), (err: unknown) => hasCode(err, 'INVALID_ARGUMENT'));
      }
    });
  });

  describe('the directory', () => {
    it('check() says what to do when it is missing', async () => {
      const dir = path.join(base, 'missing-dir');
      const bucket = new FileBucket(dir);
      await assert.rejects(bucket.check(), (err: unknown) => {
        assert.ok(hasCode(err, 'NOT_FOUND'));
        assert.equal(err.message, `backup directory ${dir} does not exist; create it or fix bucketConfig.bucketName`);
        return true;
      });
      await assert.rejects(bucket.upload('k', Readable.from([Buffer.from('x')])), (err: unknown) => hasCode(err, 'NOT_FOUND'));
      await assert.rejects(bucket.list(''), (err: unknown) => hasCode(err, 'NOT_FOUND'));
      await assert.rejects(bucket.readText('k'), (err: unknown) => hasCode(err, 'NOT_FOUND'));
      await assert.rejects(fs.stat(dir), { code: 'ENOENT' });
    });

    it('is created by check() and writes with create: true', async () => {
      const dir = path.join(base, 'created', 'deep');
      const bucket = new FileBucket(dir, { create: true });
      await bucket.check();
      assert.ok((await fs.stat(dir)).isDirectory());
      const other = new FileBucket(path.join(base, 'created2'), { create: true });
      assert.equal(await other.upload('x/y', Readable.from([Buffer.from('abc')])), 3);
      assert.equal(await other.readText('x/y'), 'abc');
    });

    it('ensureDirectory() is idempotent and wants an absolute path', async () => {
      const dir = path.join(base, 'ensured');
      await ensureDirectory(dir);
      await ensureDirectory(dir);
      assert.ok((await fs.stat(dir)).isDirectory());
      await assert.rejects(ensureDirectory('relative/dir'), (err: unknown) => hasCode(err, 'INVALID_ARGUMENT'));
    });

    it('check() refuses a file', async () => {
      const file = path.join(base, 'a-file');
      await fs.writeFile(file, 'x');
      await assert.rejects(new FileBucket(file).check(), (err: unknown) => hasCode(err, 'FAILED_PRECONDITION'));
    });

    it('must be absolute', () => {
      assert.throws(() => new FileBucket('backups'), (err: unknown) => hasCode(err, 'INVALID_ARGUMENT'));
    });
  });

  describe('openBucket', () => {
    it('picks the directory bucket for backendType file', async () => {
      const bucket = openBucket({ backendType: 'file', bucket: base });
      assert.ok(bucket instanceof FileBucket);
      assert.equal(bucket.describe(), `directory ${base}`);
      await bucket.check();
      bucket.close();
    });
    it('rejects an unknown backend', () => {
      assert.throws(() => openBucket({ backendType: 'gcs' as 's3', bucket: 'b' }), (err: unknown) =>
        hasCode(err, 'INVALID_ARGUMENT') && err.message.includes('"gcs"'));
    });
    it('rejects a malformed S3 endpoint without any I/O', () => {
      assert.throws(() => openBucket({ backendType: 's3', bucket: 'b', endpointURL: 'minio:9000' }), (err: unknown) =>
        hasCode(err, 'INVALID_ARGUMENT') && err.message.includes('endpointURL'));
      assert.throws(() => openBucket({ backendType: 's3', bucket: 'b', caCertPem: 'not a pem' }), (err: unknown) =>
        hasCode(err, 'INVALID_ARGUMENT') && err.message.includes('caCert'));
    });
  });
});
