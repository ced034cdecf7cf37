/**
 * One streamed upload through lib-storage's `Upload` (multipart; a single PutObject for a body smaller than one
 * part), with the guarantees {@link BucketClient.upload} promises: it resolves only once the object is complete,
 * and a failed or cancelled upload leaves no object under the key.
 *
 * Why not `Upload.abort()`: it makes `done()` reject at once, while the parts in flight keep uploading and the
 * AbortMultipartUpload request is sent later in the background, so a caller could see the rejection before
 * the store has dropped the parts. Instead every request lib-storage sends carries our own abort signal: a
 * cancellation (or the first failure) aborts the requests in flight and stops reading the body; lib-storage
 * then sends AbortMultipartUpload (leavePartsOnError false) and only after that does `done()` reject.
 */
import { Transform, pipeline, type Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateMultipartUploadCommand, DeleteObjectCommand,
  PutObjectCommand, type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { MocoError, messageOf } from '../../shared/errors.ts';
import { mapS3Error, type S3ErrorContext } from './s3-errors.ts';

/** Everything one upload needs. */
export interface StreamUploadParams {
  client: S3Client;
  bucket: string;
  key: string;
  body: Readable;
  /** Bytes per part (at least 5 MiB). */
  partSize: number;
  /** Parts uploaded concurrently (each buffered in memory). */
  queueSize: number;
  contentType?: string;
  signal?: AbortSignal;
  onProgress?: (bytes: number) => void;
  /** For error messages. */
  endpoint: string;
}

/** How long AbortMultipartUpload (and the clean-up delete) may take in all: it runs after a failure. */
const CLEANUP_TIMEOUT_MS = 30_000;

/** How long a CreateMultipartUpload in flight may still finish after a cancellation or failure. */
const CREATE_GRACE_MS = 10_000;

function abortError(): Error {
  return Object.assign(new Error('upload cancelled'), { name: 'AbortError' });
}

/**
 * Streams `params.body` to the key; resolves with the number of bytes read from the body. Rejects with a
 * MocoError: CANCELLED when `signal` fired, the body's own error (wrapped unless it is a MocoError) when the
 * body failed, else the mapped store error. The body is destroyed on failure.
 */
export async function streamUpload(params: StreamUploadParams): Promise<number> {
  const { client, bucket, key, body, signal } = params;
  const ctx: S3ErrorContext = { bucket, key, endpoint: params.endpoint, operation: 'upload' };
  if (signal?.aborted) {
    body.destroy();
    throw new MocoError('CANCELLED', `upload of s3://${bucket}/${key} was cancelled before it started`, {
      details: { bucket, key },
    });
  }

  const stop = new AbortController();
  let firstError: { err: unknown; from: 'body' | 'store' | 'cancel' } | undefined;
  let bytes = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      bytes += chunk.length;
      callback(null, chunk);
    },
  });
  const fail = (err: unknown, from: 'body' | 'store' | 'cancel'): void => {
    firstError ??= { err, from };
    if (!stop.signal.aborted) stop.abort(err);
    // Unblocks lib-storage's part reader (it may wait for a body that sends nothing more).
    if (!counter.destroyed) counter.destroy(from === 'body' ? (err as Error) : abortError());
  };
  // Registered before pipeline's listeners, so the body's own error is the one recorded and reported.
  body.once('error', (err) => fail(err, 'body'));
  pipeline(body, counter, (err) => {
    if (err) fail(err, 'body');
  });
  const onCancel = (): void => fail(abortError(), 'cancel');
  signal?.addEventListener('abort', onCancel, { once: true });

  // CreateMultipartUpload is cut short only after a grace period: cutting it at once could leave an upload the
  // store created but whose id we never learnt, so nobody could abort it.
  const late = new AbortController();
  stop.signal.addEventListener('abort', () => setTimeout(() => late.abort(), CREATE_GRACE_MS).unref(), { once: true });
  let commitFailed = false;
  let abortMpuError: unknown;
  // lib-storage reads `config` from the client and calls `send`; every call goes through here.
  const sender = Object.create(client) as S3Client;
  const send = (command: Parameters<S3Client['send']>[0]): Promise<unknown> => {
    if (command instanceof AbortMultipartUploadCommand) {
      return client.send(command, { abortSignal: AbortSignal.timeout(CLEANUP_TIMEOUT_MS) }).catch((err: unknown) => {
        abortMpuError = err;
        throw err;
      });
    }
    if (stop.signal.aborted) return Promise.reject(abortError());
    // The requests that make the object appear (CompleteMultipartUpload, or the one PutObject of a body smaller
    // than a part) are not cancellable: once sent, the object either appears whole or not at all.
    const commits = command instanceof CompleteMultipartUploadCommand || command instanceof PutObjectCommand;
    const signal = commits ? undefined : command instanceof CreateMultipartUploadCommand ? late.signal : stop.signal;
    return client.send(command, { abortSignal: signal }).catch((err: unknown) => {
      if (commits) commitFailed = true;
      fail(err, 'store');
      throw err;
    });
  };
  (sender as unknown as { send: typeof send }).send = send;

  const upload = new Upload({
    client: sender,
    params: { Bucket: bucket, Key: key, Body: counter, ContentType: params.contentType },
    partSize: params.partSize,
    queueSize: params.queueSize,
    leavePartsOnError: false,
  });
  if (params.onProgress) {
    const onProgress = params.onProgress;
    upload.on('httpUploadProgress', (p) => {
      if (p.loaded !== undefined) onProgress(p.loaded);
    });
  }
  try {
    await upload.done();
    // Complete (which is not cancellable) succeeded: the object is whole, so a cancellation that came during it
    // is too late, and reporting it would break "rejected means no object".
    return bytes;
  } catch (err) {
    body.destroy();
    if (commitFailed) await deleteQuietly(client, bucket, key);
    throw describeFailure(firstError ?? { err, from: 'store' }, ctx, upload.uploadId, abortMpuError);
  } finally {
    signal?.removeEventListener('abort', onCancel);
  }
}

