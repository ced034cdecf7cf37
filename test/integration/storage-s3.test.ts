/**
 * The S3 bucket client against a real S3-compatible store (OpenStack Swift with s3api; see
 * test/helpers/s3-store.ts): multipart streaming, pagination, DeleteObjects, error mapping, cancellation and a
 * store that dies mid-upload.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import { PassThrough, Readable, type Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { HeadObjectCommand, ListMultipartUploadsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';

import { hasCode, MocoError } from '../../src/shared/errors.ts';
import { freePort } from '../../src/shared/net.ts';
import { createCa, issueCert } from '../../src/shared/pki.ts';
import { openBucket, type BucketClient } from '../../src/backup/storage/index.ts';
import { startS3Store, type S3Store } from '../helpers/s3-store.ts';

const MiB = 1024 * 1024;

let store: S3Store;
let bucket: BucketClient;
let admin: S3Client;
before(async () => {
  store = await startS3Store();
  await store.createBucket('backups');
  bucket = openBucket(store.target('backups'));
  admin = new S3Client({
    endpoint: store.endpoint, region: store.region, credentials: store.credentials, forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED',
  });
});
after(async () => {
  bucket?.close();
  admin?.destroy();
  await store?.stop();
});

/** `size` bytes of random data in 1 MiB chunks, and their sha256 once read. */
function randomBody(size: number): { body: Readable; sha256: () => string } {
  const hash = createHash('sha256');
  let left = size;
  const body = new Readable({
    read() {
      if (left === 0) {
        this.push(null);
        return;
      }
      const chunk = randomBytes(Math.min(MiB, left));
      left -= chunk.length;
      hash.update(chunk);
      this.push(chunk);
    },
  });
  return { body, sha256: () => hash.digest('hex') };
}

/** Writes 1 MiB chunks into `sink` (honouring backpressure) until it is destroyed or `stop()` is called. */
function feedForever(sink: Writable): { stop: () => void } {
  let stopped = false;
  const write = (): void => {
    while (!stopped && !sink.destroyed) {
      if (!sink.write(randomBytes(MiB))) {
        sink.once('drain', write);
        return;
      }
    }
  };
  sink.on('error', () => undefined);
  write();
  return { stop: () => { stopped = true; } };
}

async function sha256Of(stream: Readable): Promise<{ hex: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of stream) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { hex: hash.digest('hex'), bytes };
}

