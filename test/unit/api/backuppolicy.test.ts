import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';

import { checkRestore, EnvSources, expandVars, normalizeRestorePoint, parseBackupPolicy as parseSpec } from '../../../src/api/backuppolicy.ts';
import { bucketTarget, defaultBackupTarget } from '../../../src/backup/policy-target.ts';
import { localNotes } from '../../../src/platform/local/notes.ts';
import { type JobConfigSpec } from '../../../src/api/spec.ts';
import { Checker, ManifestError } from '../../../src/api/checker.ts';
import { hasCode } from '../../../src/shared/errors.ts';

/** The policy as the API normalizes it, and the local notes about it. */
const parseBackupPolicy = (doc: unknown, documents: Obj[] = []) =>
  ({ spec: parseSpec(doc, documents), notApplyingLocally: localNotes(doc as Obj) });

type Obj = Record<string, unknown>;
type Policy = Obj & { spec: Obj & { jobConfig: Obj & { bucketConfig: Obj } } };

/** The seed's daily BackupPolicy (fixtures/seed-07), with `edit` applied. */
function policy(edit: (p: Policy) => void = () => {}): Policy {
  const p: Policy = {
    apiVersion: 'moco.cybozu.com/v1beta2',
    kind: 'BackupPolicy',
    metadata: { namespace: 'backup', name: 'daily' },
    spec: {
      schedule: '@daily',
      jobConfig: {
        serviceAccountName: 'backup-owner',
        env: [{ name: 'AWS_ACCESS_KEY_ID', value: 'minioadmin' }, { name: 'AWS_SECRET_ACCESS_KEY', value: 'minioadmin' }],
        bucketConfig: { bucketName: 'moco', region: 'us-east-1', endpointURL: 'http://minio:9000', usePathStyle: true },
        workVolume: { emptyDir: {} },
      },
    },
  };
  edit(p);
  return p;
}
const job = (p: Policy) => p.spec.jobConfig;
const bucket = (p: Policy) => p.spec.jobConfig.bucketConfig;
const secret = (name: string, fields: Obj): Obj => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name }, ...fields });
const configMap = (name: string, data: Obj): Obj => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data });
const b64 = (s: string) => Buffer.from(s).toString('base64');

/** Asserts that the policy is refused with every expected problem line (exact lines). */
function refuses(doc: unknown, documents: Obj[], ...expected: string[]): void {
  assert.throws(() => parseBackupPolicy(doc, documents), (e: unknown) => {
    assert.ok(e instanceof ManifestError && e.code === 'INVALID_ARGUMENT', String(e));
    for (const line of expected) assert.ok(e.problems.includes(line), `missing:\n  ${line}\nin:\n  ${e.problems.join('\n  ')}`);
    return true;
  });
}

