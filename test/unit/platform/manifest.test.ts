import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import YAML from 'yaml';

import { checkUpdate, defaultManifest, ManifestError, parseManifest } from '../../../src/platform/local/manifest.ts';
import { parseQuantityBytes } from '../../../src/api/checker.ts';
import type { RestoreSpec } from '../../../src/api/spec.ts';
import type { ClusterSpec } from '../../../src/api/spec.ts';
import { exampleDocuments, overlay } from '../../helpers/seed-examples.ts';

type Obj = Record<string, unknown>;
type Doc = Obj & { spec: Obj; metadata: Obj };
const FIXTURES = new URL('./fixtures/', import.meta.url);
const fixture = (name: string): string => readFileSync(new URL(name, FIXTURES), 'utf8');

/**
 * The seed document's examples are copied verbatim into fixtures/ (the seed text lost its indentation; it is
 * restored as in upstream docs/usage.md). Most are excerpts that elide the rest of the cluster with "...". To load
 * one, its fields are laid over the default manifest (a BackupPolicy excerpt over the seed's full daily policy,
 * seed-07, which the excerpt's "..." refers to); an indented "..." line (a YAML error as written) is dropped.
 */
function complete(text: string): string {
  const base = YAML.parse(defaultManifest({})) as Obj;
  const basePolicy = YAML.parse(fixture('seed-07-backup-policy-daily.yaml')) as Obj;
  return exampleDocuments(text)
    .map((d) => YAML.stringify(({ MySQLCluster: overlay(base, d), BackupPolicy: overlay(basePolicy, d) } as Obj)[d.kind as string] ?? d))
    .join('---\n');
}

/** Asserts that parsing `text` fails with a ManifestError whose message contains every expected fragment. */
function refuses(text: string, ...expected: string[]): ManifestError {
  let caught: unknown;
  try {
    parseManifest(text);
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof ManifestError, `expected a ManifestError, got ${String(caught)}`);
  for (const part of expected) assert.ok(caught.message.includes(part), `missing "${part}" in:\n${caught.message}`);
  return caught;
}

/** The default manifest with `edit` applied to its MySQLCluster object, as YAML. */
function edited(edit: (doc: Doc) => void, options = {}): string {
  const doc = YAML.parse(defaultManifest(options)) as Doc;
  edit(doc);
  return YAML.stringify(doc);
}
const withSpec = (fields: Obj): string => edited((d) => Object.assign(d.spec, fields));
const podSpec = (doc: Doc) => (doc.spec.podTemplate as Obj).spec as Obj & { containers: Obj[] };
const mysqld = (doc: Doc): Obj => podSpec(doc).containers[0] as Obj;
const has = (list: string[], prefix: string): boolean => list.some((s) => s.startsWith(prefix));

/** The jobConfig of the seed documents' backup examples, as loaded. */
const SEED_JOB = {
  threads: 4,
  bucketConfig: {
    bucketName: 'moco', region: 'us-east-1', endpointURL: 'http://minio.default.svc:9000', usePathStyle: true,
    backendType: 's3',
  },
  env: { AWS_ACCESS_KEY_ID: 'minioadmin', AWS_SECRET_ACCESS_KEY: 'minioadmin' },
  serviceAccountName: 'backup-owner',
};

