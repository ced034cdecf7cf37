/** The bucket of a Backup or Restore request, validated. */
import path from 'node:path';
import { invalidArgument } from '../../shared/errors.ts';
import type { BucketConfig__Output } from '../../generated/moco/agent/v1/BucketConfig.ts';
import type { BucketTarget } from '../../backup/storage/types.ts';
import { parseKeyTime } from '../../backup/layout.ts';

export function bucketTarget(b: BucketConfig__Output | null): BucketTarget {
  if (!b || b.bucket.trim() === '') throw invalidArgument('bucket.bucket is empty; name the bucket (or, for backend_type "file", a directory)');
  const type = b.backendType || 's3';
  if (type !== 's3' && type !== 'file') throw invalidArgument(`bucket.backend_type "${type}" is not supported; use "s3" or "file"`);
  if (type === 'file' && !path.isAbsolute(b.bucket)) throw invalidArgument(`bucket directory "${b.bucket}" must be an absolute path`);
  if (b.accessKeyId !== '' && b.secretAccessKey === '') throw invalidArgument('bucket.access_key_id is set but bucket.secret_access_key is empty');
  return {
    backendType: type,
    bucket: b.bucket,
    region: b.region || undefined,
    endpointURL: b.endpointUrl || undefined,
    usePathStyle: b.usePathStyle,
    caCertPem: b.caCertPem || undefined,
    credentials: b.accessKeyId !== ''
      ? { accessKeyId: b.accessKeyId, secretAccessKey: b.secretAccessKey, sessionToken: b.sessionToken || undefined }
      : undefined,
  };
}

/** Checks a `moco/<ns>/<name>/` prefix and a `YYYYMMDD-hhmmss` directory. */
export function checkLocation(prefix: string, time: string, what = 'time'): void {
  if (!/^[^/].*\/$/.test(prefix) || prefix.includes('..')) throw invalidArgument(`prefix "${prefix}" must be a relative key prefix ending in "/"`);
  if (!parseKeyTime(time)) throw invalidArgument(`${what} "${time}" is not a backup directory name (YYYYMMDD-hhmmss, UTC)`);
}
