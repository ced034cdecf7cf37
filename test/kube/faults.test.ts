/**
 * Harder failures on the real test bed, with a client writing through the primary Service all along: the primary
 * Pod force-deleted (no grace, no switchover first: a failover), the primary's whole node stopped (its kubelet,
 * containerd and containers; the API still shows its Pods Running for a while), and an upgrade of the controller's
 * image, which must restart no mysqld and replace no Pod.
 *
 * Sized for this 2-core machine: mysqld limits cpu "500m", memory "1Gi".
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import {
  apply, clusterManifest, ensureTestbed, failNode, getJson, healAfterFailover, installOperator, kubectl, nodeReady, secretData, serviceIP, startNode,
  teardownTestbed, waitFor, type Testbed,
} from '../helpers/kube.ts';
import { Writer } from '../helpers/kube-writer.ts';

const run = promisify(execFile);
const NAME = 'fault';

interface Pod {
  metadata: { name: string; labels?: Record<string, string>; uid: string };
  spec: { nodeName?: string };
  status: { containerStatuses?: Array<{ name: string; restartCount: number; ready?: boolean }> };
}
interface Cluster { status?: { currentPrimaryIndex?: number; syncedReplicas?: number; conditions?: Array<{ type: string; status: string }> } }

const cluster = (): Promise<Cluster> => getJson<Cluster>(['mysqlcluster', NAME], 'default');
const cond = (c: Cluster, t: string): string | undefined => c.status?.conditions?.find((x) => x.type === t)?.status;
const pods = async (): Promise<Pod[]> => (await getJson<{ items: Pod[] }>(['pods', '-l', `app.kubernetes.io/instance=${NAME}`], 'default')).items;
const primaryPod = async (): Promise<Pod | undefined> => (await pods()).find((p) => p.metadata.labels?.['moco.cybozu.com/role'] === 'primary');

async function waitHealthy(timeoutMs = 300_000): Promise<void> {
  await waitFor(`${NAME} Healthy`, async () => {
    const c = await cluster();
    return cond(c, 'Healthy') === 'True' && c.status?.syncedReplicas === 3;
  }, { timeoutMs, intervalMs: 1000 });
}

/** Waits for a primary other than `old` (by Pod name) and returns it. */
async function newPrimary(oldIndex: number, timeoutMs = 90_000): Promise<number> {
  return waitFor('a new primary', async () => {
    const c = await cluster();
    const i = c.status?.currentPrimaryIndex;
    return i !== undefined && i !== oldIndex && cond(c, 'Available') === 'True' ? i : false;
  }, { timeoutMs, intervalMs: 250 });
}

describe('faults on Kubernetes', { timeout: 30 * 60_000 }, () => {
  let tb: Testbed;
  let w: Writer;

  before(async () => {
    tb = await ensureTestbed();
    await installOperator();
    await apply(clusterManifest({ name: NAME, image: tb.images.mysqld, replicas: 3, cpu: '500m', memory: '1Gi', onePerNode: true, graceSeconds: 10 }));
    await waitHealthy();
    const secret = await secretData(`moco-${NAME}`, 'default');
    w = new Writer(await serviceIP(`moco-${NAME}-primary`), secret.WRITABLE_PASSWORD ?? '');
    await w.prepare();
    w.start();
    await w.progress(30);
  });

  after(async () => {
    await w?.stop();
    for (const n of tb?.nodes ?? []) if ((await nodeReady(n).catch(() => '')) !== 'True') await startNode(n).catch(() => undefined);
    await kubectl(['delete', 'mysqlcluster', NAME, '--ignore-not-found', '--timeout=180s'], { timeoutMs: 200_000 }).catch(() => undefined);
    await teardownTestbed();
  });

  it('fails over when the primary Pod is force-deleted, losing no acknowledged write', async () => {
    const old = await primaryPod();
    assert.ok(old);
    const oldIndex = Number(old.metadata.name.split('-').pop());
    await kubectl(['delete', 'pod', old.metadata.name, '--grace-period=0', '--force']).catch(() => undefined);
    await newPrimary(oldIndex);
    await w.progress(30, 90_000);
    assert.deepEqual(await w.lost(), [], 'acknowledged writes lost');
    await healAfterFailover(NAME, oldIndex);
  });

  it('fails over when the primary\'s whole node stops, and heals when it comes back', async () => {
    const old = await primaryPod();
    assert.ok(old?.spec.nodeName);
    const oldIndex = Number(old.metadata.name.split('-').pop());
    await failNode(old.spec.nodeName);
    try {
      await newPrimary(oldIndex);
      await w.progress(30, 90_000);
      assert.deepEqual(await w.lost(), [], 'acknowledged writes lost');
    } finally {
      await startNode(old.spec.nodeName);
    }
    await healAfterFailover(NAME, oldIndex);
    assert.deepEqual(await w.lost(), [], 'acknowledged writes lost after the node came back');
  });

  it('upgrades the controller\'s image without restarting any mysqld or replacing any Pod', async () => {
    const before = Object.fromEntries((await pods()).map((p) => [p.metadata.name, {
      uid: p.metadata.uid, restarts: (p.status.containerStatuses ?? []).map((c) => `${c.name}:${c.restartCount}`).sort(),
    }]));
    // A new image: the same content under a new tag, in every node's store.
    const upgraded = `${tb.images.moco}-upgrade`;
    for (const n of tb.nodes) await run('ctr', ['-a', tb.containerdSocket(n), '-n', 'k8s.io', 'images', 'tag', '--force', tb.images.moco, upgraded]);
    const acked = w.acked.length;
    await kubectl(['-n', 'moco-system', 'set', 'image', 'deployment/moco-controller', `manager=${upgraded}`]);
    await kubectl(['-n', 'moco-system', 'rollout', 'status', 'deployment/moco-controller', '--timeout=180s'], { timeoutMs: 200_000 });
    await w.progress(30, 60_000);
    assert.ok(w.acked.length > acked);
    // The new controller leads and keeps the cluster: the StatefulSet's template names the new agent image, and its
    // partition holds every Pod where it is.
    await waitFor('the StatefulSet to name the new agent image', async () => (await kubectl(['get', 'statefulset', `moco-${NAME}`,
      '-o', 'jsonpath={.spec.template.spec.containers[?(@.name=="agent")].image}'])).trim() === upgraded, { timeoutMs: 120_000 });
    await new Promise((r) => setTimeout(r, 15_000));
    const afterUpgrade = Object.fromEntries((await pods()).map((p) => [p.metadata.name, {
      uid: p.metadata.uid, restarts: (p.status.containerStatuses ?? []).map((c) => `${c.name}:${c.restartCount}`).sort(),
    }]));
    assert.deepEqual(afterUpgrade, before, 'no Pod replaced, no container restarted');
    assert.equal(cond(await cluster(), 'Healthy'), 'True');
    assert.deepEqual(await w.lost(), []);
    // Back to the installed image for the next test file.
    await installOperator();
  });
});