describe('seed examples', () => {
  const covered = new Set<string>();
  const seed = (name: string): string => (covered.add(name), fixture(name));

  it('the three-instance cluster with anti-affinity loads unchanged', () => {
    const m = parseManifest(seed('seed-01-empty-cluster.yaml'));
    assert.deepEqual([m.spec.name, m.spec.namespace, m.spec.replicas], ['test', 'default', 3]);
    assert.equal(m.spec.memoryBytes, 10 * 2 ** 30);
    assert.ok(has(m.notApplyingLocally, 'spec.podTemplate.spec.affinity: '));
    assert.ok(has(m.notApplyingLocally, 'spec.podTemplate.spec.containers[0].resources.limits.cpu: '));
  });

  it('the cluster replicating from a donor loads unchanged, with the defaults', () => {
    const { spec } = parseManifest(seed('seed-03-replication-source.yaml'));
    assert.equal(spec.replicationSourceSecretName, 'donor-secret');
    const { namespace, replicas, maxDelaySeconds, maxDelaySecondsForPodDeletion, startupWaitSeconds } = spec;
    assert.deepEqual(
      [namespace, replicas, maxDelaySeconds, maxDelaySecondsForPodDeletion, startupWaitSeconds],
      ['foo', 1, 60, 0, 3600],
    );
    assert.deepEqual([spec.offline, spec.memoryBytes, spec.mycnf], [false, undefined, {}]);
  });

  it('the donor Secret of the seed example, when in the file, becomes spec.replicationSource', () => {
    const secret = YAML.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'donor-secret', namespace: 'foo' }, stringData: {
      HOST: 'donor.example', PORT: '3306', USER: 'clone-donor', PASSWORD: 'xxxxxxxxxxx', INIT_USER: 'clone-init', INIT_PASSWORD: 'yyyyyyyyyyy',
    } });
    const m = parseManifest(`${seed('seed-03-replication-source.yaml')}---\n${secret}`);
    assert.deepEqual(m.spec.replicationSource, {
      host: 'donor.example', port: 3306, user: 'clone-donor', password: 'xxxxxxxxxxx', initUser: 'clone-init', initPassword: 'yyyyyyyyyyy',
    });
    // Without it the example still loads; the cluster waits for the Secret, and up says so.
    const alone = parseManifest(seed('seed-03-replication-source.yaml'));
    assert.equal(alone.spec.replicationSource, undefined);
    assert.ok(has(alone.notApplyingLocally, 'spec.replicationSourceSecretName: Secret "donor-secret" is not in this file'));
  });

  it('the mycnf ConfigMap becomes spec.mycnf', () => {
    const m = parseManifest(complete(seed('seed-04-mycnf-configmap.yaml')));
    assert.equal(m.spec.mysqlConfigMapName, 'mycnf');
    assert.deepEqual(m.spec.mycnf, { long_query_time: '5', innodb_buffer_pool_size: '10G' });
    assert.equal((m.configMap?.metadata as Obj).name, 'mycnf');
  });

  it('the opaque _include ConfigMap loads beside a cluster naming it', () => {
    const excerpt = 'kind: MySQLCluster\nmetadata: {namespace: foo, name: test}\nspec: {mysqlConfigMapName: mycnf}';
    const cluster = complete(excerpt);
    const m = parseManifest(`${seed('seed-05-opaque-include-configmap.yaml')}---\n${cluster}`);
    assert.match(m.spec.mycnf._include ?? '', /^performance-schema-instrument='memory\/%=ON'\n(.+\n){3}$/);
  });

  it('the primary Service template loads and is reported as not applying', () => {
    const m = parseManifest(complete(seed('seed-06-primary-service-template.yaml')));
    assert.ok(has(m.notApplyingLocally, 'spec.primaryServiceTemplate: '));
  });

  it('the daily BackupPolicy beside a cluster referencing it: kept as written and normalized', () => {
    const policy = seed('seed-07-backup-policy-daily.yaml');
    const m = parseManifest(`${policy}---\n${complete(seed('seed-08-backup-policy-name.yaml'))}`);
    assert.equal(m.spec.backupPolicyName, 'daily');
    assert.deepEqual(m.backupPolicy, YAML.parse(policy));
    assert.deepEqual(m.spec.backupPolicy, {
      name: 'daily',
      schedule: '@daily',
      concurrencyPolicy: 'Allow',
      jobConfig: SEED_JOB,
    });
    assert.ok(has(m.notApplyingLocally, 'BackupPolicy daily spec.jobConfig.serviceAccountName: there are no'));
    assert.ok(has(m.notApplyingLocally, 'BackupPolicy daily spec.jobConfig.workVolume: not used locally: a MariaDB backup stages nothing'));
  });

  it('the BackupPolicy excerpt taking its bucket from a ConfigMap: the elided fields are named, then it loads', () => {
    const policy = seed('seed-09-backup-policy-bucket-from-env.yaml');
    const cluster = complete(fixture('seed-08-backup-policy-name.yaml'));
    refuses(`${policy}---\n${cluster}`,
      'BackupPolicy daily spec.schedule: is required but missing; add it',
      'BackupPolicy daily spec.jobConfig.serviceAccountName: is required but missing; add it',
      'BackupPolicy daily spec.jobConfig.workVolume: is required but missing; add one such as');
    const m = parseManifest(`${complete(policy)}---\n${cluster}`);
    assert.equal((m.backupPolicy?.metadata as Obj).name, 'daily');
    assert.equal(m.spec.backupPolicy?.jobConfig.bucketConfig.bucketName, 'moco', 'from the ConfigMap via envFrom');
    assert.equal(m.spec.backupPolicy?.jobConfig.env.BUCKET_NAME, 'moco');
    assert.deepEqual([m.configMap, m.spec.mycnf], [undefined, {}], 'that ConfigMap is not mysqld config');
  });

  it('the restore example: spec.restore normalized, its environment resolved', () => {
    const text = seed('seed-11-restore.yaml');
    const m = parseManifest(complete(text));
    const written = (YAML.parse(text) as Doc).spec.restore as Obj;
    assert.deepEqual(m.spec.restore, {
      sourceName: 'source',
      sourceNamespace: 'backup',
      restorePoint: '2021-05-26T12:34:56Z',
      jobConfig: SEED_JOB,
    });
    assert.deepEqual((m.cluster.spec as Obj).restore, written, 'the document stays as written');
    assert.equal(m.spec.name, 'target');
    assert.ok(has(m.notApplyingLocally, 'spec.restore.jobConfig.workVolume: '));
  });

  it('the maxDelaySeconds, collectors and replicas excerpts load', () => {
    assert.equal(parseManifest(complete(seed('seed-12-max-delay-seconds.yaml'))).spec.maxDelaySeconds, 180);
    const m = parseManifest(complete(seed('seed-13-collectors.yaml')));
    assert.ok(has(m.notApplyingLocally, 'spec.collectors: '));
    assert.equal(parseManifest(complete(seed('seed-14-replicas-5.yaml'))).spec.replicas, 5);
  });

  it('the upgrade excerpt puts podTemplate.spec content under spec; the loader says where it belongs', () => {
    const text = seed('seed-15-upgrade-image.yaml');
    refuses(complete(text), 'spec.containers: unknown field; it belongs under spec.podTemplate.spec');
    const fixed = edited((d) => {
      podSpec(d).containers = (YAML.parse(text) as { spec: { containers: Obj[] } }).spec.containers;
      d.metadata = { namespace: 'default', name: 'test' };
    });
    assert.equal(parseManifest(fixed).spec.name, 'test');
  });

  it('the StatefulSet and CronJob examples show MOCO output, not input, and are refused as such', () => {
    refuses(seed('seed-02-statefulset-default-affinity.yaml'), 'document 1: kind "StatefulSet" is not accepted');
    refuses(seed('seed-10-cronjob-default-affinity.yaml'), 'document 1: kind "CronJob" is not accepted');
  });

  it('an excerpt as written is not a whole cluster', () => {
    const excerpt = fixture('seed-08-backup-policy-name.yaml');
    refuses(excerpt, 'spec.podTemplate: is required', 'spec.volumeClaimTemplates: is required',
      'spec.backupPolicyName: BackupPolicy "daily" is not in this file; add it as another document after "---"');
  });

  it('every fixture is covered', () => {
    assert.deepEqual([...covered].sort(), readdirSync(FIXTURES).filter((f) => f.startsWith('seed-')).sort());
  });
});

