/**
 * Object storage for backups: {@link openBucket} picks the implementation for a {@link BucketTarget}; the rest
 * of the code only sees {@link BucketClient}.
 */
import { invalidArgument } from '../../shared/errors.ts';
import { FileBucket, type FileBucketOptions } from './file.ts';
import { S3Bucket, type S3BucketOptions } from './s3.ts';
import type { BucketClient, BucketTarget } from './types.ts';

export type { BackendType, BucketClient, BucketTarget, ObjectInfo, UploadOptions } from './types.ts';
export { FileBucket, ensureDirectory, type FileBucketOptions } from './file.ts';
export { S3Bucket, type S3BucketOptions } from './s3.ts';
export { partSizeFor } from './part-size.ts';

/** Per-backend tuning for {@link openBucket}. */
export interface OpenBucketOptions {
  /** For `backendType: file`, e.g. `{ create: true }` when writing a backup. */
  file?: FileBucketOptions;
  /** For `backendType: s3`. */
  s3?: S3BucketOptions;
}

/**
 * A client for `target`: {@link FileBucket} for `backendType: file`, {@link S3Bucket} for `s3`. Does no I/O
 * (call `check()` for that). Throws INVALID_ARGUMENT for an unknown backend or an invalid target. The caller
 * owns the client and calls `close()` when done.
 */
export function openBucket(target: BucketTarget, options: OpenBucketOptions = {}): BucketClient {
  switch (target.backendType) {
    case 'file':
      return new FileBucket(target.bucket, options.file);
    case 's3':
      return new S3Bucket(target, options.s3);
    default:
      throw invalidArgument(
        `bucketConfig.backendType "${String(target.backendType)}" is not supported; use "s3" or "file"`,
      );
  }
}