describe('parseBackupPolicy', () => {
  it('normalizes the seed policy with the CRD defaults', () => {
    const { spec, notApplyingLocally } = parseBackupPolicy(policy());
    assert.deepEqual(spec, {
      name: 'daily',
      schedule: '@daily',
      concurrencyPolicy: 'Allow',
      jobConfig: {
        threads: 4,
        bucketConfig: {
          bucketName: 'moco', region: 'us-east-1', endpointURL: 'http://minio:9000', usePathStyle: true, backendType: 's3',
        },
        env: { AWS_ACCESS_KEY_ID: 'minioadmin', AWS_SECRET_ACCESS_KEY: 'minioadmin' },
        serviceAccountName: 'backup-owner',
      },
    });
    assert.deepEqual(notApplyingLocally, [
      'BackupPolicy daily spec.jobConfig.serviceAccountName: there are no ServiceAccounts locally; backup and restore ' +
        'jobs run as the agent',
      'BackupPolicy daily spec.jobConfig.workVolume: not used locally: a MariaDB backup stages nothing (it is streamed), a MySQL one is copied next to the instance\'s data directory',
    ]);
    assert.deepEqual(JSON.parse(JSON.stringify(spec)), spec, 'JSON-serializable');
  });

  it('keeps every optional field', () => {
    const { spec } = parseBackupPolicy(policy((p) => Object.assign(p.spec, {
      timeZone: 'Etc/UTC', concurrencyPolicy: 'Forbid', startingDeadlineSeconds: 0, activeDeadlineSeconds: 3600,
      backoffLimit: 0, successfulJobsHistoryLimit: 1, failedJobsHistoryLimit: 2,
    })));
    const { timeZone, concurrencyPolicy, startingDeadlineSeconds, activeDeadlineSeconds, backoffLimit } = spec;
    assert.deepEqual([timeZone, concurrencyPolicy, startingDeadlineSeconds, activeDeadlineSeconds, backoffLimit],
      ['Etc/UTC', 'Forbid', 0, 3600, 0]);
    assert.deepEqual([spec.successfulJobsHistoryLimit, spec.failedJobsHistoryLimit], [1, 2]);
  });

  it('reports Kubernetes-only job fields as not applying locally', () => {
    const { notApplyingLocally } = parseBackupPolicy(policy((p) => Object.assign(job(p), {
      cpu: 2, maxCpu: '4', memory: '1Gi', maxMemory: '2Gi', affinity: { podAntiAffinity: {} },
      volumes: [{ name: 'x', emptyDir: {} }], volumeMounts: [{ name: 'x', mountPath: '/x' }],
    })));
    const at = 'BackupPolicy daily spec.jobConfig';
    for (const line of [
      `${at}.cpu: backup jobs are not resource-limited locally`,
      `${at}.maxMemory: backup jobs are not resource-limited locally`,
      `${at}.affinity: Kubernetes scheduling does not apply locally`,
      `${at}.volumes: extra volumes are not mounted locally`,
      `${at}.volumeMounts: extra volumes are not mounted locally`,
    ]) assert.ok(notApplyingLocally.includes(line), line);
  });

  it('accepts the file backend; bucket settings it ignores are reported', () => {
    const { spec, notApplyingLocally } = parseBackupPolicy(policy((p) => Object.assign(bucket(p), {
      backendType: 'file', bucketName: 'my-backups',
    })));
    assert.deepEqual(spec.jobConfig.bucketConfig.backendType, 'file');
    assert.ok(notApplyingLocally.includes('BackupPolicy daily spec.jobConfig.bucketConfig.endpointURL: the file ' +
      'backend ignores it'));
  });

  const at = 'BackupPolicy daily spec';
  const cases: [name: string, doc: unknown, documents: Obj[], ...expected: string[]][] = [
    ['not a mapping', 'x', [], 'BackupPolicy: expected a mapping (a BackupPolicy document)'],
    [
      'a missing name, spec and apiVersion',
      { kind: 'BackupPolicy', metadata: {} }, [],
      'BackupPolicy apiVersion: null is not supported; use apiVersion: moco.cybozu.com/v1beta2',
      'BackupPolicy metadata.name: is required but missing; add it',
      'BackupPolicy spec: is required but missing; add it',
    ],
    ['a name that is not a DNS name', policy((p) => (p.metadata = { name: 'Daily_1' })), [],
      'BackupPolicy Daily_1 metadata.name: "Daily_1" is not a valid name; use at most 253 lower-case letters, digits, ' +
      '"-" and "."'],
    [
      'missing schedule and jobConfig',
      policy((p) => (p.spec = {} as Policy['spec'])), [],
      `${at}.schedule: is required but missing; add it`,
      `${at}.jobConfig: is required but missing; add it`,
    ],
    ['a misspelled spec field', policy((p) => (p.spec.schedul = '@daily')), [],
      `${at}.schedul: unknown field; did you mean "schedule"?`],
    ['a misspelled jobConfig field', policy((p) => (job(p).thread = 2)), [],
      `${at}.jobConfig.thread: unknown field; did you mean "threads"?`],
    ['a misspelled bucketConfig field', policy((p) => (bucket(p).regoin = 'x')), [],
      `${at}.jobConfig.bucketConfig.regoin: unknown field; did you mean "region"?`],
    ['a bad schedule', policy((p) => (p.spec.schedule = '0 0 30 2 *')), [],
      `${at}.schedule: "0 0 30 2 *" is not a cron schedule: it never fires: day-of-month 30 does not occur in month ` +
      'FEB; pick days that exist in the chosen months, for example "0 0 1,15 * *" (midnight on the 1st and 15th)'],
    ['a schedule in another zone', policy((p) => (p.spec.schedule = 'TZ=Asia/Tokyo @daily')), [],
      `${at}.schedule: "TZ=Asia/Tokyo @daily" is not a cron schedule: schedules run in UTC locally; remove ` +
      '"TZ=Asia/Tokyo" or use TZ=UTC'],
    ['timeZone and a TZ= prefix', policy((p) => Object.assign(p.spec, { timeZone: 'UTC', schedule: 'TZ=UTC @daily' })),
      [], `${at}.schedule: cannot use both timeZone and a TZ= or CRON_TZ= prefix (Kubernetes refuses it); keep timeZone`],
    ['a concurrencyPolicy outside the enum', policy((p) => (p.spec.concurrencyPolicy = 'forbid')), [],
      `${at}.concurrencyPolicy: "forbid" is not supported; use one of Allow, Forbid, Replace`],
    [
      'negative limits and deadlines',
      policy((p) => Object.assign(p.spec, {
        backoffLimit: -1, successfulJobsHistoryLimit: -1, failedJobsHistoryLimit: -2, startingDeadlineSeconds: -5,
        activeDeadlineSeconds: '60',
      })), [],
      `${at}.backoffLimit: -1 is too small; use 0 or more`,
      `${at}.successfulJobsHistoryLimit: -1 is too small; use 0 or more`,
      `${at}.failedJobsHistoryLimit: -2 is too small; use 0 or more`,
      `${at}.startingDeadlineSeconds: -5 is too small; use 0 or more`,
      `${at}.activeDeadlineSeconds: expected an integer, got string "60"; write it without quotes`,
    ],
    [
      'missing serviceAccountName, workVolume and bucketConfig (required by the CRD)',
      policy((p) => (p.spec.jobConfig = {} as Policy['spec']['jobConfig'])), [],
      `${at}.jobConfig.serviceAccountName: is required but missing; add it`,
      `${at}.jobConfig.workVolume: is required but missing; add one such as "workVolume: {emptyDir: {}}"`,
      `${at}.jobConfig.bucketConfig: is required but missing; add it`,
    ],
    ['threads 0 and a bad quantity', policy((p) => Object.assign(job(p), { threads: 0, memory: '4GB' })), [],
      `${at}.jobConfig.threads: 0 is too small; use at least 1`,
      `${at}.jobConfig.memory: "4GB" is not a Kubernetes quantity; use for example 512Mi, 1Gi or 2G`],
    ['a missing bucketName', policy((p) => delete bucket(p).bucketName), [],
      `${at}.jobConfig.bucketConfig.bucketName: is required but missing; add it`],
    ['an endpoint without a scheme', policy((p) => (bucket(p).endpointURL = 'minio:9000')), [],
      `${at}.jobConfig.bucketConfig.endpointURL: "minio:9000" must start with http:// or https://`],
    ['backendType gcs', policy((p) => (bucket(p).backendType = 'gcs')), [],
      `${at}.jobConfig.bucketConfig.backendType: backendType gcs is not supported by this version; use s3 (any ` +
      'S3-compatible store) or file'],
    ['backendType azure', policy((p) => (bucket(p).backendType = 'azure')), [],
      `${at}.jobConfig.bucketConfig.backendType: backendType azure is not supported by this version; use s3 (any ` +
      'S3-compatible store) or file'],
    ['an unknown backendType', policy((p) => (bucket(p).backendType = 'S3')), [],
      `${at}.jobConfig.bucketConfig.backendType: "S3" is not supported; use s3 (any S3-compatible store) or file`],
    ['usePathStyle as a string', policy((p) => (bucket(p).usePathStyle = 'true')), [],
      `${at}.jobConfig.bucketConfig.usePathStyle: expected a boolean, got string "true"`],
  ];
  for (const [name, doc, documents, ...expected] of cases) it(`refuses ${name}`, () => refuses(doc, documents, ...expected));
});

