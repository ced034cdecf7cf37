/**
 * BackupPolicy objects and `MySQLCluster.spec.restore` (moco.cybozu.com/v1beta2): the CRD rules, and the
 * normalized form backups and restores run from (defaults applied, the job environment resolved from the Secrets
 * and ConfigMaps an {@link EnvSources} holds, `$(VAR)` expanded in the bucket settings).
 */
import { Checker, given, isObj, ManifestError, type Obj, words } from './checker.ts';
import { parseSchedule } from './cron.ts';
import { EnvSources, expandVars, resolveEnv } from './env.ts';
import type { BackendTypeName, BackupPolicySpec, BucketConfigSpec, JobConfigSpec, RestoreSpec } from './spec.ts';
import { isoSeconds, parseRfc3339 } from './time.ts';

export { EnvSources, expandVars, resolveEnv } from './env.ts';

/** The apiVersion of BackupPolicy (and MySQLCluster) documents. */
export const API_VERSION = 'moco.cybozu.com/v1beta2';
const POLICY_FIELDS = words(`schedule timeZone jobConfig startingDeadlineSeconds concurrencyPolicy
  activeDeadlineSeconds backoffLimit successfulJobsHistoryLimit failedJobsHistoryLimit`);
const METADATA_FIELDS = words(`name namespace labels annotations generateName uid resourceVersion generation
  creationTimestamp deletionTimestamp deletionGracePeriodSeconds ownerReferences finalizers managedFields selfLink`);
const RESTORE_FIELDS = words('sourceName sourceNamespace restorePoint jobConfig schema users');
const JOB_FIELDS = words(`serviceAccountName bucketConfig workVolume threads cpu maxCpu memory maxMemory envFrom env
  affinity volumes volumeMounts`);
const BUCKET_FIELDS = words('bucketName region endpointURL usePathStyle backendType caCert');
const BACKENDS = ['s3', 'file', 'gcs', 'azure'];
const INT64 = Number.MAX_SAFE_INTEGER;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

/**
 * Validates a BackupPolicy document (already known to be kind BackupPolicy) into `c`; `sources` resolves its
 * Secret and ConfigMap references. Returns undefined when a required part is missing (the problems say which).
 */
export function checkBackupPolicy(c: Checker, doc: Obj, sources: EnvSources): BackupPolicySpec | undefined {
  const meta = c.obj(doc.metadata, 'BackupPolicy metadata', true) ?? {};
  const name = c.str(meta.name, 'BackupPolicy metadata.name', true);
  const at = name ? `BackupPolicy ${name}` : 'BackupPolicy';
  c.keys(doc, at, ['apiVersion', 'kind', 'metadata', 'spec']);
  c.keys(meta, `${at} metadata`, METADATA_FIELDS);
  c.check(name && (name.length > 253 || !DNS_SUBDOMAIN.test(name)), `${at} metadata.name`,
    `"${name}" is not a valid name; use at most 253 lower-case letters, digits, "-" and "."`);
  const spec = c.obj(doc.spec, `${at} spec`, true);
  if (!spec) return undefined;
  const p = `${at} spec`;
  c.keys(spec, p, POLICY_FIELDS);
  const schedule = c.str(spec.schedule, `${p}.schedule`, true);
  if (schedule) {
    try {
      parseSchedule(schedule);
    } catch (err) {
      c.add(`${p}.schedule`, (err as Error).message);
    }
  }
  const timeZone = c.str(spec.timeZone, `${p}.timeZone`);
  c.check(timeZone && schedule?.includes('TZ'), `${p}.schedule`,
    'cannot use both timeZone and a TZ= or CRON_TZ= prefix (Kubernetes refuses it); keep timeZone');
  const concurrency = c.oneOf(spec.concurrencyPolicy, `${p}.concurrencyPolicy`, ['Allow', 'Forbid', 'Replace']);
  const ints = {
    startingDeadlineSeconds: c.int(spec.startingDeadlineSeconds, `${p}.startingDeadlineSeconds`, 0, INT64),
    activeDeadlineSeconds: c.int(spec.activeDeadlineSeconds, `${p}.activeDeadlineSeconds`, 0, INT64),
    backoffLimit: c.int(spec.backoffLimit, `${p}.backoffLimit`, 0),
    successfulJobsHistoryLimit: c.int(spec.successfulJobsHistoryLimit, `${p}.successfulJobsHistoryLimit`, 0),
    failedJobsHistoryLimit: c.int(spec.failedJobsHistoryLimit, `${p}.failedJobsHistoryLimit`, 0),
  };
  const job = c.obj(spec.jobConfig, `${p}.jobConfig`, true);
  const jobConfig = job && checkJobConfig(c, job, `${p}.jobConfig`, sources);
  if (!name || !schedule || !jobConfig) return undefined;
  const result: BackupPolicySpec = {
    name,
    schedule,
    concurrencyPolicy: (concurrency ?? 'Allow') as BackupPolicySpec['concurrencyPolicy'],
    jobConfig,
  };
  if (timeZone) result.timeZone = timeZone;
  for (const [key, v] of Object.entries(ints)) if (v !== undefined) result[key as keyof typeof ints] = v;
  return result;
}

