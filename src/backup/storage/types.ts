/**
 * Where backups live: an S3-compatible bucket or a local directory (`backendType: file`). The backup and
 * restore code only sees {@link BucketClient}; the credentials travel inside each request (never in a
 * process environment), so one agent can write to several stores.
 */
import type { Readable } from 'node:stream';

export type BackendType = 's3' | 'file';

/** A resolved `bucketConfig` (plus the credentials from `jobConfig.env`/`envFrom`). */
export interface BucketTarget {
  backendType: BackendType;
  /** S3: the bucket name. file: an absolute directory. */
  bucket: string;
  /** S3 region; default us-east-1. */
  region?: string;
  /** S3 custom endpoint (http:// or https://). */
  endpointURL?: string;
  /** S3 path-style addressing (most S3-compatible stores need it). */
  usePathStyle?: boolean;
  /** An extra PEM CA bundle trusted for the endpoint (S3 only), appended to the system roots. */
  caCertPem?: string;
  /** S3 credentials; when absent the SDK's default chain is used (on Kubernetes: the Pod's identity). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

export interface ObjectInfo {
  key: string;
  size: number;
}

export interface UploadOptions {
  contentType?: string;
  /** Expected size, when known: picks a part size that keeps the part count well under the store's limit. */
  expectedSize?: number;
  signal?: AbortSignal;
  /** Called with the bytes uploaded so far. */
  onProgress?: (bytes: number) => void;
}

export interface BucketClient {
  /** For messages: "s3://bucket at http://127.0.0.1:8089" or "directory /var/backups". */
  describe(): string;
  /**
   * Checks that the bucket exists and the credentials work. Throws a MocoError whose message says which:
   * NOT_FOUND when the bucket (or directory) is missing, PERMISSION_DENIED when the credentials are rejected,
   * INTERNAL with "cannot reach ..." (retryable) when the store does not answer.
   */
  check(signal?: AbortSignal): Promise<void>;
  /**
   * Streams `body` to `key` (multipart for S3). The object exists only once the whole body is stored: a
   * failed or cancelled upload leaves no object under `key` (S3: the multipart upload is aborted; file: a
   * temporary name is removed). Resolves with the bytes stored.
   */
  upload(key: string, body: Readable, options?: UploadOptions): Promise<number>;
  /** Stores a small object in one request (manifests). */
  putObject(key: string, data: Buffer | string, options?: { contentType?: string; signal?: AbortSignal }): Promise<void>;
  /** Streams an object; NOT_FOUND when absent. */
  getObject(key: string, signal?: AbortSignal): Promise<Readable>;
  /** Reads a small object as text; undefined when absent. */
  readText(key: string, signal?: AbortSignal): Promise<string | undefined>;
  /** Every object whose key starts with `prefix` (all pages), sorted by key. */
  list(prefix: string, signal?: AbortSignal): Promise<ObjectInfo[]>;
  /** Deletes objects (missing ones are not an error). */
  delete(keys: string[], signal?: AbortSignal): Promise<void>;
  /** Releases connections. */
  close(): void;
}
