/**
 * Growing a cluster on the real test bed, and the seed's errant-replica workflow: a 1-instance cluster with data is
 * scaled to 3, then 5 (new instances are cloned from the primary and replicate); a transaction written directly on a
 * replica makes it errant (it loses its role label, so no Service sends clients to it); deleting its claim and its
 * Pod (the seed's re-initialization) brings it back by clone, and the cluster is Healthy with no errant replica.
 *
 * Sized for this 2-core machine: mysqld limits cpu "200m", memory "512Mi" (the seed's examples ask for more).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import mysql from 'mysql2/promise';
import {
  apply, ensureTestbed, getJson, installOperator, kubectl, secretData, serviceIP, isHealthy, teardownTestbed, waitFor, type ClusterObject, type Testbed,
} from '../helpers/kube.ts';

interface Pod { metadata: { name: string; labels?: Record<string, string>; uid: string } }
type Cluster = ClusterObject;

const NAME = 'scale';

function manifest(image: string, replicas: number): string {
  return `apiVersion: moco.cybozu.com/v1beta2
kind: MySQLCluster
metadata:
  namespace: default
  name: ${NAME}
spec:
  replicas: ${replicas}
  podTemplate:
    spec:
      containers:
      - name: mysqld
        image: ${image}
        resources:
          limits:
            cpu: "200m"
            memory: "512Mi"
  volumeClaimTemplates:
  - metadata:
      name: mysql-data
    spec:
      accessModes: [ "ReadWriteOnce" ]
      resources:
        requests:
          storage: 1Gi
`;
}

const cluster = (): Promise<Cluster> => getJson<Cluster>(['mysqlcluster', NAME], 'default');
const pods = async (): Promise<Pod[]> => (await getJson<{ items: Pod[] }>(['pods', '-l', `app.kubernetes.io/instance=${NAME}`], 'default')).items;

async function waitSynced(n: number, timeoutMs = 420_000): Promise<Cluster> {
  return waitFor(`${NAME} Healthy with ${n} synced replicas`, async () => {
    const c = await cluster();
    return isHealthy(c) && c.spec?.replicas === n && (c.status?.errantReplicas ?? 0) === 0 ? c : false;
  }, { timeoutMs, intervalMs: 2000 });
}

/** Rows of kube.s on one instance, read as moco-readonly through `kubectl exec` in its mysqld container. */
async function rowsOn(index: number, password: string): Promise<number> {
  const out = await kubectl(['exec', `moco-${NAME}-${index}`, '-c', 'mysqld', '--', 'mariadb', '--socket=/run/mysqld.sock',
    '-u', 'moco-readonly', `-p${password}`, '-N', '-e', 'SELECT COUNT(*) FROM kube.s']);
  return Number(out.trim());
}

describe('scaling out with clone, and the errant-replica workflow', { timeout: 30 * 60_000 }, () => {
  let tb: Testbed;
  let secret: Record<string, string>;

  before(async () => {
    tb = await ensureTestbed();
    await installOperator();
  });

  after(async () => {
    await kubectl(['delete', 'mysqlcluster', NAME, '--ignore-not-found', '--timeout=180s'], { timeoutMs: 200_000 }).catch(() => undefined);
    await teardownTestbed();
  });

  it('scales 1 -> 3 -> 5: new instances are cloned from the primary and hold its data', async () => {
    await apply(manifest(tb.images.mysqld, 1));
    await waitSynced(1);
    secret = await secretData(`moco-${NAME}`, 'default');
    const c = await mysql.createConnection({ host: await serviceIP(`moco-${NAME}-primary`), user: 'moco-writable', password: secret.WRITABLE_PASSWORD ?? '' });
    await c.query('CREATE DATABASE IF NOT EXISTS kube');
    await c.query('CREATE TABLE IF NOT EXISTS kube.s (id INT PRIMARY KEY AUTO_INCREMENT, pad VARCHAR(200))');
    await c.query("INSERT INTO kube.s (pad) SELECT REPEAT('x', 200) FROM information_schema.columns LIMIT 500");
    await c.end();

    assert.equal((await kubectl(['get', 'poddisruptionbudget', `moco-${NAME}`, '--ignore-not-found', '-o', 'name'])).trim(), '', 'no PDB for 1 instance');
    await apply(manifest(tb.images.mysqld, 3));
    await waitSynced(3);
    const pdb = await getJson<{ spec: { maxUnavailable: number } }>(['poddisruptionbudget', `moco-${NAME}`], 'default');
    assert.equal(pdb.spec.maxUnavailable, 1);
    await apply(manifest(tb.images.mysqld, 5));
    await waitSynced(5);
    await waitFor('the PDB to allow 2 down', async () =>
      (await getJson<{ spec: { maxUnavailable: number } }>(['poddisruptionbudget', `moco-${NAME}`], 'default')).spec.maxUnavailable === 2);
    const ro = secret.READONLY_PASSWORD ?? '';
    for (let i = 0; i < 5; i++) assert.equal(await rowsOn(i, ro), 500, `instance ${i} holds the primary's rows`);
    const events = await kubectl(['get', 'events', '--field-selector', `involvedObject.name=${NAME}`, '-o', 'jsonpath={.items[*].reason}']);
    assert.match(events, /InitCloned|Cloned/);
  });

  it('an errant replica loses its role label; deleting its claim and Pod re-initializes it by clone', async () => {
    const admin = await secretData(`mysql-default.${NAME}`, 'moco-system');
    const primary = (await pods()).find((p) => p.metadata.labels?.['moco.cybozu.com/role'] === 'primary')?.metadata.name;
    const victim = [...Array(5).keys()].map((i) => `moco-${NAME}-${i}`).find((n) => n !== primary) as string;
    // A transaction written on the replica itself, as the seed's test does (read_only lifted for a moment).
    await kubectl(['exec', victim, '-c', 'mysqld', '--', 'mariadb', '--socket=/run/mysqld.sock', '-u', 'moco-agent',
      `-p${admin.AGENT_PASSWORD}`, '-e', 'SET GLOBAL read_only=0; CREATE DATABASE errant; SET GLOBAL read_only=1']);
    const index = Number(victim.split('-').pop());
    await waitFor('the replica to be errant and lose its role label', async () => {
      const c = await cluster();
      const p = (await pods()).find((x) => x.metadata.name === victim);
      return c.status?.errantReplicas === 1 && c.status.errantReplicaList?.includes(index) && !p?.metadata.labels?.['moco.cybozu.com/role'];
    }, { timeoutMs: 120_000 });

    const uid = (await pods()).find((p) => p.metadata.name === victim)?.metadata.uid;
    await kubectl(['delete', 'pvc', `mysql-data-${victim}`, '--wait=false']);
    await kubectl(['delete', 'pod', victim, '--grace-period=5']);
    await waitFor('a new Pod', async () => (await pods()).some((p) => p.metadata.name === victim && p.metadata.uid !== uid), { timeoutMs: 120_000 });
    await waitSynced(5);
    assert.equal(await rowsOn(index, secret.READONLY_PASSWORD ?? ''), 500, 'the re-initialized replica holds the data again');
    const dbs = await kubectl(['exec', victim, '-c', 'mysqld', '--', 'mariadb', '--socket=/run/mysqld.sock', '-u', 'moco-readonly',
      `-p${secret.READONLY_PASSWORD}`, '-N', '-e', 'SHOW DATABASES']);
    assert.doesNotMatch(dbs, /errant/, 'the errant transaction is gone');
  });
});
