/**
 * Smoke test of the Kubernetes test bed (scripts/kube/): three Ready nodes; a StatefulSet of the MariaDB mysqld
 * image with required anti-affinity lands one Pod per node on bound local volumes and mariadbd answers; Pods
 * reach each other across nodes by Pod IP and through a ClusterIP Service; deleting a claim empties its volume
 * and makes it Available again; a failed node goes NotReady and comes back.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import {
  apply, ensureTestbed, failNode, getJson, kubectl, nodeReady, startNode, teardownTestbed, waitFor, type Testbed,
} from '../helpers/kube.ts';

interface Pod {
  metadata: { name: string };
  spec: { nodeName?: string };
  status: { podIP?: string; conditions?: { type: string; status: string }[] };
}
interface Pvc { spec: { volumeName?: string }; status: { phase?: string } }
interface Pv { spec: { local?: { path: string }; claimRef?: unknown }; status: { phase?: string } }

const ready = (p: Pod): boolean => p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

/** The mysqld Pods: an empty data directory is initialized, then mariadbd runs as uid 10000 on its socket in /run. */
function statefulSet(image: string): string {
  const script = [
    'set -e',
    'd=/var/lib/mysql/data',
    'if [ ! -d "$d/mysql" ]; then',
    '  mariadb-install-db --no-defaults --datadir="$d" --auth-root-authentication-method=normal --skip-test-db --force >/tmp/install.log 2>&1 || { cat /tmp/install.log; exit 1; }',
    'fi',
    `printf '%s\\n' "CREATE USER IF NOT EXISTS probe@'%';" "GRANT SELECT ON *.* TO probe@'%';" >/tmp/init.sql`,
    'exec mariadbd --no-defaults --datadir="$d" --socket=/run/mysqld.sock --pid-file=/run/mysqld.pid --port=3306 \\',
    '  --bind-address=0.0.0.0 --skip-name-resolve --innodb-buffer-pool-size=32M --performance-schema=OFF --init-file=/tmp/init.sql',
  ].join('\n');
  return JSON.stringify({
    apiVersion: 'v1', kind: 'List', items: [
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'smoke-headless' },
        spec: { clusterIP: 'None', selector: { app: 'smoke' }, ports: [{ port: 3306 }] } },
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'smoke' },
        spec: { selector: { app: 'smoke' }, ports: [{ port: 3306, targetPort: 3306 }] } },
      { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'smoke' },
        spec: {
          serviceName: 'smoke-headless', replicas: 3, podManagementPolicy: 'Parallel',
          selector: { matchLabels: { app: 'smoke' } },
          template: {
            metadata: { labels: { app: 'smoke' } },
            spec: {
              terminationGracePeriodSeconds: 5,
              securityContext: { runAsUser: 10000, runAsGroup: 10000, fsGroup: 10000, fsGroupChangePolicy: 'OnRootMismatch' },
              affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [
                { labelSelector: { matchLabels: { app: 'smoke' } }, topologyKey: 'kubernetes.io/hostname' }] } },
              containers: [{
                name: 'mysqld', image, imagePullPolicy: 'IfNotPresent', command: ['bash', '-c', script],
                ports: [{ containerPort: 3306 }],
                readinessProbe: { exec: { command: ['mariadb', '-uroot', '--socket=/run/mysqld.sock', '-e', 'select 1'] }, periodSeconds: 2 },
                resources: { limits: { memory: '512Mi' } },
                volumeMounts: [{ name: 'mysql-data', mountPath: '/var/lib/mysql' }, { name: 'run', mountPath: '/run' },
                  { name: 'tmp', mountPath: '/tmp' }],
              }],
              volumes: [{ name: 'run', emptyDir: {} }, { name: 'tmp', emptyDir: {} }],
            },
          },
          volumeClaimTemplates: [{ metadata: { name: 'mysql-data' },
            spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
        } },
    ],
  });
}

