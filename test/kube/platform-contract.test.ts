/**
 * The platform port's contract (test/contract/platform.ts), the suite the local and in-memory platforms pass, run
 * against KubernetesPlatform on the test bed's real API server: the MySQLCluster's status subresource, its
 * annotations, role labels and the demote annotation on Pods, Pod readiness and IPs, the heartbeat Lease, Events and
 * the passwords Secret, each through the informers the controller uses.
 *
 * The test plays the controller and the kubelet itself, so no controller may act on its clusters: the operator's
 * controller is scaled to 0 and its webhook configurations removed for the duration (installOperator() puts both
 * back afterwards). Each platform gets a namespace of its own with a MySQLCluster and three Pods that no scheduler or
 * kubelet touches (schedulerName names no scheduler); the test writes their status (IP, Ready) as a kubelet would.
 * Agents are fakes given through the platform's `makeAgent` (the agents themselves are tested elsewhere).
 */
import { after, before } from 'node:test';
import { Checker } from '../../src/api/checker.ts';
import { checkCluster } from '../../src/api/mysqlcluster.ts';
import { silentLogger } from '../../src/shared/logger.ts';
import { eventsWritten } from '../../src/platform/kubernetes/events.ts';
import { Informer } from '../../src/platform/kubernetes/informer.ts';
import { connect, resourcePath, type Kube } from '../../src/platform/kubernetes/kube.ts';
import { baseLabels, CLUSTERING_STOPPED, DEMOTE, RECONCILIATION_STOPPED, names } from '../../src/platform/kubernetes/names.ts';
import { KubernetesPlatform, KubernetesStatusStore, type PodObject } from '../../src/platform/kubernetes/platform.ts';
import type { MySQLClusterObject } from '../../src/platform/kubernetes/reconciler.ts';
import { describePlatformContract, fakeAgents, type PlatformUnderTest } from '../contract/platform.ts';
import { ensureTestbed, installOperator, kubectl, teardownTestbed, waitFor, type Testbed } from '../helpers/kube.ts';

let tb: Testbed;
let operatorWasInstalled = false;
let made = 0;
const namespaces: string[] = [];
const log = silentLogger();

before(async () => {
  tb = await ensureTestbed();
  await kubectl(['apply', '-k', 'config/crd']);
  operatorWasInstalled = (await kubectl(['get', 'deployment', '-n', 'moco-system', '--ignore-not-found', '-o', 'name'])).includes('moco-controller');
  if (operatorWasInstalled) {
    await kubectl(['-n', 'moco-system', 'scale', 'deployment/moco-controller', '--replicas=0']);
    await waitFor('the controller Pods to be gone', async () =>
      (await kubectl(['-n', 'moco-system', 'get', 'pods', '-o', 'name'])).trim() === '', { timeoutMs: 120_000 });
  }
  await kubectl(['delete', '--ignore-not-found', 'mutatingwebhookconfiguration/moco-mutating-webhook-configuration',
    'validatingwebhookconfiguration/moco-validating-webhook-configuration']);
}, { timeout: 300_000 });

after(async () => {
  for (const ns of namespaces) await kubectl(['delete', 'namespace', ns, '--wait=false', '--ignore-not-found']).catch(() => undefined);
  if (operatorWasInstalled) await installOperator();
  await teardownTestbed();
}, { timeout: 400_000 });

const rvNumber = (o: { metadata: { resourceVersion?: string } } | undefined): number => Number(o?.metadata.resourceVersion ?? 0);

/** Waits until `informer` shows `name` at `rv` or later (the API server's versions are etcd revisions here). */
async function seen(informer: Informer<MySQLClusterObject> | Informer<PodObject>, ns: string, name: string, rv: string | undefined): Promise<void> {
  await waitFor(`the informer to see ${ns}/${name} at ${rv}`, async () => rvNumber(informer.get(ns, name)) >= Number(rv), { timeoutMs: 10_000, intervalMs: 10 });
}

async function informers(kube: Kube): Promise<{ clusters: Informer<MySQLClusterObject>; pods: Informer<PodObject> }> {
  const clusters = new Informer<MySQLClusterObject>({ kube, path: '/apis/moco.cybozu.com/v1beta2/mysqlclusters', log });
  const pods = new Informer<PodObject>({ kube, path: '/api/v1/pods', labelSelector: 'app.kubernetes.io/created-by=moco,app.kubernetes.io/name=mysql', log });
  await Promise.all([clusters.start(), pods.start()]);
  return { clusters, pods };
}