describe('job environment', () => {
  const at = 'BackupPolicy daily spec.jobConfig';
  const envOf = (p: Policy, documents: Obj[] = []) => parseBackupPolicy(p, documents).spec.jobConfig.env;
  const withEnv = (env: unknown[], envFrom?: unknown[]) =>
    policy((p) => Object.assign(job(p), { env, ...(envFrom ? { envFrom } : {}) }));

  it('resolves secretKeyRef (data is base64, stringData plain and winning) and configMapKeyRef', () => {
    const docs = [
      secret('s3', { data: { id: b64('AKIA'), key: b64('old') }, stringData: { key: 'secret' } }),
      configMap('settings', { region: 'eu-west-1' }),
    ];
    const env = envOf(withEnv([
      { name: 'AWS_ACCESS_KEY_ID', valueFrom: { secretKeyRef: { name: 's3', key: 'id' } } },
      { name: 'AWS_SECRET_ACCESS_KEY', valueFrom: { secretKeyRef: { name: 's3', key: 'key' } } },
      { name: 'AWS_REGION', valueFrom: { configMapKeyRef: { name: 'settings', key: 'region' } } },
    ]), docs);
    assert.deepEqual(env, { AWS_ACCESS_KEY_ID: 'AKIA', AWS_SECRET_ACCESS_KEY: 'secret', AWS_REGION: 'eu-west-1' });
  });

  it('applies envFrom first (with prefix), then env, env winning', () => {
    const docs = [secret('creds', { stringData: { A: 'from-secret', B: 'b' } }), configMap('cm', { A: 'from-cm' })];
    const env = envOf(withEnv([{ name: 'A', value: 'from-env' }], [
      { secretRef: { name: 'creds' } }, { configMapRef: { name: 'cm' }, prefix: 'CM_' },
    ]), docs);
    assert.deepEqual(env, { A: 'from-env', B: 'b', CM_A: 'from-cm' });
  });

  it('expands $(VAR) from earlier entries and envFrom; $$ escapes; unknown and later names stay', () => {
    const env = envOf(withEnv([
      { name: 'X', value: 'x-$(FROM_CM)' },
      { name: 'Y', value: '$(X)/$(Z)/$$(X)/$(UNKNOWN)' },
      { name: 'Z', value: 'z' },
      { name: 'EMPTY', value: '' },
    ], [{ configMapRef: { name: 'cm' } }]), [configMap('cm', { FROM_CM: 'c' })]);
    assert.deepEqual(env, { FROM_CM: 'c', X: 'x-c', Y: 'x-c/$(Z)/$(X)/$(UNKNOWN)', Z: 'z', EMPTY: '' });
  });

  it('leaves out optional references that are missing', () => {
    const env = envOf(withEnv([
      { name: 'A', valueFrom: { secretKeyRef: { name: 'nope', key: 'k', optional: true } } },
      { name: 'B', valueFrom: { secretKeyRef: { name: 's', key: 'nope', optional: true } } },
    ], [{ configMapRef: { name: 'nope', optional: true } }]), [secret('s', {})]);
    assert.deepEqual(env, {});
  });

  it('expands $(VAR) in bucketName (the seed takes it from a ConfigMap) and the other bucket settings', () => {
    const p = policy((p) => {
      Object.assign(bucket(p), { bucketName: '$(BUCKET_NAME)', endpointURL: 'http://$(HOST):9000' });
      job(p).envFrom = [{ configMapRef: { name: 'bucket-name' } }];
      job(p).env = [{ name: 'HOST', value: 'minio' }];
    });
    const { bucketConfig } = parseBackupPolicy(p, [configMap('bucket-name', { BUCKET_NAME: 'moco' })]).spec.jobConfig;
    assert.deepEqual([bucketConfig.bucketName, bucketConfig.endpointURL], ['moco', 'http://minio:9000']);
  });

  const cases: [name: string, doc: Policy, documents: Obj[], ...expected: string[]][] = [
    ['a Secret that is not in the file',
      withEnv([{ name: 'A', valueFrom: { secretKeyRef: { name: 's3', key: 'id' } } }]), [],
      `${at}.env[0].valueFrom.secretKeyRef.name: Secret "s3" is not in this file; add it as another document after ` +
      '"---" (apiVersion: v1, kind: Secret, metadata.name: s3, stringData: {KEY: value}), or set optional: true'],
    ['a ConfigMap that is not in the file', withEnv([], [{ configMapRef: { name: 'cm' } }]), [],
      `${at}.envFrom[0].configMapRef.name: ConfigMap "cm" is not in this file; add it as another document after ` +
      '"---" (apiVersion: v1, kind: ConfigMap, metadata.name: cm, data: {KEY: value}), or set optional: true'],
    ['a missing key', withEnv([{ name: 'A', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }]),
      [secret('s', { stringData: {} })],
      `${at}.env[0].valueFrom.secretKeyRef.key: Secret "s" has no key "k"; add it under stringData (or base64 under ` +
      'data), or set optional: true'],
    ['a missing ConfigMap key', withEnv([{ name: 'A', valueFrom: { configMapKeyRef: { name: 'c', key: 'k' } } }]),
      [configMap('c', {})],
      `${at}.env[0].valueFrom.configMapKeyRef.key: ConfigMap "c" has no key "k"; add it under data, or set optional: true`],
    ['two Secrets with one name', withEnv([], [{ secretRef: { name: 's' } }]), [secret('s', {}), secret('s', {})],
      `${at}.envFrom[0].secretRef.name: 2 Secrets are named "s"; keep one`],
    ['Secret data that is not base64', withEnv([], [{ secretRef: { name: 's' } }]),
      [secret('s', { data: { k: 'not base64!' } })],
      'Secret s data.k: is not base64; encode it (base64 -w0) or put the plain text under stringData'],
    ['fieldRef', withEnv([{ name: 'A', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }]), [],
      `${at}.env[0].valueFrom.fieldRef: is not available locally (there is no Pod); use value, secretKeyRef or ` +
      'configMapKeyRef'],
    ['resourceFieldRef', withEnv([{ name: 'A', valueFrom: { resourceFieldRef: { resource: 'limits.cpu' } } }]), [],
      `${at}.env[0].valueFrom.resourceFieldRef: is not available locally (there is no Pod); use value, secretKeyRef ` +
      'or configMapKeyRef'],
    ['value and valueFrom', withEnv([{ name: 'A', value: 'a', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }]),
      [secret('s', { stringData: { k: 'v' } })],
      `${at}.env[0].valueFrom: cannot be set together with a non-empty value; keep one of them`],
    ['two sources in one valueFrom', withEnv([{ name: 'A', valueFrom: {
      secretKeyRef: { name: 's', key: 'k' }, configMapKeyRef: { name: 'c', key: 'k' } } }]), [],
    `${at}.env[0].valueFrom: set exactly one of secretKeyRef and configMapKeyRef (found 2)`],
    ['an envFrom with neither ref', withEnv([], [{ prefix: 'X_' }]), [],
      `${at}.envFrom[0]: set exactly one of configMapRef and secretRef (found 0)`],
    ['an env entry without a name, a name with "=", a number value', withEnv([{ value: 'a' }, { name: 'A=B' },
      { name: 'N', value: 5 }]), [],
    `${at}.env[0].name: is required but missing; add it`,
    `${at}.env[1].name: "A=B" contains "="; use a name without it`,
    `${at}.env[2].value: expected a string, got number 5; quote it`],
    ['a misspelled secretKeyRef field', withEnv([{ name: 'A', valueFrom: { secretKeyRef: { name: 's', kye: 'k' } } }]),
      [secret('s', {})],
      `${at}.env[0].valueFrom.secretKeyRef.kye: unknown field; did you mean "key"?`,
      `${at}.env[0].valueFrom.secretKeyRef.key: is required but missing; add it`],
    ['an undefined variable in bucketName', policy((p) => (bucket(p).bucketName = '$(BUCKET_NAME)')), [],
      `${at}.bucketConfig.bucketName: $(BUCKET_NAME) is not defined; define BUCKET_NAME in jobConfig.env or ` +
      'jobConfig.envFrom, or write the bucket name itself'],
    ['an undefined variable in region', policy((p) => (bucket(p).region = '$(REGION)')), [],
      `${at}.bucketConfig.region: $(REGION) is not defined; define REGION in jobConfig.env or jobConfig.envFrom, or ` +
      'write the value itself'],
  ];
  for (const [name, doc, documents, ...expected] of cases) it(`refuses ${name}`, () => refuses(doc, documents, ...expected));
});

