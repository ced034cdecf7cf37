/**
 * Harder failures on the real test bed, with a client writing through the primary Service all along: the primary
 * Pod force-deleted (no grace, no switchover first: a failover), the primary's whole node stopped (its kubelet,
 * containerd and containers; the API still shows its Pods Running for a while), two controllers acting at once (the
 * leader frozen past its lease while its successor switches over, then resumed), every Pod deleted at once (all come
 * back with new IPs: the replicas must follow the primary's), the agents' certificate renewed before it expires
 * (served by every agent without a restart), and an upgrade of the controller's
 * image, which must restart no mysqld and replace no Pod.
 *
 * Sized for this 2-core machine: mysqld limits cpu "500m", memory "1Gi".
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import tls from 'node:tls';
import { promisify } from 'node:util';
import { coordinatorCert } from '../../src/platform/kubernetes/certs.ts';
import { PORTS } from '../../src/platform/kubernetes/config.ts';
import { AgentClient } from '../../src/shared/agent-client.ts';
import { hasCode } from '../../src/shared/errors.ts';
import { clusterUri, issueCert } from '../../src/shared/pki.ts';
import { IDENTITIES } from '../../src/shared/tls.ts';
import { clientCredentialsFrom } from '../../src/shared/tls.ts';
import {
  apply, clusterManifest, containerPid, ensureTestbed, failNode, getJson, healAfterFailover, installOperator, kubectl, kubectlMoco, leader, nodeReady,
  secretData, serviceIP, startNode, teardownTestbed, waitFor, waitHealthy, type Testbed,
} from '../helpers/kube.ts';
import { Writer } from '../helpers/kube-writer.ts';

const run = promisify(execFile);
const NAME = 'fault';

interface Pod {
  metadata: { name: string; labels?: Record<string, string>; uid: string };
  spec: { nodeName?: string };
  status: { podIP?: string; containerStatuses?: Array<{ name: string; restartCount: number; ready?: boolean }> };
}
interface Cluster { status?: { currentPrimaryIndex?: number; syncedReplicas?: number; conditions?: Array<{ type: string; status: string }> } }

const cluster = (): Promise<Cluster> => getJson<Cluster>(['mysqlcluster', NAME], 'default');
const cond = (c: Cluster, t: string): string | undefined => c.status?.conditions?.find((x) => x.type === t)?.status;
const pods = async (): Promise<Pod[]> => (await getJson<{ items: Pod[] }>(['pods', '-l', `app.kubernetes.io/instance=${NAME}`], 'default')).items;
const primaryPod = async (): Promise<Pod | undefined> => (await pods()).find((p) => p.metadata.labels?.['moco.cybozu.com/role'] === 'primary');


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
    await waitHealthy(NAME);
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

  it('two controllers at once: a leader frozen past its lease, resumed after its successor switched over, changes nothing', async () => {
    const leaseTerm = async (): Promise<number> => Number((await kubectl(['-n', 'moco-system', 'get', 'lease', 'moco-controller-leader',
      '-o', 'jsonpath={.spec.leaseTransitions}'])).trim());
    const first = await leader();
    const firstTerm = await leaseTerm();
    const pid = await containerPid(first, 'manager', 'moco-system');
    const restartsOf = async (pod: string): Promise<number> => Number((await kubectl(['-n', 'moco-system', 'get', 'pod', pod,
      '-o', 'jsonpath={.status.containerStatuses[0].restartCount}'])).trim());
    const restartsBefore = await restartsOf(first);
    const primaryBefore = (await cluster()).status?.currentPrimaryIndex ?? 0;
    let chosen: number | undefined;
    let secondTerm = 0;
    // Frozen mid-run, as a controller stalled by its node (or a long GC pause) would be: it still believes it leads.
    process.kill(pid, 'SIGSTOP');
    try {
      const second = await waitFor('the other controller to lead', async () => {
        const h = await leader();
        return h && h !== first ? h : false;
      }, { timeoutMs: 60_000, intervalMs: 500 });
      secondTerm = await leaseTerm();
      assert.ok(secondTerm > firstTerm, `the successor ${second} leads with a higher term (${secondTerm} > ${firstTerm})`);
      // The successor acts: a switchover under writes, which gives the new primary's agent its term.
      const sw = await kubectlMoco(['switchover', NAME], { timeoutMs: 120_000 });
      assert.equal(sw.code, 0, sw.stderr);
      chosen = await newPrimary(primaryBefore);
      // What the frozen leader would send next: a state-changing call with its own term. Refused.
      const ca = await secretData('moco-controller-ca', 'moco-system');
      const cert = await coordinatorCert({ cert: ca['ca.crt'] ?? '', key: ca['ca.key'] ?? '' }, { name: NAME, namespace: 'default' });
      const ip = (await getJson<{ status: { podIP: string } }>(['pod', `moco-${NAME}-${chosen}`], 'default')).status.podIP;
      const stale = new AgentClient(`${ip}:${PORTS.agent}`,
        clientCredentialsFrom({ caCert: Buffer.from(ca['ca.crt'] ?? ''), cert: Buffer.from(cert.cert), key: Buffer.from(cert.key) }),
        { serverName: `moco-${NAME}-${chosen}.moco-${NAME}.default.svc`, term: () => secondTerm - 1 });
      try {
        await assert.rejects(stale.setReadOnly(), (err: unknown) => hasCode(err, 'FAILED_PRECONDITION') && /newer coordinator/.test(String(err)),
          'the deposed term is refused');
      } finally {
        stale.close();
      }
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    // Resumed, the old leader finds its lease gone and exits (or its liveness probe already had it restarted);
    // meanwhile nothing it still had in flight takes effect: the primary stays the successor's choice.
    await waitFor('the old leader to step down', async () => (await restartsOf(first).catch(() => restartsBefore + 1)) > restartsBefore,
      { timeoutMs: 90_000, intervalMs: 1000 });
    await w.progress(30, 60_000);
    const c = await cluster();
    assert.ok(chosen !== undefined);
    assert.equal(c.status?.currentPrimaryIndex, chosen);
    assert.equal((await primaryPod())?.metadata.name, `moco-${NAME}-${chosen}`);
    assert.equal(await leaseTerm() >= secondTerm, true);
    assert.deepEqual(await w.lost(), [], 'acknowledged writes lost');
    await waitHealthy(NAME);
  });

  it('every Pod deleted at once comes back with a new IP, and the replicas follow the primary to its new address', async () => {
    const before = await pods();
    const ipOf = (ps: Pod[], name: string): string | undefined => ps.find((p) => p.metadata.name === name)?.status.podIP;
    const uids = new Set(before.map((p) => p.metadata.uid));
    await kubectl(['delete', 'pod', '-l', `app.kubernetes.io/instance=${NAME}`, '--wait=false']);
    await waitFor('three new Pods', async () => {
      const now = await pods();
      return now.length === 3 && now.every((p) => !uids.has(p.metadata.uid) && p.status.podIP);
    }, { timeoutMs: 180_000, intervalMs: 1000 });
    await waitHealthy(NAME, { timeoutMs: 420_000 });
    const after = await pods();
    const primary = `moco-${NAME}-${(await cluster()).status?.currentPrimaryIndex ?? 0}`;
    const primaryIP = ipOf(after, primary);
    assert.ok(primaryIP);
    assert.notEqual(primaryIP, ipOf(before, primary), 'the primary came back with a new IP (else this test shows nothing)');
    const admin = (await secretData(`moco-${NAME}`, 'default')).ADMIN_PASSWORD ?? '';
    for (const p of after.filter((x) => x.metadata.name !== primary)) {
      const out = await kubectl(['exec', p.metadata.name, '-c', 'mysqld', '--', 'mariadb', '--socket=/run/mysqld.sock',
        '-u', 'moco-admin', `-p${admin}`, '-e', 'SHOW SLAVE STATUS\\G']);
      assert.match(out, new RegExp(`Master_Host: ${primaryIP.replaceAll('.', '\\.')}\\n`), `${p.metadata.name} replicates from ${primaryIP}:\n${out}`);
      assert.match(out, /Slave_IO_Running: Yes/);
    }
    await w.progress(30, 120_000);
    assert.deepEqual(await w.lost(), [], 'acknowledged writes lost');
  });

  it('renews the agents\' certificate before it expires, and every agent serves the new one without any restart', async () => {
    const before = Object.fromEntries((await pods()).map((p) => [p.metadata.name, {
      uid: p.metadata.uid, restarts: (p.status.containerStatuses ?? []).map((c) => `${c.name}:${c.restartCount}`).sort(),
    }]));
    const caData = await secretData('moco-controller-ca', 'moco-system');
    const ca = { cert: caData['ca.crt'] ?? '', key: caData['ca.key'] ?? '' };
    // A certificate 70 days into a 90-day life, as the controller issues them: due for renewal.
    const aged = await issueCert(ca, {
      commonName: IDENTITIES.agent, usage: 'both', validDays: 20, notBefore: new Date(Date.now() - 70 * 24 * 3600_000), ipAddresses: [],
      dnsNames: [`*.moco-${NAME}.default.svc`, `moco-${NAME}.default`], uris: [clusterUri('default', NAME)],
    });
    const b64 = (t: string): string => Buffer.from(t).toString('base64');
    await kubectl(['patch', 'secret', `moco-${NAME}-grpc`, '--type=merge', '-p',
      JSON.stringify({ data: { 'tls.crt': b64(aged.cert), 'tls.key': b64(aged.key) } })]);
    // The controller's periodic resync (30 s on the test bed, 10 min by default) replaces it with a fresh one.
    const renewed = await waitFor('the controller to renew the agents\' certificate', async () => {
      const cert = (await secretData(`moco-${NAME}-grpc`, 'default'))['tls.crt'];
      return cert && cert !== aged.cert && Date.parse(new X509Certificate(cert).validTo) > Date.now() + 80 * 24 * 3600_000 ? cert : false;
    }, { timeoutMs: 120_000, intervalMs: 2000 });
    const serial = new X509Certificate(renewed).serialNumber;
    // The kubelet updates the mounted Secret, and each agent serves the new certificate to new connections.
    const coordinator = await coordinatorCert(ca, { name: NAME, namespace: 'default' });
    const served = async (pod: string): Promise<string> => {
      const ip = (await getJson<{ status: { podIP: string } }>(['pod', pod], 'default')).status.podIP;
      return new Promise((resolve, reject) => {
        const socket = tls.connect({
          host: ip, port: PORTS.agent, ca: ca.cert, cert: coordinator.cert, key: coordinator.key, servername: `${pod}.moco-${NAME}.default.svc`,
          ALPNProtocols: ['h2'],
        }, () => {
          resolve(socket.getPeerX509Certificate()?.serialNumber ?? '');
          socket.end();
        });
        socket.once('error', reject);
        socket.setTimeout(5000, () => socket.destroy(new Error(`no TLS handshake with ${pod}'s agent within 5 s`)));
      });
    };
    for (const pod of Object.keys(before)) {
      await waitFor(`${pod}'s agent to serve the renewed certificate`, async () => (await served(pod)) === serial, { timeoutMs: 240_000, intervalMs: 2000 });
    }
    const afterRenewal = Object.fromEntries((await pods()).map((p) => [p.metadata.name, {
      uid: p.metadata.uid, restarts: (p.status.containerStatuses ?? []).map((c) => `${c.name}:${c.restartCount}`).sort(),
    }]));
    assert.deepEqual(afterRenewal, before, 'no Pod replaced, no container restarted');
    // The coordinator still reaches every agent: a switchover works.
    const primaryBefore = (await cluster()).status?.currentPrimaryIndex ?? 0;
    const sw = await kubectlMoco(['switchover', NAME], { timeoutMs: 120_000 });
    assert.equal(sw.code, 0, sw.stderr);
    await newPrimary(primaryBefore);
    await w.progress(30, 60_000);
    assert.deepEqual(await w.lost(), [], 'acknowledged writes lost');
    // The old primary catches up as a replica before the next test starts from a Healthy cluster.
    await waitHealthy(NAME);
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
    // The new leader judges the cluster afresh: Healthy again (a replica just switched from may still be catching up).
    await waitHealthy(NAME);
    assert.deepEqual(await w.lost(), []);
    // Back to the installed image for the next test file.
    await installOperator();
  });
});