describe('defaultManifest', () => {
  it('round-trips: local/default, 3 replicas, a mysqld container and mysql-data', () => {
    const m = parseManifest(defaultManifest({}));
    assert.deepEqual([m.spec.name, m.spec.namespace, m.spec.replicas], ['local', 'default', 3]);
    assert.equal(mysqld(m.cluster as Doc).name, 'mysqld');
    assert.deepEqual(m.notApplyingLocally, ['spec.volumeClaimTemplates: storage size is not enforced locally']);
  });

  it('takes name, namespace and replicas', () => {
    const { spec } = parseManifest(defaultManifest({ name: 'db', namespace: 'team', replicas: 5 }));
    assert.deepEqual([spec.name, spec.namespace, spec.replicas], ['db', 'team', 5]);
  });

  it('refuses options that make an invalid cluster', () => {
    assert.throws(() => defaultManifest({ replicas: 2 }), /spec\.replicas: 2 is even/);
    assert.throws(() => defaultManifest({ name: 'Bad_Name' }), /metadata\.name: "Bad_Name" is not a DNS label/);
  });

  it('derives a stable serverIdBase in [1, 2^30] from namespace and name', () => {
    const a = parseManifest(defaultManifest({})).spec.serverIdBase;
    assert.equal(parseManifest(defaultManifest({})).spec.serverIdBase, a);
    assert.notEqual(parseManifest(defaultManifest({ name: 'other' })).spec.serverIdBase, a);
    assert.ok(a >= 1 && a <= 2 ** 30);
    assert.equal(parseManifest(withSpec({ serverIDBase: 0 })).spec.serverIdBase, a, '0 means unset, as in MOCO');
    assert.equal(parseManifest(withSpec({ serverIDBase: 100 })).spec.serverIdBase, 100);
  });
});