describe('expandVars', () => {
  const vars: Record<string, string> = { A: 'a', EMPTY: '' };
  const cases: [input: string, text: string, missing: string[]][] = [
    ['plain', 'plain', []],
    ['$(A)', 'a', []],
    ['x$(A)y$(A)', 'xaya', []],
    ['$(EMPTY)', '', []],
    ['$$(A)', '$(A)', []],
    ['$$$(A)', '$a', []],
    ['a$$b', 'a$b', []],
    ['$(B)', '$(B)', ['B']],
    ['$()', '$()', ['']],
    ['$(A', '$(A', []],
    ['$A', '$A', []],
    ['trailing $', 'trailing $', []],
    ['$', '$', []],
  ];
  for (const [input, text, missing] of cases) {
    it(JSON.stringify(input), () => assert.deepEqual(expandVars(input, (n) => vars[n]), { text, missing }));
  }
});

describe('checkRestore', () => {
  const restore = (fields: Obj = {}): Obj => ({
    sourceName: 'source', sourceNamespace: 'backup', restorePoint: '2021-05-26T12:34:56Z',
    jobConfig: { serviceAccountName: 'sa', workVolume: { emptyDir: {} }, bucketConfig: { bucketName: 'b' } },
    ...fields,
  });
  const check = (r: Obj, documents: Obj[] = []) => {
    const c = new Checker();
    const spec = checkRestore(c, r, new EnvSources(c, documents));
    return { spec, problems: c.problems };
  };

  it('normalizes the restore point to UTC whole seconds', () => {
    const { spec, problems } = check(restore({ restorePoint: '2021-05-26T21:34:56.789+09:00' }));
    assert.deepEqual(problems, []);
    assert.equal(spec?.restorePoint, '2021-05-26T12:34:56Z');
  });

  it('resolves its environment like a BackupPolicy and accepts the file backend', () => {
    const r = restore({ jobConfig: {
      serviceAccountName: 'sa', workVolume: {}, envFrom: [{ secretRef: { name: 'creds' } }],
      bucketConfig: { bucketName: '$(DIR)', backendType: 'file' },
    } });
    const { spec, problems } = check(r, [secret('creds', { stringData: { DIR: '/backups' } })]);
    assert.deepEqual(problems, []);
    assert.deepEqual(spec?.jobConfig.bucketConfig, { bucketName: '/backups', usePathStyle: false, backendType: 'file' });
  });

  it('accepts empty schema and users (MOCO reads them as "everything")', () => {
    const { spec, problems } = check(restore({ schema: '', users: '' }));
    assert.deepEqual(problems, []);
    assert.ok(spec && !('schema' in spec) && !('users' in spec));
  });

  const cases: [name: string, r: Obj, ...expected: string[]][] = [
    ['schema', restore({ schema: 'app' }), 'spec.restore.schema: restoring one schema is not supported yet (backups ' +
      'are physical copies of the whole instance); remove it to restore everything'],
    ['users', restore({ users: 'a@%' }), 'spec.restore.users: restoring selected users is not supported yet ' +
      '(backups are physical copies of the whole instance); remove it to restore every user'],
    ['a restore point that is not RFC 3339', restore({ restorePoint: '2021-05-26 12:34:56' }),
      'spec.restore.restorePoint: "2021-05-26 12:34:56" is not an RFC 3339 time; use for example "2021-05-26T12:34:56Z"'],
    ['a missing jobConfig and source', { restorePoint: '2021-05-26T12:34:56Z' },
      'spec.restore.sourceName: is required but missing; add it',
      'spec.restore.sourceNamespace: is required but missing; add it',
      'spec.restore.jobConfig: is required but missing; add it'],
  ];
  for (const [name, r, ...expected] of cases) {
    it(`refuses ${name}`, () => {
      const { problems } = check(r);
      for (const line of expected) assert.ok(problems.includes(line), `missing:\n  ${line}\nin:\n  ${problems.join('\n  ')}`);
    });
  }
});

