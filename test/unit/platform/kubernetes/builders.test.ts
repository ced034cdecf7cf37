/**
 * The objects a MySQLCluster becomes on Kubernetes, built by pure functions from the seed documents' manifests:
 * named cases, as decide's table tests are.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import YAML from 'yaml';
import { checkCluster } from '../../../../src/api/mysqlcluster.ts';
import { Checker } from '../../../../src/api/checker.ts';
import type { ClusterSpec } from '../../../../src/api/spec.ts';
import { bootstrapSecret, clientConfigSecret, myCnfConfigMap, passwordSecret } from '../../../../src/platform/kubernetes/config.ts';
import { ROLE_LABEL } from '../../../../src/platform/kubernetes/names.ts';
import { ownerRef, type Json } from '../../../../src/platform/kubernetes/objects.ts';
import { podDisruptionBudget, services } from '../../../../src/platform/kubernetes/services.ts';
import { AGENT_RESOURCES, statefulSet, SYSTEM_VOLUMES } from '../../../../src/platform/kubernetes/statefulset.ts';
import { PASSWORD_KEYS, type Passwords } from '../../../../src/shared/accounts.ts';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const FIXTURES = new URL('../fixtures/', import.meta.url);
const seed = (name: string): Obj => YAML.parse(readFileSync(new URL(name, FIXTURES), 'utf8')) as Obj;

/** A MySQLCluster as the API server would hand it over (with a uid), and its normalized spec. */
function cluster(edit: (c: Obj) => void = () => undefined): { raw: Obj; spec: ClusterSpec } {
  const raw = seed('seed-01-empty-cluster.yaml');
  raw.metadata.uid = 'uid-1';
  edit(raw);
  const c = new Checker();
  const spec = checkCluster(c, raw);
  assert.deepEqual(c.problems, []);
  return { raw, spec };
}

const owner = ownerRef({ apiVersion: 'moco.cybozu.com/v1beta2', kind: 'MySQLCluster', metadata: { name: 'test', uid: 'uid-1' } });
const options = { agentImage: 'localhost/moco:dev', myCnfConfigMap: 'moco-test.0011aabb' };
const sts = (edit?: (c: Obj) => void): Obj => {
  const { raw, spec } = cluster(edit);
  return statefulSet(spec, raw as Json, owner, options) as Obj;
};
const container = (s: Obj, name: string): Obj => s.spec.template.spec.containers.find((c: Obj) => c.name === name);
const passwords = Object.fromEntries(PASSWORD_KEYS.map((k) => [k, `pw-${k}`])) as Passwords;