/** A TLS front for the store (its own CA), as an S3 store behind a private CA would be. */
async function tlsFront(): Promise<{ endpoint: string; caPem: string; close: () => Promise<void> }> {
  const ca = await createCa('moco test store CA');
  const leaf = await issueCert(ca, { commonName: '127.0.0.1', usage: 'server' });
  const { port } = new URL(store.endpoint);
  const sockets = new Set<net.Socket>();
  const server = tls.createServer({ cert: leaf.cert, key: leaf.key }, (client) => {
    const upstream = net.connect(Number(port), '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined).on('close', () => sockets.delete(s));
    }
    client.pipe(upstream).pipe(client);
  });
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as net.AddressInfo;
  return {
    endpoint: `https://127.0.0.1:${address.port}`,
    caPem: ca.cert,
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}

async function incompleteUploads(prefix: string): Promise<number> {
  const out = await admin.send(new ListMultipartUploadsCommand({ Bucket: 'backups', Prefix: prefix }));
  return out.Uploads?.length ?? 0;
}

describe('S3 bucket on a real store', () => {
  it('streams a 40 MiB multipart upload and reads it back byte for byte', async () => {
    const size = 40 * MiB + 12345;
    const { body, sha256 } = randomBody(size);
    const progress: number[] = [];
    const key = 'moco/ns/c/20240101-000000/base.xbstream.zst';
    const stored = await bucket.upload(key, body, {
      expectedSize: size, contentType: 'application/zstd', onProgress: (b) => progress.push(b),
    });
    assert.equal(stored, size);
    const expected = sha256();
    // 8 MiB parts: 6 parts, reported one by one.
    const head = await admin.send(new HeadObjectCommand({ Bucket: 'backups', Key: key }));
    assert.match(head.ETag ?? '', /-6"?$/, `a multipart ETag, got ${head.ETag}`);
    assert.equal(head.ContentType, 'application/zstd');
    assert.ok(progress.length >= 6, `progress ${progress.join(',')}`);
    assert.equal(progress.at(-1), size);

    const got = await sha256Of(await bucket.getObject(key));
    assert.deepEqual(got, { hex: expected, bytes: size });
    assert.deepEqual(await bucket.list('moco/ns/c/'), [{ key, size }]);
    await bucket.delete([key]);
  });

  it('lists every page, sorted', async () => {
    const keys = Array.from({ length: 11 }, (_, i) => `page/${String(10 - i).padStart(2, '0')}.json`);
    for (const k of keys) await bucket.putObject(k, `{"k":"${k}"}`, { contentType: 'application/json' });
    await bucket.putObject('pager/not-me', 'x');
    const small = openBucket(store.target('backups'), { s3: { listPageSize: 3 } });
    try {
      // The store really paginates at that size, so the client must follow the continuation tokens.
      const first = await admin.send(new ListObjectsV2Command({ Bucket: 'backups', Prefix: 'page/', MaxKeys: 3 }));
      assert.equal(first.IsTruncated, true);
      const listed = await small.list('page/');
      assert.deepEqual(listed.map((o) => o.key), [...keys].sort());
      assert.ok(listed.every((o) => o.size > 0));
    } finally {
      small.close();
    }
    // DeleteObjects (with its Content-MD5) removes them all; a missing key is not an error.
    await bucket.delete([...keys, 'page/never-existed', 'pager/not-me']);
    assert.deepEqual(await bucket.list('page'), []);
  });

  it('reads small objects as text; a missing one is undefined', async () => {
    await bucket.putObject('text/manifest.json', '{"ok":true}');
    assert.equal(await bucket.readText('text/manifest.json'), '{"ok":true}');
    assert.equal(await bucket.readText('text/missing.json'), undefined);
    await assert.rejects(bucket.getObject('text/missing.json'), (err: unknown) => hasCode(err, 'NOT_FOUND'));
    await bucket.delete(['text/manifest.json']);
  });

  it('says which bucket is missing', async () => {
    const missing = openBucket(store.target('no-such-bucket'));
    try {
      for (const call of [() => missing.check(), () => missing.list(''), () => missing.readText('k')]) {
        await assert.rejects(call(), (err: unknown) => {
          assert.ok(hasCode(err, 'NOT_FOUND'), String(err));
          assert.equal(err.message,
            `bucket no-such-bucket does not exist at ${store.endpoint}; create it or fix bucketConfig.bucketName`);
          return true;
        });
      }
    } finally {
      missing.close();
    }
  });

  it('says the credentials were rejected, without repeating them', async () => {
    const wrong = openBucket({ ...store.target('backups'), credentials: { accessKeyId: 'test:tester', secretAccessKey: 'not-the-secret' } });
    try {
      for (const call of [() => wrong.check(), () => wrong.list(''), () => wrong.putObject('k', 'x')]) {
        await assert.rejects(call(), (err: unknown) => {
          assert.ok(hasCode(err, 'PERMISSION_DENIED'), String(err));
          assert.match(err.message, new RegExp(`^the store at ${store.endpoint} rejected the credentials`));
          assert.match(err.message, /AWS_ACCESS_KEY_ID\/AWS_SECRET_ACCESS_KEY in jobConfig\.env/);
          assert.ok(!err.message.includes('not-the-secret'));
          return true;
        });
      }
    } finally {
      wrong.close();
    }
  });

  it('says it cannot reach an endpoint where nothing listens', async () => {
    const endpoint = `http://127.0.0.1:${await freePort()}`;
    const nowhere = openBucket({ ...store.target('backups'), endpointURL: endpoint }, { s3: { maxAttempts: 2 } });
    try {
      await assert.rejects(nowhere.check(), (err: unknown) => {
        assert.ok(hasCode(err, 'INTERNAL'), String(err));
        assert.ok(err.retryable);
        assert.match(err.message, new RegExp(`^cannot reach the object store at ${endpoint}: .*ECONNREFUSED`));
        return true;
      });
    } finally {
      nowhere.close();
    }
  });

  it('trusts an extra CA given as PEM, and says what to set without it', async () => {
    const front = await tlsFront();
    const target = { ...store.target('backups'), endpointURL: front.endpoint };
    const trusting = openBucket({ ...target, caCertPem: front.caPem });
    const plain = openBucket(target, { s3: { maxAttempts: 2 } });
    try {
      await trusting.check();
      await trusting.putObject('tls/hello.txt', 'over TLS');
      assert.equal(await trusting.readText('tls/hello.txt'), 'over TLS');
      await trusting.delete(['tls/hello.txt']);
      await assert.rejects(plain.check(), (err: unknown) => {
        assert.ok(hasCode(err, 'INTERNAL'), String(err));
        assert.equal(err.retryable, false);
        assert.match(err.message, new RegExp(`^the TLS certificate of the object store at ${front.endpoint} is not trusted`));
        assert.match(err.message, /bucketConfig\.caCert/);
        return true;
      });
    } finally {
      trusting.close();
      plain.close();
      await front.close();
    }
  });

  it('fails an upload whose body fails midway, leaving no object and no parts', async () => {
    let sent = 0;
    const body = new Readable({
      read() {
        if (sent >= 20 * MiB) {
          this.destroy(new MocoError('FAILED_PRECONDITION', 'the backup tool exited with status 1'));
          return;
        }
        sent += MiB;
        this.push(randomBytes(MiB));
      },
    });
    await assert.rejects(bucket.upload('bodyfail/dump.tar', body, { expectedSize: 100 * MiB }), (err: unknown) => {
      assert.ok(hasCode(err, 'FAILED_PRECONDITION'), String(err));
      assert.equal(err.message, 'the backup tool exited with status 1');
      return true;
    });
    assert.deepEqual(await bucket.list('bodyfail/'), []);
    assert.equal(await incompleteUploads('bodyfail/'), 0);
  });

  it('cancels an upload midway and leaves no object and no parts', async () => {
    const body = new PassThrough({ highWaterMark: MiB });
    const feeder = feedForever(body);
    const ac = new AbortController();
    const key = 'abort/dump.tar';
    const upload = bucket.upload(key, body, {
      signal: ac.signal, expectedSize: 200 * MiB,
      onProgress: (bytes) => { if (bytes >= 8 * MiB) ac.abort(); },
    });
    await assert.rejects(upload, (err: unknown) => {
      assert.ok(hasCode(err, 'CANCELLED'), String(err));
      return true;
    });
    feeder.stop();
    assert.ok(body.destroyed);
    assert.deepEqual(await bucket.list('abort/'), []);
    assert.equal(await bucket.readText(key), undefined);
    assert.equal(await incompleteUploads('abort/'), 0, 'the multipart upload was aborted');
  });

  it('fails an upload whose store dies midway; after a restart the key is absent and a new upload works', async (t) => {
    const body = new PassThrough({ highWaterMark: MiB });
    const feeder = feedForever(body);
    const key = 'crash/dump.tar';
    let killed: Promise<void> | undefined;
    const started = Date.now();
    const upload = bucket.upload(key, body, {
      expectedSize: 200 * MiB,
      onProgress: (bytes) => { if (bytes >= 8 * MiB) killed ??= store.stopProxy(); },
    });
    let failure: unknown;
    await assert.rejects(upload, (err: unknown) => {
      failure = err;
      return err instanceof MocoError;
    });
    feeder.stop();
    await killed;
    assert.ok(killed, 'the proxy was killed during the upload');
    assert.ok(hasCode(failure, 'INTERNAL'), String(failure));
    t.diagnostic(failure.message);
    assert.ok(failure.retryable);
    assert.match(failure.message, new RegExp(`cannot reach the object store at ${store.endpoint}`));
    // The store was down, so the multipart upload could not be aborted: the message says so.
    assert.match(failure.message, /aborting the multipart upload .* failed/);
    assert.ok(Date.now() - started < 30_000, 'retries are bounded');

    await store.startProxy();
    assert.deepEqual(await bucket.list('crash/'), []);
    // Its parts are kept by the store (never visible under the key) until a lifecycle rule removes them.
    assert.equal(await incompleteUploads('crash/'), 1);
    assert.equal(await bucket.readText(key), undefined);

    const again = randomBody(20 * MiB);
    assert.equal(await bucket.upload(key, again.body, { expectedSize: 20 * MiB }), 20 * MiB);
    const expected = again.sha256();
    assert.equal((await sha256Of(await bucket.getObject(key))).hex, expected);
    assert.deepEqual(await bucket.list('crash/'), [{ key, size: 20 * MiB }]);
  });
});