describe('parseManifest refuses', () => {
  const restore = {
    sourceName: 's',
    sourceNamespace: 'ns',
    restorePoint: '2021-05-26T12:34:56Z',
    jobConfig: { serviceAccountName: 'sa', workVolume: { emptyDir: {} }, bucketConfig: { bucketName: 'b' } },
  };
  const policyDoc = (name: string, bucketConfig: Obj = { bucketName: 'b' }) => `---\n${YAML.stringify({
    apiVersion: API, kind: 'BackupPolicy', metadata: { name },
    spec: { schedule: '@daily', jobConfig: { serviceAccountName: 'sa', workVolume: {}, bucketConfig } },
  })}`;
  const long = 'a'.repeat(41);
  const API = 'moco.cybozu.com/v1beta2';
  const doc = (kind: string, rest: string) => `---\napiVersion: ${kind}\n${rest}\n`;
  const cases: [name: string, text: string, ...expected: string[]][] = [
    ['even replicas', withSpec({ replicas: 4 }), 'spec.replicas: 4 is even; use a positive odd number (1, 3, 5, ...), such as 3 or 5'],
    ['zero replicas', withSpec({ replicas: 0 }), 'spec.replicas: 0 is not positive; use a positive odd number (1, 3, 5, ...)'],
    ['negative replicas', withSpec({ replicas: -3 }), 'spec.replicas: -3 is not positive; use a positive odd number (1, 3, 5, ...)'],
    ['quoted replicas', withSpec({ replicas: '3' }), 'spec.replicas: expected an integer, got string "3"; write it'],
    [
      'a misspelled top-level field',
      edited((d) => ((d.spec.replica = 3), delete d.spec.replicas)),
      'spec.replica: unknown field; did you mean "replicas"?',
    ],
    ['a misspelled metadata field', edited((d) => (d.metadata.lables = {})), 'metadata.lables: unknown field; did you'],
    [
      'a misspelled field in restore',
      withSpec({ restore: { ...restore, sourceNamespce: 'x' } }),
      'spec.restore.sourceNamespce: unknown field; did you mean "sourceNamespace"?',
    ],
    [
      'a misspelled field in bucketConfig',
      withSpec({ restore: { ...restore, jobConfig: { ...restore.jobConfig, bucketConfig: { bucketname: 'b' } } } }),
      'spec.restore.jobConfig.bucketConfig.bucketname: unknown field; did you mean "bucketName"?',
      'spec.restore.jobConfig.bucketConfig.bucketName: is required but missing',
    ],
    [
      'a restore point that is not RFC 3339',
      withSpec({ restore: { ...restore, restorePoint: 'yesterday' } }),
      'spec.restore.restorePoint: "yesterday" is not an RFC 3339 time; use for example "2021-05-26T12:34:56Z"',
    ],
    ['an unknown field, nothing near', withSpec({ zzz: 1 }), 'spec.zzz: unknown field; remove it (known: replicas'],
    [
      'a missing mysqld container',
      edited((d) => (mysqld(d).name = 'mysql')),
      'spec.podTemplate.spec.containers: no container named "mysqld"; add one: "- name: mysqld"',
    ],
    ['a missing podTemplate', edited((d) => delete d.spec.podTemplate), 'spec.podTemplate: is required but missing'],
    [
      'a misspelled field inside the mysqld container',
      edited((d) => ((mysqld(d).imag = 'x'), delete mysqld(d).image)),
      'spec.podTemplate.spec.containers[0].imag: unknown field; did you mean "image"?',
    ],
    [
      'a misspelled field in container resources and in the Pod spec',
      edited((d) => ((mysqld(d).resources = { limit: { memory: '1Gi' } }), ((d.spec.podTemplate as Obj).spec as Obj).afinity = {})),
      'spec.podTemplate.spec.containers[0].resources.limit: unknown field; did you mean "limits"?',
      'spec.podTemplate.spec.afinity: unknown field; did you mean "affinity"?',
    ],
    [
      'a misspelled field in a volume claim template and a Service template',
      withSpec({
        volumeClaimTemplates: [{ metadata: { name: 'mysql-data' }, spec: { storageClass: 'x', resources: { requests: { storage: '1Gi' } } } }],
        primaryServiceTemplate: { spec: { tpye: 'LoadBalancer' } },
      }),
      'spec.volumeClaimTemplates[0].spec.storageClass: unknown field; did you mean "storageClassName"?',
      'spec.primaryServiceTemplate.spec.tpye: unknown field; did you mean "type"?',
    ],
    [
      'a podTemplate typo',
      edited((d) => ((d.spec.podTemplate as Obj).sepc = {})),
      'spec.podTemplate.sepc: unknown field; did you mean "spec"?',
    ],
    [
      'no mysql-data volume claim template',
      withSpec({ volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: {} }] }),
      'spec.volumeClaimTemplates: no template named "mysql-data"; add one',
      'spec.volumeClaimTemplates[0].spec.resources.requests.storage: is required but missing; set a size such as 1Gi',
    ],
    [
      'a wrong apiVersion',
      defaultManifest({}).replace('v1beta2', 'v1beta1'),
      'apiVersion: "moco.cybozu.com/v1beta1" is not supported; use apiVersion: moco.cybozu.com/v1beta2',
    ],
    [
      'a missing ConfigMap',
      withSpec({ mysqlConfigMapName: 'mycnf' }),
      'spec.mysqlConfigMapName: ConfigMap "mycnf" is not in this file; add it as another document',
      'or remove the field',
    ],
    [
      'a ConfigMap value that is not a string',
      withSpec({ mysqlConfigMapName: 'mycnf' }) + doc('v1', 'kind: ConfigMap\nmetadata: {name: mycnf}\ndata: {a: 5}'),
      'ConfigMap mycnf data.a: expected a string, got number 5; quote it: "5"',
    ],
    [
      'two MySQLClusters',
      `${defaultManifest({})}---\n${defaultManifest({ name: 'b' })}`,
      'kind: found 2 MySQLCluster documents (local, b); keep one cluster per file',
    ],
    ['no MySQLCluster', '', 'kind: no MySQLCluster document found; add one'],
    [
      'a name over 40 characters',
      defaultManifest({}).replace('name: local', `name: ${long}`),
      `metadata.name: "${long}" has 41 characters; shorten it to at most 40`,
    ],
    ['another kind', defaultManifest({}) + doc('apps/v1', 'kind: Deployment'), 'document 2: kind "Deployment" is not'],
    [
      'a BackupPolicy that is not the named one',
      withSpec({ backupPolicyName: 'daily' }) + doc(API, 'kind: BackupPolicy\nmetadata: {name: x}'),
      'spec.backupPolicyName: "daily" does not match the BackupPolicy in this file ("x"); make the names equal',
    ],
    [
      'reserved container, port and volume names',
      edited((d) => Object.assign(podSpec(d), {
        containers: [{ name: 'mysqld', ports: [{ containerPort: 3306, name: 'health' }] }, { name: 'agent' }],
        initContainers: [{ name: 'moco-init' }],
        volumes: [{ name: 'tmp', emptyDir: {} }],
      })),
      'spec.podTemplate.spec.containers[0].ports[0].containerPort: 3306 is reserved by MOCO; change it',
      'spec.podTemplate.spec.containers[0].ports[0].name: "health" is reserved by MOCO',
      'spec.podTemplate.spec.containers[1].name: "agent" is reserved for a MOCO container; rename it',
      'spec.podTemplate.spec.initContainers[0].name: "moco-init" is reserved',
      'spec.podTemplate.spec.volumes[0].name: "tmp" is reserved by MOCO; rename it',
    ],
    [
      'bad numbers and a bad schedule',
      withSpec({ maxDelaySeconds: -1, startupWaitSeconds: 1.5, logRotationSize: -1, serverIDBase: -5 }),
      'spec.maxDelaySeconds: -1 is too small; use 0 or more',
      'spec.startupWaitSeconds: expected an integer, got number 1.5',
      'spec.logRotationSize: -1 is too small; use 0 or more',
      'spec.serverIDBase: -5 is too small; use at least 1',
    ],
    [
      'a bad log rotation schedule',
      withSpec({ logRotationSchedule: '61 * * * *' }),
      'spec.logRotationSchedule: "61 * * * *" is not a cron schedule: the minute field "61": 61 is above the ' +
      'maximum 59; use 0-59, for example "*/15 * * * *"',
    ],
    [
      'a backupPolicyName whose BackupPolicy is not in the file',
      withSpec({ backupPolicyName: 'daily' }),
      'spec.backupPolicyName: BackupPolicy "daily" is not in this file; add it as another document after "---" ' +
      '(apiVersion: moco.cybozu.com/v1beta2, kind: BackupPolicy, metadata.name: daily), or remove the field',
    ],
    [
      'a BackupPolicy that no backupPolicyName refers to',
      defaultManifest({}) + policyDoc('daily'),
      'spec.backupPolicyName: is not set, so BackupPolicy "daily" in this file is not used; set ' +
      'spec.backupPolicyName: daily, or remove the BackupPolicy document',
    ],
    [
      'a BackupPolicy that breaks a CRD rule',
      withSpec({ backupPolicyName: 'daily' }) + policyDoc('daily', { bucketName: 'b', backendType: 'gcs' }),
      'BackupPolicy daily spec.jobConfig.bucketConfig.backendType: backendType gcs is not supported by this ' +
      'version; use s3 (any S3-compatible store) or file',
    ],
    [
      'a BackupPolicy Secret that is not in the file',
      withSpec({ backupPolicyName: 'daily' }) + policyDoc('daily', { bucketName: '$(BUCKET)' }).replace('jobConfig:',
        'jobConfig:\n    envFrom: [{secretRef: {name: bucket}}]'),
      'BackupPolicy daily spec.jobConfig.envFrom[0].secretRef.name: Secret "bucket" is not in this file; add it as ' +
      'another document after "---"',
      'BackupPolicy daily spec.jobConfig.bucketConfig.bucketName: $(BUCKET) is not defined; define BUCKET in ' +
      'jobConfig.env or jobConfig.envFrom, or write the bucket name itself',
    ],
    [
      'a restore of one schema or selected users',
      withSpec({ restore: { ...restore, schema: 'app', users: 'app@%' } }),
      'spec.restore.schema: restoring one schema is not supported yet (backups are physical copies of the whole ' +
      'instance); remove it to restore everything',
      'spec.restore.users: restoring selected users is not supported yet (backups are physical copies of the whole ' +
      'instance); remove it to restore every user',
    ],
    [
      'a restore jobConfig without the fields the CRD requires',
      withSpec({ restore: { ...restore, jobConfig: { bucketConfig: { bucketName: 'b' } } } }),
      'spec.restore.jobConfig.serviceAccountName: is required but missing; add it',
      'spec.restore.jobConfig.workVolume: is required but missing; add one such as "workVolume: {emptyDir: {}}"',
    ],
    [
      'a restore whose Secret key is missing',
      withSpec({ restore: { ...restore, jobConfig: { ...restore.jobConfig, env: [
        { name: 'AWS_ACCESS_KEY_ID', valueFrom: { secretKeyRef: { name: 's3', key: 'id' } } }] } } }) +
        '---\napiVersion: v1\nkind: Secret\nmetadata: {name: s3}\nstringData: {key: x}\n',
      'spec.restore.jobConfig.env[0].valueFrom.secretKeyRef.key: Secret "s3" has no key "id"; add it under ' +
      'stringData (or base64 under data), or set optional: true',
    ],
    ['broken YAML', 'kind: MySQLCluster\nspec:\n  replicas: [3\n', 'document 1: invalid YAML: '],
  ];
  for (const [name, text, ...expected] of cases) it(name, () => void refuses(text, ...expected));

  it('collects all problems in one error, one per line, prefixed with the source', () => {
    const text = withSpec({ replicas: 2, maxDelaySecond: 1, offline: 'yes' });
    const err = refuses(text);
    assert.equal(err.problems.length, 3);
    assert.equal(err.code, 'INVALID_ARGUMENT');
    assert.throws(() => parseManifest(text, { source: 'cluster.yaml' }), (e: unknown) => {
      const lines = (e as Error).message.split('\n');
      assert.equal(lines.length, 3);
      assert.ok(lines.every((l) => l.startsWith('cluster.yaml: spec.')), lines.join('\n'));
      return true;
    });
  });
});