describe('Kubernetes test bed', { timeout: 900_000 }, () => {
  let tb: Testbed;
  const ns = `smoke-${randomBytes(3).toString('hex')}`;
  const pods = async (): Promise<Pod[]> => (await getJson<{ items: Pod[] }>(['pods', '-l', 'app=smoke'], ns)).items;
  const sql = (pod: string, args: string[]): Promise<string> =>
    kubectl(['exec', pod, '--', 'mariadb', '-N', '-B', ...args], { namespace: ns });

  before(async () => {
    tb = await ensureTestbed();
    await kubectl(['create', 'namespace', ns]);
  });

  after(async () => {
    try {
      if (tb) {
        // A node this file failed comes back first, or the namespace's Pods on it could never be deleted.
        for (const n of tb.nodes) if ((await nodeReady(n).catch(() => '')) !== 'True') await startNode(n);
        // Deleting the namespace deletes the claims; their volumes are emptied and made Available again.
        await kubectl(['delete', 'namespace', ns, '--wait=true'], { timeoutMs: 300_000 }).catch((err) => {
          process.stderr.write(`# cleanup: ${String(err)}\n`);
        });
        await waitFor('every local volume to be Available again', async () => {
          const pvs = await getJson<{ items: Pv[] }>(['pv', '-l', 'moco-testbed/local-volume=true']);
          return pvs.items.every((pv) => pv.status.phase === 'Available');
        }, { timeoutMs: 60_000 });
      }
    } finally {
      await teardownTestbed();
    }
  });

  it('has three Ready nodes', async () => {
    assert.deepEqual(tb.nodes, ['node-a', 'node-b', 'node-c']);
    for (const n of tb.nodes) assert.equal(await nodeReady(n), 'True', `${n} Ready`);
  });

  it('runs a StatefulSet of mysqld Pods, one per node on bound local volumes, and mariadbd answers', async () => {
    const t0 = Date.now();
    await apply(statefulSet(tb.images.mysqld), ns);
    const ps = await waitFor('3 Ready mysqld Pods', async () => {
      const all = await pods();
      return all.length === 3 && all.every(ready) && all;
    }, { timeoutMs: 240_000, intervalMs: 1000 });
    process.stdout.write(`# StatefulSet 3/3 Ready ${((Date.now() - t0) / 1000).toFixed(1)} s after apply\n`);
    assert.deepEqual(ps.map((p) => p.spec.nodeName).sort(), ['node-a', 'node-b', 'node-c'], 'one Pod per node');
    for (const p of ps) {
      const pvc = await getJson<Pvc>(['pvc', `mysql-data-${p.metadata.name}`], ns);
      assert.equal(pvc.status.phase, 'Bound');
      const pv = await getJson<Pv & { spec: { nodeAffinity: unknown } }>(['pv', pvc.spec.volumeName!]);
      assert.match(JSON.stringify(pv.spec.nodeAffinity), new RegExp(`"${p.spec.nodeName}"`), 'the volume is on the Pod\'s node');
      assert.equal((await sql(p.metadata.name, ['-uroot', '--socket=/run/mysqld.sock', '-e', 'select 1'])).trim(), '1');
      assert.equal((await kubectl(['exec', p.metadata.name, '--', 'id', '-u'], { namespace: ns })).trim(), '10000');
    }
  });

  it('lets a Pod reach a Pod on another node by Pod IP and through a ClusterIP Service', async () => {
    const ps = await pods();
    const a = ps.find((p) => p.spec.nodeName === 'node-a')!;
    const b = ps.find((p) => p.spec.nodeName === 'node-b')!;
    const host = (await sql(a.metadata.name, ['-uprobe', '-h', b.status.podIP!, '-e', 'select @@hostname'])).trim();
    assert.equal(host, b.metadata.name);
    const clusterIP = (await kubectl(['get', 'svc', 'smoke', '-o', 'jsonpath={.spec.clusterIP}'], { namespace: ns })).trim();
    const seen = new Set<string>();
    for (let i = 0; i < 12 && seen.size < 2; i++) {
      seen.add((await sql(a.metadata.name, ['-uprobe', '-h', clusterIP, '-e', 'select @@hostname'])).trim());
    }
    assert.ok([...seen].every((h) => ps.some((p) => p.metadata.name === h)), `answers through ${clusterIP}: ${[...seen]}`);
    assert.ok(seen.size >= 2, `the Service spreads connections over its Pods: ${[...seen]}`);
  });

  it('empties a local volume and makes it Available again when its claim is deleted', async () => {
    const pvc = await getJson<Pvc>(['pvc', 'mysql-data-smoke-2'], ns);
    const pvName = pvc.spec.volumeName!;
    const dir = (await getJson<Pv>(['pv', pvName])).spec.local!.path;
    assert.ok(existsSync(`${dir}/data/mysql`), `the volume ${dir} holds a data directory`);
    await kubectl(['scale', 'statefulset', 'smoke', '--replicas=2'], { namespace: ns });
    await waitFor('Pod smoke-2 to be gone', async () => !(await pods()).some((p) => p.metadata.name === 'smoke-2'),
      { timeoutMs: 120_000 });
    const t0 = Date.now();
    await kubectl(['delete', 'pvc', 'mysql-data-smoke-2', '--wait=true'], { namespace: ns });
    const pv = await waitFor(`${pvName} Available`, async () => {
      const v = await getJson<Pv>(['pv', pvName]);
      return v.status.phase === 'Available' && v;
    }, { timeoutMs: 60_000 });
    process.stdout.write(`# ${pvName} Available again ${((Date.now() - t0) / 1000).toFixed(1)} s after the claim was deleted\n`);
    assert.equal(pv.spec.claimRef, undefined);
    assert.deepEqual(readdirSync(dir), [], 'the volume is empty');
  });

  it('a failed node goes NotReady and comes back with its Pod (fail-node.sh, start-node.sh)', async () => {
    // The node of smoke-0: the scheduler placed the Pods, and smoke-2 is gone since the test above.
    const node = (await pods()).find((p) => p.metadata.name === 'smoke-0')!.spec.nodeName!;
    const t0 = Date.now();
    await failNode(node);
    await waitFor(`${node} NotReady`, async () => (await nodeReady(node)) !== 'True', { timeoutMs: 90_000 });
    process.stdout.write(`# ${node} NotReady ${((Date.now() - t0) / 1000).toFixed(1)} s after it failed\n`);
    const others = (await pods()).filter((p) => p.spec.nodeName !== node);
    assert.ok(others.length > 0 && others.every(ready), 'the Pods on the other nodes stay Ready');
    const t1 = Date.now();
    await startNode(node);
    await waitFor(`smoke-0 Ready again on ${node}`, async () => {
      const p = (await pods()).find((x) => x.metadata.name === 'smoke-0');
      return p !== undefined && p.spec.nodeName === node && ready(p);
    }, { timeoutMs: 180_000, intervalMs: 1000 });
    process.stdout.write(`# ${node} and its Pod Ready ${((Date.now() - t1) / 1000).toFixed(1)} s after start-node.sh\n`);
    assert.equal((await sql('smoke-0', ['-uroot', '--socket=/run/mysqld.sock', '-e', 'select 1'])).trim(), '1');
  });
});