async function kubernetesPlatform(): Promise<PlatformUnderTest> {
  const k = ++made;
  const ns = `moco-contract-${process.pid}-${k}`;
  const name = 'contract';
  namespaces.push(ns);
  const kube = connect({ kubeconfig: tb.kubeconfig, fieldManager: 'moco-contract-test' });
  await kube.request('POST', '/api/v1/namespaces', { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } } });
  const passwords = { ADMIN_PASSWORD: `admin-${k}`, AGENT_PASSWORD: `agent-${k}`, REPLICATION_PASSWORD: `repl-${k}` };
  await kube.request('POST', resourcePath('v1', 'Secret', ns), {
    body: {
      apiVersion: 'v1', kind: 'Secret', metadata: { name: `mysql-${ns}.${name}`, namespace: ns },
      data: Object.fromEntries(Object.entries(passwords).map(([key, v]) => [key, Buffer.from(v).toString('base64')])),
    },
  });
  const created = await kube.request<MySQLClusterObject>('POST', resourcePath('moco.cybozu.com/v1beta2', 'MySQLCluster', ns), {
    body: {
      apiVersion: 'moco.cybozu.com/v1beta2', kind: 'MySQLCluster', metadata: { name, namespace: ns },
      spec: {
        replicas: 3,
        podTemplate: { spec: { containers: [{ name: 'mysqld', image: 'moco-contract/none:1' }] } },
        volumeClaimTemplates: [{ metadata: { name: 'mysql-data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
      },
    },
  });
  const specOf = (o: MySQLClusterObject) => {
    const c = new Checker();
    const s = checkCluster(c, o);
    if (c.problems.length > 0) throw new Error(c.problems.join('; '));
    return s;
  };
  // Three Pods nothing schedules or runs; their status is what the test writes, as a kubelet would.
  const podPath = (i: number, sub?: string) => resourcePath('v1', 'Pod', ns, names.pod(name, i), sub);
  for (const i of [0, 1, 2]) {
    await kube.request('POST', resourcePath('v1', 'Pod', ns), {
      body: {
        apiVersion: 'v1', kind: 'Pod', metadata: { name: names.pod(name, i), namespace: ns, labels: baseLabels(name) },
        spec: {
          schedulerName: 'moco-contract-no-scheduler', automountServiceAccountToken: false,
          containers: [{ name: 'mysqld', image: 'moco-contract/none:1' }],
        },
      },
    });
  }
  const setPodStatus = async (i: number, ready: 'True' | 'False' | 'Unknown'): Promise<string | undefined> => {
    const pod = await kube.get<PodObject>(podPath(i));
    const out = await kube.request<PodObject>('PUT', podPath(i, 'status'), {
      body: {
        ...pod,
        status: {
          phase: 'Running', podIP: `10.250.${k % 250}.${i + 10}`, podIPs: [{ ip: `10.250.${k % 250}.${i + 10}` }],
          conditions: [{ type: 'Ready', status: ready, lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z') }],
        },
      },
    });
    return out.metadata.resourceVersion;
  };
  for (const i of [0, 1, 2]) await setPodStatus(i, 'True');

  const { clusters, pods } = await informers(kube);
  const agents = fakeAgents();
  const platform = new KubernetesPlatform({
    kube, namespace: ns, name, clusters, pods, controllerNamespace: ns, log, heartbeatEveryMs: 0,
    tls: { caCert: Buffer.alloc(0), cert: Buffer.alloc(0), key: Buffer.alloc(0) },
    makeAgent: agents.make,
  });
  await seen(clusters, ns, name, created.metadata.resourceVersion);
  await waitFor('the informer to see the Pods with their IPs', async () => [0, 1, 2].every((i) => pods.get(ns, names.pod(name, i))?.status?.podIP),
    { timeoutMs: 10_000, intervalMs: 10 });

  const patchCluster = async (patch: unknown): Promise<MySQLClusterObject> => {
    const out = await kube.mergePatch<MySQLClusterObject>(resourcePath('moco.cybozu.com/v1beta2', 'MySQLCluster', ns, name), patch);
    await seen(clusters, ns, name, out.metadata.resourceVersion);
    return out;
  };

  return {
    platform, spec: specOf(created), passwords,
    // Another writer of the same status without informers (a backup Job, another process), through its own client.
    otherStore: () => new KubernetesStatusStore(connect({ kubeconfig: tb.kubeconfig, fieldManager: 'moco-contract-other' }), ns, name),
    changeSpec: async () => specOf(await patchCluster({ spec: { maxDelaySeconds: 17 } })),
    setAnnotations: async (a) => {
      await patchCluster({
        metadata: { annotations: { [CLUSTERING_STOPPED]: a.clusteringStopped ? 'true' : null, [RECONCILIATION_STOPPED]: a.reconciliationStopped ? 'true' : null } },
      });
    },
    requestSwitchover: async () => {
      // What kubectl moco switchover does: the demote annotation on the current primary's Pod.
      const primary = (await platform.readStatus()).status.currentPrimaryIndex;
      const out = await kube.mergePatch<PodObject>(podPath(primary), { metadata: { annotations: { [DEMOTE]: 'true' } } });
      await seen(pods, ns, names.pod(name, primary), out.metadata.resourceVersion);
    },
    setReadiness: async (i, r) => {
      // Unreachable: the node stopped reporting, so the node controller marks the Pod's readiness Unknown.
      const rv = await setPodStatus(i, r === 'ready' ? 'True' : r === 'not-ready' ? 'False' : 'Unknown');
      await seen(pods, ns, names.pod(name, i), rv);
    },
    events: async () => {
      await eventsWritten(kube);
      const list = await kube.list<{ metadata: { resourceVersion?: string }; type: 'Normal' | 'Warning'; reason: string; message: string }>(
        resourcePath('v1', 'Event', ns), { query: { fieldSelector: `involvedObject.name=${name}` } });
      return list.items.sort((a, b) => rvNumber(a) - rvNumber(b)).map(({ type, reason, message }) => ({ type, reason, message }));
    },
    lastHeartbeat: async () => {
      const lease = await kube.tryGet<{ spec?: { renewTime?: string } }>(resourcePath('coordination.k8s.io/v1', 'Lease', ns, `moco-${name}-coordinator`));
      return lease?.spec?.renewTime ? { observedAt: new Date(lease.spec.renewTime).toISOString() } : undefined;
    },
    agentFor: agents.agentFor,
    close: async () => {
      platform.close();
      await clusters.stop();
      await pods.stop();
      await kube.delete(resourcePath('v1', 'Namespace', undefined, ns)).catch(() => undefined);
    },
  };
}

describePlatformContract('Kubernetes (real API server)', kubernetesPlatform);