describe('statefulSet', () => {
  it("the seed's 3-instance manifest: its required anti-affinity, mysqld then agent, the init containers, Guaranteed resources", () => {
    const s = sts();
    assert.equal(s.metadata.name, 'moco-test');
    assert.deepEqual(s.metadata.ownerReferences, [owner]);
    assert.equal(s.spec.replicas, 3);
    assert.deepEqual(s.spec.updateStrategy, { type: 'RollingUpdate', rollingUpdate: { partition: 3 } }, 'day one holds the partition at replicas');
    assert.equal(s.spec.serviceName, 'moco-test');
    assert.equal(s.spec.podManagementPolicy, 'Parallel');
    const ps = s.spec.template.spec;
    assert.ok(ps.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution, "the user's affinity is kept");
    assert.equal(ps.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution, undefined);
    assert.deepEqual(ps.containers.map((c: Obj) => c.name), ['mysqld', 'agent']);
    assert.deepEqual(ps.initContainers.map((c: Obj) => c.name), ['copy-moco-init', 'moco-init']);
    assert.equal(ps.initContainers[1].image, 'ghcr.io/cybozu-go/moco/mysql:8.4.4', 'moco-init runs in the mysqld image');
    assert.equal(ps.initContainers[0].image, 'localhost/moco:dev');
    const mysqld = container(s, 'mysqld');
    assert.deepEqual(mysqld.resources, { limits: { cpu: '10', memory: '10Gi' }, requests: { cpu: '10', memory: '10Gi' } }, 'requests default to limits');
    assert.deepEqual(mysqld.command, ['/bin/sh', '/shared/moco-run-mysqld.sh']);
    assert.deepEqual(mysqld.args, ['--defaults-file=/etc/mysql/my.cnf']);
    assert.equal(mysqld.startupProbe.failureThreshold, 360);
    assert.deepEqual(mysqld.readinessProbe.httpGet, { path: '/readyz', port: 'health', scheme: 'HTTP' });
    assert.deepEqual(mysqld.securityContext, { runAsUser: 10000, runAsGroup: 10000 });
    assert.deepEqual(container(s, 'agent').resources, AGENT_RESOURCES);
    // Sized from npm run bench:agent-resources (docs/benchmarks.md): change them with a new measurement.
    assert.deepEqual(AGENT_RESOURCES, { requests: { cpu: '500m', memory: '512Mi' }, limits: { cpu: '500m', memory: '512Mi' } });
    assert.deepEqual(container(s, 'agent').args, ['serve', '--passwords-dir', '/moco-passwords', '--max-delay', '60s']);
    assert.deepEqual(ps.volumes.map((v: Obj) => v.name).sort(), [...SYSTEM_VOLUMES].filter((v) => v !== 'mysql-data').sort());
    assert.equal(ps.volumes.find((v: Obj) => v.name === 'moco-templates').configMap.name, 'moco-test.0011aabb');
    assert.deepEqual(s.spec.volumeClaimTemplates[0].spec.accessModes, ['ReadWriteOnce']);
    assert.equal(s.spec.volumeClaimTemplates[0].spec.volumeMode, 'Filesystem');
    assert.deepEqual(ps.securityContext, { fsGroup: 10000, fsGroupChangePolicy: 'OnRootMismatch' });
    assert.equal(ps.serviceAccountName, 'moco-test');
    assert.equal(ps.terminationGracePeriodSeconds, 300);
  });

  it('without an affinity: the preferred anti-affinity over the base labels', () => {
    const s = sts((c) => delete c.spec.podTemplate.spec.affinity);
    const pref = s.spec.template.spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0];
    assert.equal(pref.weight, 100);
    assert.equal(pref.podAffinityTerm.topologyKey, 'kubernetes.io/hostname');
    assert.deepEqual(pref.podAffinityTerm.labelSelector.matchExpressions.map((e: Obj) => e.key).sort(),
      ['app.kubernetes.io/created-by', 'app.kubernetes.io/instance', 'app.kubernetes.io/name']);
  });

  it('offline: no Pods', () => assert.equal(sts((c) => (c.spec.offline = true)).spec.replicas, 0));

  it("keeps the user's containers, volumes, args and probe timing; the probe handler is ours", () => {
    const s = sts((c) => {
      const ps = c.spec.podTemplate.spec;
      ps.terminationGracePeriodSeconds = 10;
      ps.volumes = [{ name: 'extra', emptyDir: {} }];
      ps.containers[0].args = ['--skip-name-resolve', '--defaults-file=/x'];
      ps.containers[0].readinessProbe = { periodSeconds: 7, exec: { command: ['true'] } };
      ps.containers.push({ name: 'sidecar', image: 'busybox', resources: { limits: { memory: '10Mi' } } });
    });
    assert.deepEqual(container(s, 'mysqld').args, ['--defaults-file=/etc/mysql/my.cnf', '--skip-name-resolve']);
    assert.deepEqual(container(s, 'mysqld').readinessProbe, { periodSeconds: 7, httpGet: { path: '/readyz', port: 'health', scheme: 'HTTP' } });
    assert.deepEqual(container(s, 'mysqld').lifecycle.preStop.exec.command, ['sleep', '5'], 'preStop fits in a short grace period');
    assert.deepEqual(container(s, 'sidecar').resources, { limits: { memory: '10Mi' }, requests: { memory: '10Mi' } });
    assert.ok(s.spec.template.spec.volumes.some((v: Obj) => v.name === 'extra'));
  });

  it('overwriteContainers replaces the resources of a system container', () => {
    const s = sts((c) => (c.spec.podTemplate.overwriteContainers = [{ name: 'agent', resources: { limits: { memory: '1Gi' } } }]));
    assert.deepEqual(container(s, 'agent').resources, { limits: { memory: '1Gi' } });
  });

  it('the server_id base reaches the init container', () => {
    const s = sts((c) => (c.spec.serverIDBase = 1000));
    const env = s.spec.template.spec.initContainers[1].env;
    assert.deepEqual(env.find((e: Obj) => e.name === 'MOCO_SERVER_ID_BASE'), { name: 'MOCO_SERVER_ID_BASE', value: '1000' });
  });
});