/**
 * The request that commits the object failed (for example the connection broke after the store had assembled
 * it): the object may exist although the upload failed, so remove it to keep "no object after a failure".
 */
async function deleteQuietly(client: S3Client, bucket: string, key: string): Promise<void> {
  try {
    await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }), {
      abortSignal: AbortSignal.timeout(CLEANUP_TIMEOUT_MS),
    });
  } catch {
    // The store is unreachable; the upload's own error says so.
  }
}

function describeFailure(
  first: { err: unknown; from: 'body' | 'store' | 'cancel' },
  ctx: S3ErrorContext,
  uploadId: string | undefined,
  abortMpuError: unknown,
): MocoError {
  let error: MocoError;
  if (first.from === 'cancel') {
    error = new MocoError('CANCELLED', `upload of s3://${ctx.bucket}/${ctx.key} was cancelled`, {
      details: { bucket: ctx.bucket, key: ctx.key },
    });
  } else if (first.from === 'body') {
    error = first.err instanceof MocoError
      ? first.err
      : new MocoError('INTERNAL', `reading the data for s3://${ctx.bucket}/${ctx.key} failed: ${messageOf(first.err)}`, {
        cause: first.err, details: { bucket: ctx.bucket, key: ctx.key },
      });
  } else {
    error = mapS3Error(first.err, ctx);
  }
  if (abortMpuError !== undefined && uploadId !== undefined && !(error.details && 'incompleteUploadId' in error.details)) {
    // The parts stay in the store (never visible under the key) until a lifecycle rule or a later abort removes them.
    return new MocoError(
      error.code,
      `${error.message}; also, aborting the multipart upload ${uploadId} failed (${messageOf(abortMpuError)}), so its ` +
        'parts stay in the store until a lifecycle rule (AbortIncompleteMultipartUpload) removes them',
      { cause: error.cause, retryable: error.retryable, details: { ...error.details, incompleteUploadId: uploadId } },
    );
  }
  return error;
}