describe('parseManifest reads', () => {
  it('memory from requests before limits, else limits', () => {
    const both = edited((d) => (mysqld(d).resources = { requests: { memory: '512Mi' }, limits: { memory: '1Gi' } }));
    assert.equal(parseManifest(both).spec.memoryBytes, 536870912);
    const limits = edited((d) => (mysqld(d).resources = { limits: { memory: '2G' } }));
    assert.equal(parseManifest(limits).spec.memoryBytes, 2e9);
  });

  it('the namespace from metadata, else the option, else "default"', () => {
    assert.equal(parseManifest(defaultManifest({ namespace: 'a' }), { defaultNamespace: 'b' }).spec.namespace, 'a');
    const bare = edited((d) => delete d.metadata.namespace);
    assert.equal(parseManifest(bare, { defaultNamespace: 'b' }).spec.namespace, 'b');
    assert.equal(parseManifest(bare).spec.namespace, 'default');
  });

  it('null optional names as absent, and accepts Secrets and status', () => {
    const text = withSpec({ replicationSourceSecretName: null, backupPolicyName: null, mysqlConfigMapName: null });
    const m = parseManifest(`${text}status: {}\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: donor}\n`);
    assert.deepEqual(
      ['replicationSourceSecretName', 'backupPolicyName', 'mysqlConfigMapName'].filter((k) => k in m.spec),
      [],
    );
  });

  it('spec.restore with the file backend, a Secret of the same file and an offset restore point', () => {
    const restore = {
      sourceName: 'src', sourceNamespace: 'ns', restorePoint: '2021-05-27T02:04:56.5+09:30',
      jobConfig: {
        serviceAccountName: 'sa', workVolume: { emptyDir: {} }, threads: 2,
        envFrom: [{ secretRef: { name: 'paths' }, prefix: 'P_' }],
        bucketConfig: { bucketName: '$(P_DIR)/moco', backendType: 'file' },
      },
    };
    const secret = YAML.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'paths' },
      data: { DIR: Buffer.from('/srv').toString('base64') } });
    const m = parseManifest(`${withSpec({ restore })}---\n${secret}`);
    assert.deepEqual(m.spec.restore, {
      sourceName: 'src', sourceNamespace: 'ns', restorePoint: '2021-05-26T16:34:56Z',
      jobConfig: {
        threads: 2, bucketConfig: { bucketName: '/srv/moco', usePathStyle: false, backendType: 'file' },
        env: { P_DIR: '/srv' }, serviceAccountName: 'sa',
      },
    });
  });

  it('cron schedules as robfig/cron does', () => {
    for (const s of ['*/5 * * * *', '0 3 * JAN-MAR mon', '@daily', '@every 1h30m', 'CRON_TZ=Asia/Tokyo 0 0 1 * ?']) {
      assert.doesNotThrow(() => parseManifest(withSpec({ logRotationSchedule: s })), s);
    }
    for (const s of ['* * * *', '0 24 * * *', '0 0 0 * *', '* * * * 7', '@often', '@every 0s', '5-1 * * * *']) {
      assert.throws(() => parseManifest(withSpec({ logRotationSchedule: s })), /is not a cron schedule/, s);
    }
  });

  it('notApplyingLocally: affinity, extra containers and CPU when present; not empty lists', () => {
    const m = parseManifest(edited((d) => {
      Object.assign(podSpec(d), { affinity: { podAntiAffinity: {} }, tolerations: [] });
      podSpec(d).containers.push({ name: 'sidecar' });
      mysqld(d).resources = { requests: { cpu: '1' } };
    }));
    const affinity = 'spec.podTemplate.spec.affinity: Kubernetes scheduling does not apply locally';
    assert.ok(m.notApplyingLocally.includes(affinity));
    assert.ok(has(m.notApplyingLocally, 'spec.podTemplate.spec.containers[1]: only mysqld runs locally'));
    assert.ok(has(m.notApplyingLocally, 'spec.podTemplate.spec.containers[0].resources.requests.cpu: '));
    assert.ok(!has(m.notApplyingLocally, 'spec.podTemplate.spec.tolerations'), 'an empty list is not reported');
  });
});

