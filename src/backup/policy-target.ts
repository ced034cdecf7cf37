/**
 * Where a JobConfig's backups go, as a {@link BucketTarget} for the storage clients: the file backend's directory,
 * or an S3 bucket with its region, endpoint, CA bundle and credentials taken from the bucket settings and the job
 * environment (the way the AWS SDK reads AWS_* variables in MOCO's backup Pod).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

import { invalidArgument, messageOf } from '../shared/errors.ts';
import type { BucketTarget } from './storage/types.ts';
import type { JobConfigSpec } from '../api/spec.ts';

/** The first non-empty value (the AWS SDK treats an empty variable as unset). */
const first = (...values: (string | undefined)[]): string | undefined =>
  values.find((v) => v !== undefined && v !== '');

/**
 * The storage target of `job`. Relative file directories and caCert paths are resolved against `stateRoot`.
 * S3: region from bucketConfig.region, else AWS_REGION, else AWS_DEFAULT_REGION, else us-east-1; endpoint from
 * bucketConfig.endpointURL, else AWS_ENDPOINT_URL_S3, else AWS_ENDPOINT_URL; credentials from AWS_ACCESS_KEY_ID,
 * AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN when the first two are set (else the SDK's default chain).
 * Reads the caCert file; otherwise pure.
 * @throws MocoError INVALID_ARGUMENT for gcs/azure, only one of the two AWS keys, or an unreadable caCert.
 */
export function bucketTarget(job: JobConfigSpec, stateRoot: string): BucketTarget {
  const { bucketConfig: b, env } = job;
  if (b.backendType === 'file') return { backendType: 'file', bucket: path.resolve(stateRoot, b.bucketName) };
  if (b.backendType !== 's3') {
    throw invalidArgument(`backendType ${b.backendType} is not supported by this version; use s3 (any S3-compatible ` +
      'store) or file');
  }
  const target: BucketTarget = {
    backendType: 's3',
    bucket: b.bucketName,
    region: first(b.region, env.AWS_REGION, env.AWS_DEFAULT_REGION) ?? 'us-east-1',
    usePathStyle: b.usePathStyle,
  };
  const endpointURL = first(b.endpointURL, env.AWS_ENDPOINT_URL_S3, env.AWS_ENDPOINT_URL);
  if (endpointURL) target.endpointURL = endpointURL;
  const [accessKeyId, secretAccessKey] = [first(env.AWS_ACCESS_KEY_ID), first(env.AWS_SECRET_ACCESS_KEY)];
  if (accessKeyId && secretAccessKey) {
    target.credentials = { accessKeyId, secretAccessKey };
    const sessionToken = first(env.AWS_SESSION_TOKEN);
    if (sessionToken) target.credentials.sessionToken = sessionToken;
  } else if (accessKeyId || secretAccessKey) {
    const [has, lacks] = accessKeyId ? ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'] :
      ['AWS_SECRET_ACCESS_KEY', 'AWS_ACCESS_KEY_ID'];
    throw invalidArgument(`jobConfig.env sets ${has} but not ${lacks}; add ${lacks} (for example from a Secret ` +
      'with valueFrom.secretKeyRef), or remove both to use the default AWS credential chain');
  }
  if (b.caCert) {
    const file = path.resolve(stateRoot, b.caCert);
    try {
      target.caCertPem = readFileSync(file, 'utf8');
    } catch (err) {
      throw invalidArgument(`bucketConfig.caCert: cannot read ${file} (${messageOf(err)}); fix the path or remove ` +
        'caCert', { cause: err });
    }
  }
  return target;
}

/**
 * The embedded default for a cluster without a BackupPolicy: the file backend at `<stateRoot>/backups`, so that
 * `moco backup NAME` works with no configuration.
 */
export function defaultBackupTarget(stateRoot: string): BucketTarget {
  return { backendType: 'file', bucket: path.resolve(stateRoot, 'backups') };
}
