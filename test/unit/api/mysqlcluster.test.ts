/**
 * The API's own rules, as the Kubernetes webhooks will call them: validateCluster (create and update),
 * applyClusterDefaults, validateBackupPolicy. No local documents are involved: Secrets and ConfigMaps the objects
 * name are separate objects there, so they are not looked up.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import YAML from 'yaml';
import { validateBackupPolicy } from '../../../src/api/backuppolicy.ts';
import { applyClusterDefaults, validateCluster } from '../../../src/api/mysqlcluster.ts';

type Obj = Record<string, unknown>;
const FIXTURES = new URL('../platform/fixtures/', import.meta.url);
const docs = (name: string): Obj[] =>
  YAML.parseAllDocuments(readFileSync(new URL(name, FIXTURES), 'utf8')).map((d) => d.toJS() as Obj).filter(Boolean);

const cluster = (spec: Obj = {}): Obj => ({
  apiVersion: 'moco.cybozu.com/v1beta2', kind: 'MySQLCluster', metadata: { name: 'test', namespace: 'default' },
  spec: {
    replicas: 3,
    podTemplate: { spec: { containers: [{ name: 'mysqld', image: 'ghcr.io/cybozu-go/moco/mysql:8.4.4' }] } },
    volumeClaimTemplates: [{ metadata: { name: 'mysql-data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
    ...spec,
  },
});

describe('validateCluster', () => {
  it('accepts every complete MySQLCluster of the seed documents as it stands', () => {
    const complete = readdirSync(FIXTURES).filter((f) => f.endsWith('.yaml'))
      .flatMap((f) => docs(f).map((d) => [f, d] as const))
      .filter(([, d]) => d.kind === 'MySQLCluster' && JSON.stringify(d).includes('mysql-data'));
    assert.ok(complete.length >= 2, `found ${complete.length} complete examples`);
    for (const [f, d] of complete) assert.deepEqual(validateCluster(d), [], f);
  });

  it('does not look up the Secrets and ConfigMaps a cluster names', () => {
    const restore = {
      sourceName: 's', sourceNamespace: 'ns', restorePoint: '2021-05-26T12:34:56Z',
      jobConfig: {
        serviceAccountName: 'sa', workVolume: { emptyDir: {} }, bucketConfig: { bucketName: '$(BUCKET)' },
        envFrom: [{ secretRef: { name: 'creds' } }], env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'other', key: 'k' } } }],
      },
    };
    assert.deepEqual(validateCluster(cluster({ replicationSourceSecretName: 'donor', mysqlConfigMapName: 'mycnf', backupPolicyName: 'daily', restore })), []);
  });

  it('refuses what the webhook refuses, each problem with its path', () => {
    const problems = validateCluster(cluster({ replicas: 4, serverIDBase: -1, logRotationSchedule: 'nope' }));
    assert.ok(problems.some((p) => p.startsWith('spec.replicas: 4 is even; use a positive odd number')), problems.join('\n'));
    assert.ok(problems.some((p) => p.startsWith('spec.serverIDBase: -1 is too small')), problems.join('\n'));
    assert.ok(problems.some((p) => p.startsWith('spec.logRotationSchedule: "nope" is not a cron schedule')), problems.join('\n'));
    assert.deepEqual(validateCluster({ ...cluster(), metadata: { name: 'a'.repeat(41) } }),
      [`metadata.name: "${'a'.repeat(41)}" has 41 characters; shorten it to at most 40`]);
    assert.deepEqual(validateCluster('x'), ['expected a MySQLCluster object']);
  });

  it('applies the update rules against the old object', () => {
    const old = cluster({ replicas: 3 });
    assert.deepEqual(validateCluster(cluster({ replicas: 5 }), old), []);
    assert.deepEqual(validateCluster(cluster({ replicas: 1 }), old),
      ['spec.replicas: cannot shrink from 3 to 1; MOCO never scales down, keep 3 or create a new cluster']);
    assert.deepEqual(validateCluster(cluster({ replicationSourceSecretName: 'donor' }), old),
      ['spec.replicationSourceSecretName: cannot be set on an existing cluster; create a new cluster that replicates from the source']);
    assert.deepEqual(validateCluster(cluster(), cluster({ replicationSourceSecretName: 'donor' })), [], 'clearing it is allowed');
  });
});

describe('applyClusterDefaults', () => {
  it('sets the CRD defaults without touching what is set, and a server_id base only at creation', () => {
    const raw = cluster({ replicas: undefined, maxDelaySeconds: 30 });
    const out = applyClusterDefaults(raw) as { spec: Obj };
    assert.deepEqual([out.spec.replicas, out.spec.maxDelaySeconds, out.spec.maxDelaySecondsForPodDeletion, out.spec.startupWaitSeconds],
      [1, 30, 0, 3600]);
    assert.equal(out.spec.serverIDBase, undefined);
    assert.equal((raw.spec as Obj).replicas, undefined, 'the input is not changed');
    const created = applyClusterDefaults(raw, { creating: true, pickServerIdBase: () => 42 }) as { spec: Obj };
    assert.equal(created.spec.serverIDBase, 42);
    const kept = applyClusterDefaults(cluster({ serverIDBase: 7 }), { creating: true, pickServerIdBase: () => 42 }) as { spec: Obj };
    assert.equal(kept.spec.serverIDBase, 7);
    const random = applyClusterDefaults(cluster(), { creating: true }) as { spec: { serverIDBase: number } };
    assert.ok(random.spec.serverIDBase >= 1 && random.spec.serverIDBase <= 2 ** 30);
  });
});

describe('validateBackupPolicy', () => {
  it("accepts the seed's policies, with $(VAR) from envFrom left to the job", () => {
    const policies = readdirSync(FIXTURES).filter((f) => f.endsWith('.yaml')).flatMap(docs)
      .filter((d) => d.kind === 'BackupPolicy' && (d.spec as Obj | undefined)?.schedule);
    assert.ok(policies.length >= 1);
    for (const p of policies) assert.deepEqual(validateBackupPolicy(p), []);
  });

  it('refuses a bad schedule and a missing bucket name', () => {
    const problems = validateBackupPolicy({
      apiVersion: 'moco.cybozu.com/v1beta2', kind: 'BackupPolicy', metadata: { name: 'p' },
      spec: { schedule: '61 * * * *', jobConfig: { serviceAccountName: 'sa', workVolume: {}, bucketConfig: {} } },
    });
    assert.ok(problems.some((p) => p.includes('spec.schedule: "61 * * * *" is not a cron schedule')), problems.join('\n'));
    assert.ok(problems.some((p) => p.includes('bucketConfig.bucketName: is required but missing')), problems.join('\n'));
  });
});
