/**
 * The S3 {@link BucketClient}: AWS S3 or any S3-compatible store (Swift's s3api, MinIO, Ceph), through the AWS
 * SDK v3. Checksums are only sent where the API requires them (`WHEN_REQUIRED`), because many S3-compatible
 * stores reject the SDK's default aws-chunked trailers (Swift answers 501), and DeleteObjects carries a
 * Content-MD5 header, which Swift requires and current SDKs no longer send.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { rootCertificates } from 'node:tls';
import type { Readable } from 'node:stream';
import {
  DeleteObjectsCommand, GetObjectCommand, HeadBucketCommand, ListObjectsV2Command, PutObjectCommand, S3Client,
} from '@aws-sdk/client-s3';
import { invalidArgument, MocoError } from '../../shared/errors.ts';
import type { BucketClient, BucketTarget, ObjectInfo, UploadOptions } from './types.ts';
import { partSizeFor } from './part-size.ts';
import { isNoSuchKey, mapS3Error } from './s3-errors.ts';
import { streamUpload } from './s3-upload.ts';

/** Tuning for {@link S3Bucket}; the defaults suit production. */
export interface S3BucketOptions {
  /** Attempts per request, including the first (SDK retries with exponential backoff). Default 5. */
  maxAttempts?: number;
  /** The SDK's retry mode. Default `standard`. */
  retryMode?: 'standard' | 'adaptive';
  /** Parts uploaded concurrently, each buffered in memory. Default 3 (2–4 is sensible). */
  queueSize?: number;
  /** Overrides the part size chosen by {@link partSizeFor} (bytes, at least 5 MiB). */
  partSize?: number;
  /** Keys per ListObjectsV2 page (the store's maximum is 1000). Default: the store's default. */
  listPageSize?: number;
  /** How long to wait for a TCP connection, in ms. Default 10 000. */
  connectTimeoutMs?: number;
  /** How long a connection may stay silent during a request, in ms. Default 120 000. */
  socketTimeoutMs?: number;
}

/** Keys per DeleteObjects request (S3's maximum). */
const DELETE_BATCH = 1000;

// The SDK's versions are pinned (package.json), so its notice that later versions will need Node 22 only adds
// noise to every CLI run; a user who sets the variable keeps their choice.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/**
 * Adds a Content-MD5 header to DeleteObjects requests. The SDK sends only a CRC32 checksum there; Swift's
 * s3api (and some other stores) answer 400 "Missing required header: Content-MD5" without it.
 */
export function addDeleteObjectsContentMd5(client: S3Client): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const request = args.request as { headers?: Record<string, string>; body?: unknown };
      if (context.commandName === 'DeleteObjectsCommand' && request.headers) {
        const body = request.body;
        if (typeof body === 'string' || body instanceof Uint8Array) {
          request.headers['content-md5'] = createHash('md5').update(body).digest('base64');
        }
      }
      return next(args);
    },
    { step: 'build', name: 'mocoDeleteObjectsContentMd5', override: true },
  );
}

/** A bucket on an S3-compatible store. Construction does no I/O; {@link S3Bucket.check} does. */
export class S3Bucket implements BucketClient {
  /** The endpoint named in messages: the configured one, else AWS's regional endpoint. */
  readonly endpoint: string;
  readonly bucket: string;
  private readonly client: S3Client;
  private readonly options: S3BucketOptions;

  /** Throws INVALID_ARGUMENT for an empty bucket name, a malformed endpoint URL or a CA that is not PEM. */
  constructor(target: BucketTarget, options: S3BucketOptions = {}) {
    if (!target.bucket) throw invalidArgument('bucketConfig.bucketName is empty; set it to the bucket to use');
    if (target.endpointURL && !/^https?:\/\/[^/]/.test(target.endpointURL)) {
      throw invalidArgument(`bucketConfig.endpointURL ${target.endpointURL} must start with http:// or https://`);
    }
    const region = target.region || 'us-east-1';
    this.bucket = target.bucket;
    this.endpoint = target.endpointURL || `https://s3.${region}.amazonaws.com`;
    this.options = options;
    const ca = target.caCertPem ? [...rootCertificates, checkedPem(target.caCertPem)] : undefined;
    this.client = new S3Client({
      region,
      endpoint: target.endpointURL || undefined,
      forcePathStyle: target.usePathStyle ?? false,
      credentials: target.credentials
        ? {
          accessKeyId: target.credentials.accessKeyId,
          secretAccessKey: target.credentials.secretAccessKey,
          sessionToken: target.credentials.sessionToken,
        }
        : undefined,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      maxAttempts: options.maxAttempts ?? 5,
      retryMode: options.retryMode ?? 'standard',
      requestHandler: {
        connectionTimeout: options.connectTimeoutMs ?? 10_000,
        socketTimeout: options.socketTimeoutMs ?? 120_000,
        ...(ca ? { httpsAgent: { keepAlive: true, maxSockets: 50, ca } } : {}),
      },
    });
    addDeleteObjectsContentMd5(this.client);
  }