describe('normalizeRestorePoint', () => {
  const cases: [input: string, expected: string | undefined][] = [
    ['2021-05-26T12:34:56Z', '2021-05-26T12:34:56Z'],
    ['2021-05-26t12:34:56z', '2021-05-26T12:34:56Z'],
    ['2021-05-26T12:34:56.999999Z', '2021-05-26T12:34:56Z'],
    ['2021-05-26T21:34:56+09:00', '2021-05-26T12:34:56Z'],
    ['2021-05-26T00:30:00-05:30', '2021-05-26T06:00:00Z'],
    ['2021-01-01T01:00:00.5+02:00', '2020-12-31T23:00:00Z'],
    ['2024-02-29T00:00:00Z', '2024-02-29T00:00:00Z'],
    ['2023-02-29T00:00:00Z', undefined],
    ['2021-02-30T00:00:00Z', undefined],
    ['2021-05-26T24:00:00Z', undefined],
    ['2021-05-26T12:60:00Z', undefined],
    ['2021-05-26T12:34:60Z', undefined],
    ['2021-13-01T00:00:00Z', undefined],
    ['2021-05-26T12:34:56+24:00', undefined],
    ['2021-05-26T12:34:56', undefined],
    ['2021-05-26', undefined],
    ['yesterday', undefined],
  ];
  for (const [input, expected] of cases) it(input, () => assert.equal(normalizeRestorePoint(input), expected));
});