/**
 * Validates `spec.restore` (at path "spec.restore") into `c`. `schema` and `users` are refused for now: a
 * backup is a physical copy of the whole instance.
 */
export function checkRestore(c: Checker, restore: Obj, sources: EnvSources): RestoreSpec | undefined {
  const at = 'spec.restore';
  c.keys(restore, at, RESTORE_FIELDS);
  const sourceName = c.str(restore.sourceName, `${at}.sourceName`, true);
  const sourceNamespace = c.str(restore.sourceNamespace, `${at}.sourceNamespace`, true);
  const point = c.str(restore.restorePoint, `${at}.restorePoint`, true);
  const restorePoint = point === undefined ? undefined : normalizeRestorePoint(point);
  c.check(point && !restorePoint, `${at}.restorePoint`,
    `"${point}" is not an RFC 3339 time; use for example "2021-05-26T12:34:56Z"`);
  // MOCO passes an empty schema/users as "everything", so "" is accepted as absent.
  const schema = restore.schema === '' ? undefined : c.str(restore.schema, `${at}.schema`);
  const users = restore.users === '' ? undefined : c.str(restore.users, `${at}.users`);
  c.check(schema, `${at}.schema`, 'restoring one schema is not supported yet (backups are physical copies of the ' +
    'whole instance); remove it to restore everything');
  c.check(users, `${at}.users`, 'restoring selected users is not supported yet (backups are physical copies of ' +
    'the whole instance); remove it to restore every user');
  const job = c.obj(restore.jobConfig, `${at}.jobConfig`, true);
  const jobConfig = job && checkJobConfig(c, job, `${at}.jobConfig`, sources);
  if (!sourceName || !sourceNamespace || !restorePoint || !jobConfig) return undefined;
  const result: RestoreSpec = { sourceName, sourceNamespace, restorePoint, jobConfig };
  if (schema) result.schema = schema;
  if (users) result.users = users;
  return result;
}

/** Validates a `jobConfig` at `at`, resolves its environment and expands `$(VAR)` in its bucket settings. */
export function checkJobConfig(c: Checker, job: Obj, at: string, sources: EnvSources): JobConfigSpec | undefined {
  c.keys(job, at, JOB_FIELDS);
  const serviceAccountName = c.str(job.serviceAccountName, `${at}.serviceAccountName`, true);
  if (c.required(job.workVolume, `${at}.workVolume`, 'add one such as "workVolume: {emptyDir: {}}"')) {
    c.obj(job.workVolume, `${at}.workVolume`);
  }
  const threads = c.int(job.threads, `${at}.threads`, 1) ?? 4;
  for (const key of ['cpu', 'maxCpu', 'memory', 'maxMemory']) c.quantity(job[key], `${at}.${key}`);
  c.obj(job.affinity, `${at}.affinity`);
  for (const key of ['volumes', 'volumeMounts']) c.list(job[key], `${at}.${key}`);
  const env = resolveEnv(c, job, at, sources);
  const bucket = c.obj(job.bucketConfig, `${at}.bucketConfig`, true);
  const bucketConfig = bucket && checkBucket(c, bucket, `${at}.bucketConfig`, env, sources.resolving);
  if (!bucketConfig) return undefined;
  const result: JobConfigSpec = { threads, bucketConfig, env };
  if (serviceAccountName) result.serviceAccountName = serviceAccountName;
  return result;
}

