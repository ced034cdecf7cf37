/** The admission webhooks as the API server calls them: AdmissionReview in, AdmissionReview out. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import YAML from 'yaml';
import { review, reviewResponse, WEBHOOK_PATHS } from '../../../../src/platform/kubernetes/webhook.ts';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const seed = (name: string): Obj => YAML.parse(readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8')) as Obj;
const patchOf = (r: { patch?: string }): Obj[] => JSON.parse(Buffer.from(r.patch ?? '', 'base64').toString()) as Obj[];

describe('MySQLCluster defaulting', () => {
  it('on create: the CRD defaults, a server_id base, the finalizer, as one JSON patch', () => {
    const c = seed('seed-01-empty-cluster.yaml');
    delete c.spec.replicas;
    const r = review(WEBHOOK_PATHS.mutateCluster, { uid: 'u1', operation: 'CREATE', object: c }, { pickServerIdBase: () => 77 });
    assert.equal(r.allowed, true);
    assert.equal(r.patchType, 'JSONPatch');
    const ops = patchOf(r);
    const spec = ops.find((o) => o.path === '/spec')?.value as Obj;
    assert.deepEqual([spec.replicas, spec.serverIDBase, spec.maxDelaySeconds, spec.startupWaitSeconds], [1, 77, 60, 3600]);
    assert.deepEqual(ops.find((o) => o.path === '/metadata/finalizers'), { op: 'add', path: '/metadata/finalizers', value: ['moco.cybozu.com/mysqlcluster'] });
  });

  it('on update: nothing changes (the server_id base is fixed at creation)', () => {
    const c = seed('seed-01-empty-cluster.yaml');
    assert.deepEqual(review(WEBHOOK_PATHS.mutateCluster, { uid: 'u2', operation: 'UPDATE', object: c, oldObject: c }), { uid: 'u2', allowed: true });
  });
});

describe('MySQLCluster validation', () => {
  it('allows the seed example and refuses what the rules refuse, saying what to fix', () => {
    const c = seed('seed-01-empty-cluster.yaml');
    assert.equal(review(WEBHOOK_PATHS.validateCluster, { uid: 'a', operation: 'CREATE', object: c }).allowed, true);
    const bad = structuredClone(c);
    bad.spec.replicas = 2;
    bad.spec.podTemplate.spec.containers[0].imag = bad.spec.podTemplate.spec.containers[0].image;
    const r = review(WEBHOOK_PATHS.validateCluster, { uid: 'b', operation: 'CREATE', object: bad });
    assert.equal(r.allowed, false);
    assert.equal(r.status?.code, 403);
    assert.match(r.status?.message ?? '', /^MySQLCluster test is not valid; nothing was changed:\n/);
    assert.match(r.status?.message ?? '', /spec\.replicas: 2 is even/);
    assert.match(r.status?.message ?? '', /spec\.podTemplate\.spec\.containers\[0\]\.imag: unknown field; did you mean "image"\?/);
  });

  it('applies the update rules, and lets a cluster being deleted lose its finalizer', () => {
    const old = seed('seed-01-empty-cluster.yaml');
    const shrunk = structuredClone(old);
    shrunk.spec.replicas = 1;
    assert.match(review(WEBHOOK_PATHS.validateCluster, { uid: 'c', operation: 'UPDATE', object: shrunk, oldObject: old }).status?.message ?? '',
      /cannot shrink from 3 to 1/);
    shrunk.metadata.deletionTimestamp = '2026-01-01T00:00:00Z';
    assert.equal(review(WEBHOOK_PATHS.validateCluster, { uid: 'd', operation: 'UPDATE', object: shrunk, oldObject: old }).allowed, true);
  });
});

describe('BackupPolicy validation and the review envelope', () => {
  it('validates a policy and wraps the answer in an AdmissionReview', () => {
    const policy = seed('seed-07-backup-policy-daily.yaml');
    const out = reviewResponse({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { uid: 'p', operation: 'CREATE', object: policy } },
      WEBHOOK_PATHS.validateBackupPolicy);
    assert.deepEqual(out, { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: 'p', allowed: true } });
    policy.spec.schedule = 'never';
    assert.equal(review(WEBHOOK_PATHS.validateBackupPolicy, { uid: 'q', operation: 'UPDATE', object: policy }).allowed, false);
    assert.equal((reviewResponse({}, WEBHOOK_PATHS.validateCluster).response as Obj).allowed, false);
  });
});
