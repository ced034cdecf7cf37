/**
 * The operator on the real test bed, driven through kubectl as a platform engineer drives it: installed with
 * `kubectl apply -k config/default` (only the image swapped for the test bed's), the seed documents' manifests
 * applied unchanged, the seed's 3-instance cluster becoming Healthy with one Pod per node, clients writing through
 * the primary Service and reading through the replica Service, failover on a SIGKILL of the primary's mysqld
 * container, `kubectl moco switchover` under writes, `kubectl delete pod` of the primary switching over first, the
 * controller Pod deleted mid-run without any mysqld restarting, webhook refusals, and deletion cleaning up.
 *
 * The seed's 3-instance manifest asks for cpu "10" and memory "10Gi" per mysqld, which no node of this 2-core
 * machine has: the test replaces its image with the test bed's MariaDB image and its limits with cpu "500m" and
 * memory "1Gi"; everything else is the seed's text.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import mysql from 'mysql2/promise';
import { Writer } from '../helpers/kube-writer.ts';
import { exampleDocuments, overlay, seedExample, seedExampleNames } from '../helpers/seed-examples.ts';
import YAML from 'yaml';
import {
  apply, ensureTestbed, getJson, healAfterFailover, installOperator, killContainer, kubectl, kubectlMoco, leader, secretData, serviceIP,
  teardownTestbed, waitFor, waitHealthy, type ClusterObject, type Testbed,
} from '../helpers/kube.ts';

type Obj = Record<string, unknown>;
const fixture = seedExample;
const SAMPLE = readFileSync(new URL('../../config/samples/mysqlcluster-3-instances.yaml', import.meta.url), 'utf8');

interface Pod {
  metadata: { name: string; labels?: Record<string, string>; uid: string };
  spec: { nodeName?: string };
  status: { podIP?: string; containerStatuses?: Array<{ name: string; restartCount: number }> };
}
type Cluster = ClusterObject & { status?: { state?: string } };

/** The seed's 3-instance manifest, image and resources replaced for this machine (see the file comment). */
function seedCluster(image: string, name = 'test', namespace = 'default'): string {
  return SAMPLE
    .replace('ghcr.io/cybozu-go/moco/mysql:8.4.4', image)
    .replace('cpu: "10"', 'cpu: "500m"').replace('memory: "10Gi"', 'memory: "1Gi"')
    .replace(/name: test$/m, `name: ${name}`).replace(/namespace: default$/m, `namespace: ${namespace}`)
    .replace(/- test$/m, `- ${name}`);
}

const cluster = (name: string, ns = 'default'): Promise<Cluster> => getJson<Cluster>(['mysqlcluster', name], ns);
const pods = async (name: string, ns = 'default'): Promise<Pod[]> =>
  (await getJson<{ items: Pod[] }>(['pods', '-l', `app.kubernetes.io/instance=${name}`], ns)).items;
const primaryPod = async (name: string, ns = 'default'): Promise<string | undefined> =>
  (await pods(name, ns)).find((p) => p.metadata.labels?.['moco.cybozu.com/role'] === 'primary')?.metadata.name;


/** Restart counts of every container of the cluster's Pods, by Pod UID and container (a restart or a new Pod shows). */
async function restartCounts(name: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const p of await pods(name)) for (const c of p.status.containerStatuses ?? []) out[`${p.metadata.name}/${p.metadata.uid}/${c.name}`] = c.restartCount;
  return out;
}

