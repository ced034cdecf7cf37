/**
 * Moving archives between a producer (a backup tool, a tar stream) and object storage, compressed and
 * checksummed on the way, never staged on disk. The rule that keeps partial data from looking complete: the
 * upload's body ends only after the producer, the compressor and the digest all finished successfully; any
 * failure destroys the body, which aborts the upload, so no object appears under the key.
 */
import { PassThrough, type Readable, type Writable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import { MocoError } from '../shared/errors.ts';
import { compressor, decompressor, Digest } from './archive.ts';
import type { Compression, StoredObject } from './layout.ts';
import type { BucketClient } from './storage/types.ts';

export interface Producer {
  stream: Readable;
  /** Resolves when the producer finished successfully (a tool exited 0). */
  done: Promise<void>;
  /** Stops the producer after a failure elsewhere; `done` then settles. */
  stop(): void;
}

export interface UploadArchiveOptions {
  compression: Compression;
  threads?: number;
  contentType?: string;
  expectedSize?: number;
  signal: AbortSignal;
  onProgress?: (storedBytes: number) => void;
}

/** Compresses `producer` into `key`. Resolves with what was stored; no object exists when it rejects. */
export async function uploadArchive(bucket: BucketClient, key: string, producer: Producer, o: UploadArchiveOptions): Promise<StoredObject> {
  const codec = compressor(o.compression, o.threads);
  const digest = new Digest(o.onProgress);
  const body = new PassThrough({ highWaterMark: 1024 * 1024 });
  codec.output.pipe(digest).pipe(body, { end: false });
  const uploaded = bucket.upload(key, body, { signal: o.signal, contentType: o.contentType, expectedSize: o.expectedSize });
  const produced = (async () => {
    await Promise.all([pipeline(producer.stream, codec.input), producer.done, codec.done, finished(digest)]);
    if (o.signal.aborted) throw new MocoError('CANCELLED', `upload of ${key} was cancelled`);
    body.end();
  })();
  try {
    const [size] = await Promise.all([uploaded, produced]);
    return { key, size, sha256: digest.hex(), compression: o.compression };
  } catch (err) {
    // Every stage is stopped, not only the processes: a stage left holding data nobody reads would never
    // finish, and `produced` waits for all of them.
    producer.stop();
    codec.kill();
    digest.destroy();
    body.destroy(err instanceof Error ? err : new Error(String(err)));
    await Promise.allSettled([uploaded, produced]);
    throw err;
  }
}

/**
 * Streams a stored archive, decompressed, into `sink` and checks its size and sha256 against the manifest.
 * `sinkDone` resolves when whatever consumes the sink (an unpacking tool) finished successfully.
 */
export async function downloadArchive(bucket: BucketClient, obj: StoredObject, sink: Writable, sinkDone: Promise<void>,
  o: { signal: AbortSignal; onProgress?: (bytes: number) => void }): Promise<void> {
  const codec = decompressor(obj.compression);
  const digest = new Digest(o.onProgress);
  try {
    const source = await bucket.getObject(obj.key, o.signal);
    await Promise.all([
      pipeline(source, digest, codec.input, { signal: o.signal }),
      pipeline(codec.output, sink, { signal: o.signal }),
      codec.done,
      sinkDone,
    ]);
  } catch (err) {
    codec.kill();
    throw err;
  }
  const sha = digest.hex();
  if (digest.bytes !== obj.size || sha !== obj.sha256) {
    throw new MocoError('INTERNAL', `${obj.key} is damaged: ${digest.bytes} bytes with sha256 ${sha}, but its manifest says ` +
      `${obj.size} bytes with sha256 ${obj.sha256}`);
  }
}