describe('bucketTarget', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'moco-policy-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const jobWith = (bucketConfig: Partial<JobConfigSpec['bucketConfig']>, env: Record<string, string> = {}): JobConfigSpec => ({
    threads: 4, env, bucketConfig: { bucketName: 'moco', usePathStyle: false, backendType: 's3', ...bucketConfig },
  });

  it('file: a directory under the state root unless absolute', () => {
    assert.deepEqual(bucketTarget(jobWith({ backendType: 'file', bucketName: 'bk' }), '/state'),
      { backendType: 'file', bucket: '/state/bk' });
    assert.deepEqual(bucketTarget(jobWith({ backendType: 'file', bucketName: '/srv/bk' }), '/state'),
      { backendType: 'file', bucket: '/srv/bk' });
  });

  it('s3: bucket settings win over the environment', () => {
    const env = { AWS_REGION: 'env-region', AWS_ENDPOINT_URL_S3: 'http://env', AWS_ACCESS_KEY_ID: 'id',
      AWS_SECRET_ACCESS_KEY: 'secret', AWS_SESSION_TOKEN: 'token' };
    assert.deepEqual(bucketTarget(jobWith({ region: 'r', endpointURL: 'http://e:9000', usePathStyle: true }, env), dir), {
      backendType: 's3', bucket: 'moco', region: 'r', endpointURL: 'http://e:9000', usePathStyle: true,
      credentials: { accessKeyId: 'id', secretAccessKey: 'secret', sessionToken: 'token' },
    });
  });

  const fallbacks: [name: string, env: Record<string, string>, region: string, endpoint: string | undefined][] = [
    ['no settings', {}, 'us-east-1', undefined],
    ['AWS_REGION and AWS_ENDPOINT_URL_S3', { AWS_REGION: 'a', AWS_DEFAULT_REGION: 'b', AWS_ENDPOINT_URL_S3: 'http://s3',
      AWS_ENDPOINT_URL: 'http://all' }, 'a', 'http://s3'],
    ['AWS_DEFAULT_REGION and AWS_ENDPOINT_URL', { AWS_DEFAULT_REGION: 'b', AWS_ENDPOINT_URL: 'http://all' }, 'b',
      'http://all'],
    ['empty variables count as unset', { AWS_REGION: '', AWS_DEFAULT_REGION: 'b', AWS_ENDPOINT_URL_S3: '' }, 'b',
      undefined],
  ];
  for (const [name, env, region, endpoint] of fallbacks) {
    it(`s3 region and endpoint: ${name}`, () => {
      const t = bucketTarget(jobWith({}, env), dir);
      assert.deepEqual([t.region, t.endpointURL, t.credentials], [region, endpoint, undefined]);
    });
  }

  it('refuses only one of the two AWS keys, naming the missing one', () => {
    assert.throws(() => bucketTarget(jobWith({}, { AWS_ACCESS_KEY_ID: 'id' }), dir), (e: unknown) =>
      hasCode(e, 'INVALID_ARGUMENT') && e.message.startsWith('jobConfig.env sets AWS_ACCESS_KEY_ID but not ' +
        'AWS_SECRET_ACCESS_KEY; add AWS_SECRET_ACCESS_KEY'));
    assert.throws(() => bucketTarget(jobWith({}, { AWS_SECRET_ACCESS_KEY: 's' }), dir),
      /sets AWS_SECRET_ACCESS_KEY but not AWS_ACCESS_KEY_ID; add AWS_ACCESS_KEY_ID/);
  });

  it('reads caCert (relative to the state root) and names a missing file', () => {
    writeFileSync(path.join(dir, 'ca.pem'), 'PEM');
    assert.equal(bucketTarget(jobWith({ caCert: 'ca.pem' }), dir).caCertPem, 'PEM');
    const missing = path.join(dir, 'nope.pem');
    assert.throws(() => bucketTarget(jobWith({ caCert: missing }), dir), (e: unknown) =>
      hasCode(e, 'INVALID_ARGUMENT') && e.message.startsWith(`bucketConfig.caCert: cannot read ${missing} (`) &&
      e.message.endsWith('); fix the path or remove caCert'));
  });

  it('refuses gcs and azure', () => {
    for (const backendType of ['gcs', 'azure'] as const) {
      assert.throws(() => bucketTarget(jobWith({ backendType }), dir),
        new RegExp(`backendType ${backendType} is not supported by this version; use s3`));
    }
  });

  it('defaultBackupTarget: the file backend at <stateRoot>/backups', () => {
    assert.deepEqual(defaultBackupTarget('/state'), { backendType: 'file', bucket: '/state/backups' });
    assert.deepEqual(defaultBackupTarget('rel'), { backendType: 'file', bucket: path.resolve('rel/backups') });
  });
});