describe('checkUpdate', () => {
  const base = parseManifest(defaultManifest({})).spec;
  const restore: RestoreSpec = {
    sourceName: 's', sourceNamespace: 'ns', restorePoint: '2021-05-26T12:34:56Z',
    jobConfig: { threads: 4, env: { AWS_SECRET_ACCESS_KEY: 'a' }, bucketConfig: {
      bucketName: 'b', usePathStyle: false, backendType: 's3' } },
  };
  const update = (prev: Partial<ClusterSpec>, next: Partial<ClusterSpec>) => () =>
    checkUpdate({ ...base, ...prev }, { ...base, ...next });

  it('accepts growth and an unchanged restore', () => {
    assert.doesNotThrow(update({ replicas: 3 }, { replicas: 5 }));
    assert.doesNotThrow(update({ restore }, { restore: structuredClone(restore) }));
  });
  it('refuses shrinking', () => {
    assert.throws(update({ replicas: 5 }, { replicas: 3 }), (e: unknown) =>
      e instanceof ManifestError && e.message.startsWith('spec.replicas: cannot shrink from 5 to 3; MOCO never'));
  });
  it('refuses adding, removing or changing restore', () => {
    const bucket = { ...restore.jobConfig, bucketConfig: { ...restore.jobConfig.bucketConfig, bucketName: 'c' } };
    for (const [a, b] of [
      [undefined, restore], [restore, undefined], [restore, { ...restore, sourceName: 't' }],
      [restore, { ...restore, restorePoint: '2021-05-26T12:34:57Z' }], [restore, { ...restore, jobConfig: bucket }],
    ]) {
      assert.throws(update({ restore: a }, { restore: b }), /spec\.restore: cannot be added, removed or changed/);
    }
  });
  it('allows new credentials in the Secret a restore refers to (the written spec.restore is unchanged)', () => {
    const rotated = { ...restore, jobConfig: { ...restore.jobConfig, env: { AWS_SECRET_ACCESS_KEY: 'b' } } };
    assert.doesNotThrow(update({ restore }, { restore: rotated }));
  });
  it('allows changing, adding and removing the BackupPolicy', () => {
    const policy = parseManifest(`${withSpec({ backupPolicyName: 'daily' })}---\n${fixture('seed-07-backup-policy-daily.yaml')}`)
      .spec.backupPolicy;
    assert.ok(policy);
    const hourly = { ...policy, schedule: '@hourly' };
    assert.doesNotThrow(update({ backupPolicyName: 'daily', backupPolicy: policy }, { backupPolicyName: 'daily', backupPolicy: hourly }));
    assert.doesNotThrow(update({}, { backupPolicyName: 'daily', backupPolicy: policy }));
    assert.doesNotThrow(update({ backupPolicyName: 'daily', backupPolicy: policy }, {}));
  });
  it('allows clearing replicationSourceSecretName but not setting or changing it', () => {
    assert.doesNotThrow(update({ replicationSourceSecretName: 'donor' }, {}));
    assert.throws(update({}, { replicationSourceSecretName: 'donor' }), /cannot be set on an existing cluster/);
    const change = update({ replicationSourceSecretName: 'a' }, { replicationSourceSecretName: 'b' });
    assert.throws(change, /cannot change from "a" to "b"/);
  });
  it('refuses another name or namespace', () => {
    assert.throws(update({}, { name: 'other' }), /metadata\.name: changed from "local" to "other"/);
    assert.throws(update({}, { namespace: 'other' }), /metadata\.namespace: changed/);
  });
});