  describe(): string {
    return `s3://${this.bucket} at ${this.endpoint}`;
  }

  async check(signal?: AbortSignal): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }), { abortSignal: signal });
    } catch (err) {
      throw this.mapError(err, 'check');
    }
  }

  async upload(key: string, body: Readable, options: UploadOptions = {}): Promise<number> {
    try {
      checkKey(key);
    } catch (err) {
      body.destroy();
      throw err;
    }
    return streamUpload({
      client: this.client,
      bucket: this.bucket,
      key,
      body,
      partSize: this.options.partSize ?? partSizeFor(options.expectedSize),
      queueSize: this.options.queueSize ?? 3,
      contentType: options.contentType,
      signal: options.signal,
      onProgress: options.onProgress,
      endpoint: this.endpoint,
    });
  }

  async putObject(key: string, data: Buffer | string, options: { contentType?: string; signal?: AbortSignal } = {}): Promise<void> {
    checkKey(key);
    try {
      await this.client.send(
        new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: data, ContentType: options.contentType }),
        { abortSignal: options.signal },
      );
    } catch (err) {
      throw this.mapError(err, 'put', key);
    }
  }

  async getObject(key: string, signal?: AbortSignal): Promise<Readable> {
    checkKey(key);
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }), { abortSignal: signal });
      // In Node the SDK's body is an http.IncomingMessage (a Readable) with helper methods mixed in.
      return out.Body as Readable;
    } catch (err) {
      if (isNoSuchKey(err) && !isBucketMissing(err)) {
        throw new MocoError('NOT_FOUND', `object ${key} does not exist in ${this.describe()}`, {
          cause: err, details: { bucket: this.bucket, key },
        });
      }
      throw this.mapError(err, 'get', key);
    }
  }

  async readText(key: string, signal?: AbortSignal): Promise<string | undefined> {
    checkKey(key);
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }), { abortSignal: signal });
      return await out.Body?.transformToString('utf8') ?? '';
    } catch (err) {
      if (isNoSuchKey(err) && !isBucketMissing(err)) return undefined;
      throw this.mapError(err, 'read', key);
    }
  }

  async list(prefix: string, signal?: AbortSignal): Promise<ObjectInfo[]> {
    const objects: ObjectInfo[] = [];
    let token: string | undefined;
    try {
      do {
        const page = await this.client.send(
          new ListObjectsV2Command({
            Bucket: this.bucket, Prefix: prefix || undefined, ContinuationToken: token, MaxKeys: this.options.listPageSize,
          }),
          { abortSignal: signal },
        );
        for (const o of page.Contents ?? []) {
          if (o.Key !== undefined) objects.push({ key: o.Key, size: o.Size ?? 0 });
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
    } catch (err) {
      throw this.mapError(err, 'list');
    }
    return objects.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async delete(keys: string[], signal?: AbortSignal): Promise<void> {
    for (let i = 0; i < keys.length; i += DELETE_BATCH) {
      const batch = keys.slice(i, i + DELETE_BATCH);
      let out;
      try {
        out = await this.client.send(
          new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } }),
          { abortSignal: signal },
        );
      } catch (err) {
        throw this.mapError(err, 'delete');
      }
      const failed = (out.Errors ?? []).filter((e) => e.Code !== 'NoSuchKey');
      if (failed.length > 0) {
        const first = failed[0];
        const code = first?.Code === 'AccessDenied' ? 'PERMISSION_DENIED' : 'INTERNAL';
        throw new MocoError(
          code,
          `deleting ${failed.length} object(s) from ${this.describe()} failed; the first, ${first?.Key}: ` +
            `${first?.Code} ${first?.Message ?? ''}`.trimEnd(),
          { details: { bucket: this.bucket, failed: failed.map((e) => ({ key: e.Key, code: e.Code })) } },
        );
      }
    }
  }

  close(): void {
    this.client.destroy();
  }

  private mapError(err: unknown, operation: string, key?: string): MocoError {
    return mapS3Error(err, { bucket: this.bucket, endpoint: this.endpoint, operation, key });
  }
}

function isBucketMissing(err: unknown): boolean {
  return (err as { name?: string } | undefined)?.name === 'NoSuchBucket';
}

/** Keys are passed to the store as they are; only the empty key is refused here. */
function checkKey(key: string): void {
  if (!key) throw invalidArgument('an object key must not be empty');
}

function checkedPem(pem: string): string {
  try {
    new X509Certificate(pem);
  } catch (err) {
    throw invalidArgument('bucketConfig.caCert is not a PEM certificate; give the CA bundle in PEM form', { cause: err });
  }
  return pem;
}