describe('the operator on a real Kubernetes', { timeout: 40 * 60_000 }, () => {
  let tb: Testbed;
  let writable = '';
  let primaryIP = '';

  before(async () => {
    tb = await ensureTestbed();
    await installOperator();
    // What an earlier run left (a test bed started by hand outlives test runs) goes first, Pods and claims included.
    await kubectl(['delete', 'mysqlcluster', '--all', '-n', 'default', '--timeout=180s'], { timeoutMs: 200_000 });
    await waitFor('no Pod or claim of an earlier cluster', async () =>
      (await kubectl(['get', 'pods,pvc', '-l', 'app.kubernetes.io/created-by=moco', '-o', 'name'])).trim() === '', { timeoutMs: 180_000 });
    for (const ns of ['foo', 'bar']) await kubectl(['create', 'namespace', ns]).catch(() => undefined);
  });

  after(async () => {
    for (const ns of ['foo', 'bar']) await kubectl(['delete', 'namespace', ns, '--wait=false']).catch(() => undefined);
    await kubectl(['delete', 'mysqlcluster', '--all', '-n', 'default', '--timeout=120s']).catch(() => undefined);
    await teardownTestbed();
  });

  it('accepts every example manifest of the seed documents unchanged (server-side dry run through the webhooks)', async () => {
    const base = YAML.parse(fixture('seed-01-empty-cluster.yaml')) as Obj;
    const basePolicy = YAML.parse(fixture('seed-07-backup-policy-daily.yaml')) as Obj;
    // Excerpts ("podTemplate: ..." standing for the rest) are laid over the seed's complete cluster and policy.
    const docs: Obj[] = [];
    for (const f of seedExampleNames()) {
      for (const o of exampleDocuments(seedExample(f))) {
        if (o.kind !== 'MySQLCluster' && o.kind !== 'BackupPolicy' && o.kind !== 'ConfigMap') continue;
        // The upgrade example elides `podTemplate: spec:` above its containers (its indentation shows where they go).
        const spec = o.spec as Obj | undefined;
        if (spec?.containers) {
          spec.podTemplate = { spec: { containers: spec.containers } };
          delete spec.containers;
        }
        const complete = o.kind === 'MySQLCluster' ? overlay(base, o) : o.kind === 'BackupPolicy' ? overlay(basePolicy, o) : o;
        docs.push(complete as Obj);
      }
    }
    assert.ok(docs.length >= 10, `only ${docs.length} manifests found in the seed fixtures`);
    for (const ns of new Set(docs.map((d) => ((d.metadata as Obj).namespace as string | undefined) ?? 'default'))) {
      await kubectl(['create', 'namespace', ns]).catch(() => undefined);
    }
    for (const d of docs) {
      const ns = ((d.metadata as Obj).namespace as string | undefined) ?? 'default';
      await kubectl(['apply', '--dry-run=server', '-f', '-'], { input: JSON.stringify(d), namespace: ns })
        .catch((err: Error) => assert.fail(`${String(d.kind)} ${ns}/${String((d.metadata as Obj).name)}: ${err.message}`));
    }
  });

  it('refuses bad manifests through the API server with a message that says what to fix, and changes nothing', async () => {
    const bad = seedCluster(tb.images.mysqld, 'bad').replace('replicas: 3', 'replicas: 2');
    await assert.rejects(apply(bad), /replicas/);
    const noMysqld = seedCluster(tb.images.mysqld, 'bad').replace('- name: mysqld', '- name: notmysqld');
    await assert.rejects(apply(noMysqld), /mysqld/);
    assert.equal((await kubectl(['get', 'mysqlcluster', 'bad', '--ignore-not-found'])).trim(), '');
  });

  it('runs the seed 3-instance cluster: Healthy, one Pod per node, the seed columns in kubectl get', async () => {
    await apply(fixture('seed-04-mycnf-configmap.yaml').split(/^---$/m)[0]!.replace('namespace: foo', 'namespace: default')
      .replace('innodb_buffer_pool_size: "10G"', 'innodb_buffer_pool_size: "128M"'));
    await apply(seedCluster(tb.images.mysqld).replace('spec:\n', 'spec:\n  mysqlConfigMapName: mycnf\n'));
    await waitHealthy('test');
    const ps = await pods('test');
    assert.equal(ps.length, 3);
    assert.deepEqual(new Set(ps.map((p) => p.spec.nodeName)).size, 3, 'one Pod per node (required anti-affinity)');
    const table = await kubectl(['get', 'mysqlcluster', 'test']);
    assert.match(table, /NAME\s+AVAILABLE\s+HEALTHY\s+PRIMARY\s+SYNCED REPLICAS\s+ERRANT REPLICAS\s+CLUSTERING ACTIVE\s+RECONCILE ACTIVE\s+LAST BACKUP/);
    assert.match(table, /test\s+True\s+True\s+0\s+3\s+0\s+True\s+True/);
    // The seed's PodDisruptionBudget, in the API version this server serves (policy/v1beta1 on 1.20).
    const pdb = await getJson<{ apiVersion: string; spec: { maxUnavailable: number } }>(['poddisruptionbudget', 'moco-test'], 'default');
    assert.equal(pdb.spec.maxUnavailable, 1);
    // The user's my.cnf reached mysqld.
    const r = await kubectlMoco(['mysql', 'test', '--', '-N', '-e', 'SELECT @@long_query_time']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(Number(r.stdout.trim()), 5);
  });

  it('takes writes as moco-writable through the primary Service and serves them as moco-readonly through the replica Service', async () => {
    const secret = await secretData('moco-test', 'default');
    writable = secret.WRITABLE_PASSWORD ?? '';
    assert.ok(writable && secret.READONLY_PASSWORD, 'the user Secret moco-test holds the passwords');
    primaryIP = await serviceIP('moco-test-primary');
    const w = await mysql.createConnection({ host: primaryIP, user: 'moco-writable', password: writable });
    await w.query('CREATE DATABASE IF NOT EXISTS seed');
    await w.query('CREATE TABLE IF NOT EXISTS seed.t (id INT PRIMARY KEY, v VARCHAR(20))');
    await w.query("INSERT INTO seed.t VALUES (1, 'one'), (2, 'two')");
    await w.end();
    const replicaIP = await serviceIP('moco-test-replica');
    const rows = await waitFor('the rows on a replica', async () => {
      const c = await mysql.createConnection({ host: replicaIP, user: 'moco-readonly', password: secret.READONLY_PASSWORD ?? '' });
      try {
        const [[host]] = await c.query('SELECT @@hostname AS h') as unknown as [[{ h: string }]];
        const [r] = await c.query('SELECT id, v FROM seed.t ORDER BY id');
        return (r as unknown[]).length === 2 ? { host: host.h, r } : false;
      } finally {
        await c.end();
      }
    });
    assert.notEqual(rows.host, await primaryPod('test'), 'the replica Service reached a replica');
    assert.deepEqual(rows.r, [{ id: 1, v: 'one' }, { id: 2, v: 'two' }]);
  });

  it('fails over when the primary\'s mysqld container is SIGKILLed, losing no acknowledged write', async () => {
    const w = new Writer(primaryIP, writable);
    let oldIndex: number;
    await w.prepare();
    w.start();
    try {
      await w.progress(50);
      const old = await primaryPod('test');
      assert.ok(old);
      oldIndex = Number(old.split('-').pop());
      await killContainer(old, 'mysqld');
      await waitFor('a new primary', async () => { const p = await primaryPod('test'); return p && p !== old ? p : false; }, { timeoutMs: 60_000 });
      await w.progress(50);
    } finally {
      await w.stop();
    }
    assert.deepEqual(await w.lost(), [], 'acknowledged writes lost');
    await healAfterFailover('test', oldIndex);
    const st = await waitHealthy('test');
    assert.equal(st.status?.syncedReplicas, 3);
    const events = await kubectlMoco(['events', 'test']);
    assert.match(events.stdout, /FailOver/);
  });

  it('switches over with kubectl moco switchover under writes', async () => {
    const w = new Writer(primaryIP, writable);
    w.start();
    try {
      await w.progress(30);
      const old = await primaryPod('test');
      const r = await kubectlMoco(['switchover', 'test']);
      assert.equal(r.code, 0, `${r.stdout}${r.stderr}`);
      const now = await primaryPod('test');
      assert.ok(now && now !== old, `the primary moved (was ${old}, is ${now})`);
      await w.progress(30);
    } finally {
      await w.stop();
    }
    assert.deepEqual(await w.lost(), [], 'acknowledged writes lost');
    await waitHealthy('test');
  });

  it('switches over first when the primary Pod is deleted (kubectl delete pod), losing nothing', async () => {
    const w = new Writer(primaryIP, writable);
    let deletedUid = '';
    w.start();
    try {
      await w.progress(30);
      const old = await primaryPod('test');
      assert.ok(old);
      const oldIndex = Number(old.split('-').pop());
      deletedUid = (await pods('test')).find((p) => p.metadata.name === old)?.metadata.uid ?? '';
      await kubectl(['delete', 'pod', old, '--grace-period=5', '--wait=false']);
      await waitFor('another primary', async () => {
        const c = await cluster('test');
        return c.status?.currentPrimaryIndex !== undefined && c.status.currentPrimaryIndex !== oldIndex ? true : false;
      }, { timeoutMs: 60_000 });
      await w.progress(30);
    } finally {
      await w.stop();
    }
    assert.deepEqual(await w.lost(), [], 'acknowledged writes lost');
    const events = await kubectlMoco(['events', 'test']);
    assert.match(events.stdout, /SwitchOver/);
    // The StatefulSet makes the Pod again; it rejoins as a replica.
    await waitFor('the deleted Pod back and ready', async () => {
      const ps = await pods('test');
      return ps.length === 3 && ps.every((p) => p.metadata.uid !== deletedUid && (p.status.containerStatuses ?? []).every((c) => (c as { ready?: boolean }).ready));
    }, { timeoutMs: 180_000 });
    await waitHealthy('test');
  });

  it('keeps the cluster serving when the leading controller Pod is deleted: no mysqld restarts', async () => {
    const before = await restartCounts('test');
    const w = new Writer(primaryIP, writable);
    w.start();
    try {
      await w.progress(20);
      const old = await leader();
      await kubectl(['-n', 'moco-system', 'delete', 'pod', old, '--grace-period=5']);
      await waitFor('another controller to lead', async () => { const l = await leader(); return l && l !== old ? l : false; }, { timeoutMs: 120_000 });
      await w.progress(20);
    } finally {
      await w.stop();
    }
    assert.deepEqual(await w.lost(), []);
    assert.ok(w.longestGapMs < 2000, `writes stalled for ${w.longestGapMs} ms while the controller changed`);
    assert.deepEqual(await restartCounts('test'), before, 'no mysqld or agent restarted, no Pod was replaced');
    // The new leader drives the cluster: a switchover goes through it.
    const r = await kubectlMoco(['switchover', 'test']);
    assert.equal(r.code, 0, `${r.stdout}${r.stderr}`);
    await waitHealthy('test');
  });

  it('walks the seed\'s "Set to Read Only": stop clustering, read-only for every user, then back to writable', async () => {
    assert.equal((await kubectlMoco(['stop', 'clustering', 'test'])).code, 0);
    const r = await kubectlMoco(['read-only', 'test']);
    assert.equal(r.code, 0, `${r.stdout}${r.stderr}`);
    assert.match(r.stdout, /read-only/);
    const w = await mysql.createConnection({ host: primaryIP, user: 'moco-writable', password: writable });
    await assert.rejects(w.query('INSERT INTO seed.t VALUES (3, \'three\')'), /read.only|READ.ONLY|1290/);
    await w.end();
    assert.equal((await kubectlMoco(['start', 'clustering', 'test'])).code, 0);
    await waitFor('the primary writable again', async () => {
      const c = await mysql.createConnection({ host: primaryIP, user: 'moco-writable', password: writable });
      try {
        await c.query('INSERT INTO seed.t VALUES (3, \'three\')');
        return true;
      } finally {
        await c.end();
      }
    }, { timeoutMs: 60_000 });
  });

  it('removes every object it made when the MySQLCluster is deleted', async () => {
    const owned = async (): Promise<string> => kubectl(['get', 'statefulsets,services,configmaps,secrets,pvc,pods,serviceaccounts',
      '-l', 'app.kubernetes.io/instance=test', '-o', 'name']);
    assert.notEqual((await owned()).trim(), '');
    await kubectl(['delete', 'mysqlcluster', 'test', '--timeout=180s'], { timeoutMs: 200_000 });
    await waitFor('every object of the cluster to be gone', async () => (await owned()).trim() === '', { timeoutMs: 120_000 });
    const controllerSecrets = await kubectl(['-n', 'moco-system', 'get', 'secrets', '-o', 'name']);
    assert.doesNotMatch(controllerSecrets, /default\.test/, 'the controller-side Secrets of the cluster are gone');
  });
});