describe('parseQuantityBytes', () => {
  const cases: [string | number, number][] = [
    ['512Mi', 536870912], ['1Gi', 1073741824], ['2G', 2e9], ['100M', 1e8], ['1.5Gi', 1610612736], ['1e9', 1e9],
    ['500M', 5e8], ['1024', 1024], [4096, 4096], ['10Ki', 10240], ['1.1G', 1.1e9], ['0.5', 1], ['100m', 1],
    ['0', 0], ['1P', 1e15], ['+3k', 3000],
  ];
  for (const [q, n] of cases) it(`${JSON.stringify(q)} = ${n}`, () => assert.equal(parseQuantityBytes(q), n));
  for (const q of ['', 'abc', '1 Gi', '1GB', '-1Gi', 'Gi', '1.2.3', '1e99', -1, Number.NaN]) {
    it(`refuses ${JSON.stringify(q)}`, () => assert.throws(() => parseQuantityBytes(q), /use for example 512Mi, 1Gi/));
  }
});

describe('the replication source Secret', () => {
  const withSecret = (data: Obj, kind = 'stringData'): string => `${withSpec({ replicationSourceSecretName: 'src' })}---\n` +
    YAML.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'src' }, [kind]: data });
  const full = { HOST: '127.0.0.1', PORT: '3307', USER: 'donor', PASSWORD: 'pw' };

  it('needs HOST, PORT, USER and PASSWORD; INIT_USER and INIT_PASSWORD are optional (MySQL needs them)', () => {
    assert.deepEqual(parseManifest(withSecret(full)).spec.replicationSource, { host: '127.0.0.1', port: 3307, user: 'donor', password: 'pw' });
    refuses(withSecret({ HOST: 'h', PORT: '3306', USER: 'u' }), 'Secret src stringData.PASSWORD: is missing or empty');
    refuses(withSecret({ ...full, HOST: '' }), 'Secret src stringData.HOST: is missing or empty');
  });

  it('refuses a port that is not 1-65535', () => {
    for (const port of ['0', '65536', 'abc', '33.5']) refuses(withSecret({ ...full, PORT: port }), `stringData.PORT: "${port}" is not a port number`);
  });

  it('decodes base64 data like any Secret, and reports keys it does not use', () => {
    const data = Object.fromEntries(Object.entries({ ...full, HSOT: 'typo' }).map(([k, v]) => [k, Buffer.from(v).toString('base64')]));
    const m = parseManifest(withSecret(data, 'data'));
    assert.equal(m.spec.replicationSource?.port, 3307);
    assert.ok(has(m.notApplyingLocally, 'Secret src stringData: key(s) HSOT are not used'));
  });
});