function checkBucket(c: Checker, bucket: Obj, at: string, env: Record<string, string>, resolving: boolean) {
  c.keys(bucket, at, BUCKET_FIELDS);
  const backendType = (c.str(bucket.backendType, `${at}.backendType`) ?? 's3') as BackendTypeName;
  c.check(!BACKENDS.includes(backendType), `${at}.backendType`,
    `"${backendType}" is not supported; use s3 (any S3-compatible store) or file`);
  c.check(backendType === 'gcs' || backendType === 'azure', `${at}.backendType`,
    `backendType ${backendType} is not supported by this version; use s3 (any S3-compatible store) or file`);
  const usePathStyle = c.bool(bucket.usePathStyle, `${at}.usePathStyle`) ?? false;
  // Kubernetes expands $(VAR) in container args, and MOCO passes every bucket setting as an argument.
  const expand = (key: string, required = false): string | undefined => {
    const raw = c.str(bucket[key], `${at}.${key}`, required);
    if (raw === undefined) return undefined;
    const { text, missing } = expandVars(raw, (n) => env[n]);
    // Where the environment is not known (a webhook), $(VAR) is expanded by the job that runs.
    for (const name of resolving ? missing : []) {
      c.add(`${at}.${key}`, `$(${name}) is not defined; define ${name} in jobConfig.env or jobConfig.envFrom, ` +
        `or write the ${key === 'bucketName' ? 'bucket name' : 'value'} itself`);
    }
    return text;
  };
  const bucketName = expand('bucketName', true);
  const region = expand('region');
  const endpointURL = expand('endpointURL');
  const caCert = expand('caCert');
  const url = typeof bucket.endpointURL === 'string' ? bucket.endpointURL : undefined;
  c.check(url && !/^https?:\/\//.test(url), `${at}.endpointURL`, `"${url}" must start with http:// or https://`);
  if (bucketName === undefined) return undefined;
  const result: BucketConfigSpec = { bucketName, usePathStyle, backendType };
  if (region) result.region = region;
  if (endpointURL) result.endpointURL = endpointURL;
  if (caCert) result.caCert = caCert;
  return result;
}

/**
 * An RFC 3339 time as UTC with whole seconds ("2021-05-26T21:34:56.7+09:00" → "2021-05-26T12:34:56Z"), or
 * undefined when it is not one (fields are range-checked as Go's time.Parse does: no Feb 30, no 24:00).
 */
export function normalizeRestorePoint(text: string): string | undefined {
  const d = parseRfc3339(text);
  return d && isoSeconds(d);
}

/**
 * Validates one BackupPolicy on its own; `documents` are the Secrets and ConfigMaps it refers to.
 * @throws ManifestError listing every problem.
 */
export function parseBackupPolicy(doc: unknown, documents: readonly Obj[] = []): BackupPolicySpec {
  const c = new Checker();
  const policy = isObj(doc) ? doc : {};
  c.check(!isObj(doc), 'BackupPolicy', 'expected a mapping (a BackupPolicy document)');
  c.check(given(policy.kind) && policy.kind !== 'BackupPolicy', 'BackupPolicy kind', `${JSON.stringify(policy.kind)}` +
    ' is not BackupPolicy; use kind: BackupPolicy');
  c.check(policy.apiVersion !== API_VERSION, 'BackupPolicy apiVersion',
    `${JSON.stringify(policy.apiVersion ?? null)} is not supported; use apiVersion: ${API_VERSION}`);
  const spec = checkBackupPolicy(c, policy, new EnvSources(c, documents));
  if (c.problems.length > 0 || !spec) throw new ManifestError(c.problems);
  return spec;
}

/** The validating webhook for BackupPolicy: every problem of `raw` (references to Secrets are not looked up). */
export function validateBackupPolicy(raw: unknown): string[] {
  const c = new Checker();
  if (!isObj(raw)) return ['expected a BackupPolicy object'];
  checkBackupPolicy(c, raw, EnvSources.unresolved(c));
  return c.problems;
}

/**
 * What must not change in spec.restore: everything but the resolved environment, so that rotating the credentials
 * in a referenced Secret is not refused (Kubernetes compares the written spec, which a Secret change leaves alone).
 */
export function restoreIdentity(restore: RestoreSpec | undefined) {
  return restore && { ...restore, jobConfig: { ...restore.jobConfig, env: undefined } };
}