describe('services', () => {
  it('headless, primary and replica; templates add type, annotations and ports; selector and mysql ports are forced', () => {
    const { raw, spec } = cluster((c) => (c.spec.primaryServiceTemplate = {
      metadata: { annotations: { 'metallb.universe.tf/address-pool': 'production-public-ips' } },
      spec: { type: 'LoadBalancer', selector: { app: 'wrong' }, ports: [{ name: 'mysql', port: 1 }, { name: 'extra', port: 9999 }] },
    }));
    const [headless, primary, replica] = services(spec, raw as Json, owner) as Obj[];
    assert.deepEqual([headless?.metadata.name, primary?.metadata.name, replica?.metadata.name], ['moco-test', 'moco-test-primary', 'moco-test-replica']);
    assert.equal(headless?.spec.clusterIP, 'None');
    assert.equal(headless?.spec.publishNotReadyAddresses, true);
    assert.equal(primary?.spec.type, 'LoadBalancer');
    assert.equal(primary?.metadata.annotations['metallb.universe.tf/address-pool'], 'production-public-ips');
    assert.equal(primary?.spec.selector[ROLE_LABEL], 'primary');
    assert.equal(primary?.spec.selector.app, undefined);
    assert.deepEqual(primary?.spec.ports.map((p: Obj) => [p.name, p.port]), [['mysql', 3306], ['mysqlx', 33060], ['extra', 9999]]);
    assert.equal(replica?.spec.selector[ROLE_LABEL], 'replica');
    assert.equal(replica?.spec.type, 'ClusterIP');
  });

  it('a PodDisruptionBudget allowing floor(replicas / 2) down, only for 3 instances or more and not offline (seed)', () => {
    const pdb = (edit: (c: Obj) => void) => podDisruptionBudget(cluster(edit).spec, owner, 'policy/v1beta1') as Obj | undefined;
    const three = pdb(() => undefined);
    assert.equal(three?.apiVersion, 'policy/v1beta1');
    assert.equal(three?.metadata.name, 'moco-test');
    assert.equal(three?.spec.maxUnavailable, 1);
    assert.deepEqual(three?.spec.selector.matchLabels, { 'app.kubernetes.io/name': 'mysql', 'app.kubernetes.io/instance': 'test', 'app.kubernetes.io/created-by': 'moco' });
    assert.equal(pdb((c) => (c.spec.replicas = 5))?.spec.maxUnavailable, 2);
    assert.equal(pdb((c) => (c.spec.replicas = 1)), undefined);
    assert.equal(pdb((c) => (c.spec.offline = true)), undefined);
  });
});

describe('configuration objects', () => {
  it('my.cnf: one template per flavor, named by a hash of the text, which changes with the user settings', () => {
    const { spec } = cluster();
    const a = myCnfConfigMap(spec, owner) as Obj;
    assert.match(a.metadata.name, /^moco-test\.[0-9a-f]{8}$/);
    assert.match(a.data['mariadb.cnf'], /^\[mysqld\]/m);
    assert.match(a.data['mariadb.cnf'], /bind[-_]address\s*=\s*0\.0\.0\.0/);
    assert.notEqual(a.data['mariadb.cnf'], a.data['mysql.cnf']);
    const b = myCnfConfigMap({ ...spec, mycnf: { long_query_time: '5' } }, owner) as Obj;
    assert.notEqual(b.metadata.name, a.metadata.name);
    assert.match(b.data['mysql.cnf'], /long_query_time\s*=\s*5/);
  });

  it('passwords, client option files and the bootstrap SQL hold the passwords they are given', () => {
    const { spec } = cluster();
    const pw = passwordSecret(spec, passwords, owner) as Obj;
    assert.deepEqual(Object.keys(pw.stringData).sort(), [...PASSWORD_KEYS].sort());
    const cnf = clientConfigSecret(spec, passwords, owner) as Obj;
    assert.equal(cnf.stringData['moco-writable-my.cnf'], '[client]\nuser=moco-writable\npassword="pw-WRITABLE_PASSWORD"\nsocket=/run/mysqld.sock\n');
    assert.equal(cnf.stringData['moco-agent-my.cnf'], undefined, "the agent's own account is not handed out");
    const boot = bootstrapSecret(spec, passwords, owner) as Obj;
    assert.match(boot.stringData['bootstrap-mariadb.sql'], /IDENTIFIED BY 'pw-AGENT_PASSWORD'/);
    assert.match(boot.stringData['bootstrap-mysql.sql'], /RESET BINARY LOGS AND GTIDS;\n$/);
  });
});
