/**
 * The Kubernetes test bed for tests: a real control plane and three real nodes on this machine
 * (scripts/kube/: build.sh, up.sh, images.sh, down.sh, fail-node.sh, start-node.sh; docs/kubernetes-testbed.md).
 *
 * {@link ensureTestbed} builds (once, cached outside the clone) and starts the test bed when it is not running,
 * and imports the project's images; {@link teardownTestbed} stops it only when this process started it, so a test
 * bed started by `npm test -- kube` or by hand outlives each test file. Needs root, like the scripts.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const scripts = path.join(repo, 'scripts/kube');

/** Where the running test bed is, as scripts/kube/env.sh says. */
export interface Testbed {
  /** $MOCO_KUBE_ROOT: the test bed's state (logs under log/, volumes under volumes/). */
  root: string;
  kubeconfig: string;
  /** The kubectl built with the test bed (1.20.2, the API server's version). */
  kubectlPath: string;
  nodes: string[];
  /** The agent/controller image and the MariaDB mysqld image, as imported into every node. */
  images: { moco: string; mysqld: string };
  /** The containerd socket of a node (for `ctr -a SOCKET -n k8s.io ...`). */
  containerdSocket(node: string): string;
}

let testbed: Testbed | undefined;
let startedHere = false;

/** Reads scripts/kube/env.sh, the one source of the test bed's names and paths. */
async function readEnv(): Promise<Record<string, string>> {
  const names = ['MOCO_KUBE_ROOT', 'KUBECONFIG', 'KUBECTL', 'MOCO_KUBE_NODES', 'MOCO_IMAGE', 'MOCO_MYSQLD_IMAGE'];
  const { stdout } = await run('bash', ['-c', `. "${scripts}/env.sh" && printf '%s\\n' ${names.map((n) => `"$\{${n}:-}"`).join(' ')}`]);
  const values = stdout.split('\n');
  return Object.fromEntries(names.map((n, i) => [n, values[i] ?? '']));
}

/** Runs a script of scripts/kube/ with its progress lines on this process's stderr; rejects when it fails. */
export function runScript(name: string, args: string[] = []): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [path.join(scripts, name), ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
    child.on('error', reject);
    child.on('exit', (code, signal) => (code === 0 ? resolve()
      : reject(new Error(`scripts/kube/${name} ${args.join(' ')} failed (${signal ?? `exit ${code}`}); see its output above`))));
  });
}

async function healthy(): Promise<boolean> {
  // up.sh says so and exits 0 at once when the test bed runs; here only ask, without starting anything.
  try {
    await run('bash', ['-c', `. "${scripts}/lib.sh" && testbed_healthy`]);
    return true;
  } catch {
    return false;
  }
}

/**
 * Makes sure the test bed runs with the current images: builds Kubernetes (first time only: about 20 min),
 * starts it (about a minute), builds what changed of the images and imports them (seconds when unchanged).
 * Idempotent; the work is done once per process.
 */
export async function ensureTestbed(): Promise<Testbed> {
  if (testbed) return testbed;
  if (!(await healthy())) {
    await runScript('up.sh');
    startedHere = true;
  }
  // scripts/test.sh has just run images.sh; a test file run on its own builds what changed.
  if (process.env.MOCO_KUBE_IMAGES_READY !== '1') await runScript('images.sh');
  const env = await readEnv();
  const root = env.MOCO_KUBE_ROOT!;
  testbed = {
    root,
    kubeconfig: env.KUBECONFIG!,
    kubectlPath: env.KUBECTL!,
    nodes: env.MOCO_KUBE_NODES!.split(' ').filter(Boolean),
    images: { moco: env.MOCO_IMAGE!, mysqld: env.MOCO_MYSQLD_IMAGE! },
    containerdSocket: (node) => path.join(root, node, 'containerd/containerd.sock'),
  };
  return testbed;
}

/** Stops the test bed (down.sh) if {@link ensureTestbed} started it in this process. */
export async function teardownTestbed(): Promise<void> {
  if (!startedHere) return;
  startedHere = false;
  testbed = undefined;
  await runScript('down.sh');
}

export interface KubectlOptions {
  namespace?: string;
  /** Written to kubectl's stdin (for `apply -f -`). */
  input?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** Runs the test bed's kubectl and returns its stdout; rejects with kubectl's stderr when it fails. */
export async function kubectl(args: string[], opts: KubectlOptions = {}): Promise<string> {
  const tb = testbed ?? (await ensureTestbed());
  const full = [`--kubeconfig=${tb.kubeconfig}`, ...(opts.namespace ? ['-n', opts.namespace] : []), ...args];
  return new Promise((resolve, reject) => {
    const child = execFile(tb.kubectlPath, full, {
      timeout: opts.timeoutMs ?? 120_000, maxBuffer: 64 * 1024 * 1024, signal: opts.signal,
    }, (err, stdout, stderr) => {
      if (err) reject(new Error(`kubectl ${args.join(' ')}: ${stderr.trim() || err.message}`, { cause: err }));
      else resolve(stdout);
    });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** `kubectl apply -f -` of a YAML (or JSON) document. */
export async function apply(yaml: string, namespace?: string): Promise<void> {
  await kubectl(['apply', '-f', '-'], { input: yaml, ...(namespace ? { namespace } : {}) });
}

/** `kubectl get ... -o json`, parsed. */
export async function getJson<T = Record<string, unknown>>(args: string[], namespace?: string): Promise<T> {
  return JSON.parse(await kubectl(['get', ...args, '-o', 'json'], namespace ? { namespace } : {})) as T;
}

/**
 * Polls `check` until it returns a value other than undefined or false, and returns that value. Errors thrown by
 * `check` count as "not yet". Rejects after `timeoutMs` with `what` and the last error; a check that never settles
 * (a connection that hangs) is given up on at the deadline (at least 5 s after it started), so the wait still ends.
 */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined | false>,
  { timeoutMs = 120_000, intervalMs = 500 }: { timeoutMs?: number; intervalMs?: number } = {}): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    let timer: NodeJS.Timeout | undefined;
    try {
      const hung = new Promise<never>((_, reject) => {
        const ms = Math.max(end - Date.now(), 5000);
        timer = setTimeout(() => reject(new Error(`a check did not return within ${ms} ms`)), ms);
      });
      const v = await Promise.race([check(), hung]);
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    } finally {
      clearTimeout(timer);
    }
    if (Date.now() > end) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`, { cause: last });
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Imports an image archive (OCI or docker format) into every node's containerd. */
export async function importImage(archive: string): Promise<void> {
  const tb = testbed ?? (await ensureTestbed());
  await Promise.all(tb.nodes.map((n) => run('ctr', ['-a', tb.containerdSocket(n), '-n', 'k8s.io', 'images', 'import', archive])));
}

/** Kills a node as a failing machine would (fail-node.sh); {@link startNode} brings it back with its state. */
export const failNode = (node: string): Promise<void> => runScript('fail-node.sh', [node]);
/** Starts a failed node again and waits until it is Ready (start-node.sh). */
export const startNode = (node: string): Promise<void> => runScript('start-node.sh', [node]);

/** The Ready condition of a node: "True", "False" or "Unknown" (a node that stopped reporting). */
export async function nodeReady(node: string): Promise<string> {
  return (await kubectl(['get', 'node', node, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'])).trim();
}

/**
 * Installs the operator as a platform engineer does, `kubectl apply -k` of config/default, through an overlay that
 * swaps in the test bed's image and shortens the controller's --resync-period to 30 s (tmp/kube-overlay, beside the
 * clone's config/; kubectl 1.20's kustomize wants a relative path). Waits until a controller leads. Idempotent: an unchanged image changes nothing.
 */
export async function installOperator(): Promise<void> {
  const tb = testbed ?? (await ensureTestbed());
  const overlay = path.join(repo, 'tmp/kube-overlay');
  await mkdir(overlay, { recursive: true });
  const [name, tag] = tb.images.moco.split(/:(?=[^:/]+$)/);
  // The controller reconciles every cluster and checks its certificates every 30 s here rather than every 10 min,
  // so that the certificate renewal test sees a renewal within its time.
  await writeFile(path.join(overlay, 'resync.yaml'),
    '- op: replace\n  path: /spec/template/spec/containers/0/args\n  value: ["--resync-period=30s"]\n');
  await writeFile(path.join(overlay, 'kustomization.yaml'),
    `bases:\n  - ../../config/default\nimages:\n  - name: ghcr.io/moco-ts/moco\n    newName: ${name}\n    newTag: ${tag}\n` +
    'patchesJson6902:\n  - target: { group: apps, version: v1, kind: Deployment, name: moco-controller, namespace: moco-system }\n    path: resync.yaml\n');
  await kubectl(['apply', '-k', overlay]);
  await kubectl(['-n', 'moco-system', 'rollout', 'status', 'deployment/moco-controller', '--timeout=180s'], { timeoutMs: 200_000 });
  await waitFor('a controller to lead', async () => {
    const holder = (await kubectl(['-n', 'moco-system', 'get', 'lease', 'moco-controller-leader', '-o', 'jsonpath={.spec.holderIdentity}'])).trim();
    if (!holder) return false;
    const pods = await kubectl(['-n', 'moco-system', 'get', 'pods', '-o', 'jsonpath={.items[*].metadata.name}']);
    return pods.split(' ').includes(holder) ? holder : false;
  }, { timeoutMs: 120_000 });
}

/** The name of the controller Pod that leads (holds the Lease). */
export async function leader(): Promise<string> {
  return (await kubectl(['-n', 'moco-system', 'get', 'lease', 'moco-controller-leader', '-o', 'jsonpath={.spec.holderIdentity}'])).trim();
}

/** A PATH on which `kubectl` is the test bed's and `kubectl-moco` is this clone's plugin, as a user installs them. */
export async function pluginPath(): Promise<string> {
  const tb = testbed ?? (await ensureTestbed());
  const bin = path.join(repo, 'tmp/kube-bin');
  await mkdir(bin, { recursive: true });
  for (const [link, target] of [['kubectl', tb.kubectlPath], ['kubectl-moco', path.join(repo, 'bin/kubectl-moco.js')]] as const) {
    await rm(path.join(bin, link), { force: true });
    await symlink(target, path.join(bin, link));
  }
  return `${bin}:${process.env.PATH ?? ''}`;
}

/** Runs `kubectl moco ARGS` as a user would (kubectl finds the plugin on PATH); resolves with its output and code. */
export async function kubectlMoco(args: string[], opts: { namespace?: string; timeoutMs?: number } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const tb = testbed ?? (await ensureTestbed());
  const PATH = await pluginPath();
  return new Promise((resolve) => {
    // kubectl passes no flag before a plugin's name: the plugin reads KUBECONFIG and its own -n.
    execFile('kubectl', ['moco', ...(opts.namespace ? ['-n', opts.namespace] : []), ...args], {
      env: { ...process.env, PATH, KUBECONFIG: tb.kubeconfig }, timeout: opts.timeoutMs ?? 300_000, maxBuffer: 16 * 1024 * 1024,
    }, (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }));
  });
}

/** The host PID of a container's first process (`ctr task ls` on the Pod's node). */
export async function containerPid(pod: string, container: string, namespace = 'default'): Promise<number> {
  const tb = testbed ?? (await ensureTestbed());
  const p = await getJson<{ spec: { nodeName: string }; status: { containerStatuses?: Array<{ name: string; containerID?: string }> } }>(['pod', pod], namespace);
  const id = p.status.containerStatuses?.find((c) => c.name === container)?.containerID?.replace(/^containerd:\/\//, '');
  if (!id) throw new Error(`${namespace}/${pod} has no running ${container} container`);
  const { stdout } = await run('ctr', ['-a', tb.containerdSocket(p.spec.nodeName), '-n', 'k8s.io', 'task', 'ls']);
  const line = stdout.split('\n').find((l) => l.split(/\s+/)[0] === id);
  const pid = Number(line?.split(/\s+/)[1]);
  if (!pid) throw new Error(`no task for container ${container} of ${pod} on ${p.spec.nodeName}`);
  return pid;
}

/** SIGKILLs a container's processes from the host, as the kernel's OOM killer or a crash would. */
export async function killContainer(pod: string, container: string, namespace = 'default'): Promise<void> {
  process.kill(await containerPid(pod, container, namespace), 'SIGKILL');
}

/** A Secret's data, decoded. */
export async function secretData(name: string, namespace: string): Promise<Record<string, string>> {
  const s = await getJson<{ data?: Record<string, string> }>(['secret', name], namespace);
  return Object.fromEntries(Object.entries(s.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
}

/** A Service's ClusterIP (reachable from this machine through kube-proxy's rules). */
export async function serviceIP(name: string, namespace = 'default'): Promise<string> {
  return (await kubectl(['get', 'service', name, '-o', 'jsonpath={.spec.clusterIP}'], { namespace })).trim();
}

/** The parts of a MySQLCluster the tests read. */
export interface ClusterObject {
  spec?: { replicas?: number };
  status?: {
    currentPrimaryIndex?: number; syncedReplicas?: number; errantReplicas?: number; errantReplicaList?: number[];
    conditions?: Array<{ type: string; status: string }>;
  };
}

/** A condition's status ('True', 'False'), or undefined when the cluster has none of that type yet. */
export const conditionOf = (c: ClusterObject, type: string): string | undefined => c.status?.conditions?.find((x) => x.type === type)?.status;

/**
 * Healthy as a user checks it: the Healthy and Available conditions True, every instance counted as a synced
 * replica (status.syncedReplicas equals spec.replicas) and no errant replica. Returns the cluster as last read.
 */
export const isHealthy = (c: ClusterObject): boolean => conditionOf(c, 'Healthy') === 'True' && conditionOf(c, 'Available') === 'True' &&
  c.status?.syncedReplicas === (c.spec?.replicas ?? 1) && (c.status?.errantReplicaList ?? []).length === 0;

/** Waits until {@link isHealthy}; returns the cluster as last read. */
export async function waitHealthy(name: string, o: { namespace?: string; timeoutMs?: number } = {}): Promise<ClusterObject> {
  const namespace = o.namespace ?? 'default';
  return waitFor(`${namespace}/${name} to be Healthy`, async () => {
    const c = await getJson<ClusterObject>(['mysqlcluster', name], namespace);
    return isHealthy(c) ? c : false;
  }, { timeoutMs: o.timeoutMs ?? 300_000, intervalMs: 1000 });
}

/**
 * After a failover, the old primary comes back either as a replica or errant (it wrote a transaction to its binlog
 * that no replica received before it died: never acknowledged, so nothing is lost, but it must not rejoin). Waits
 * for the cluster to be Healthy; an errant old primary is re-initialized by the seed's workflow (delete its claim
 * and its Pod: it comes back by clone). Returns whether it had to be.
 */
export async function healAfterFailover(name: string, oldIndex: number, namespace = 'default', timeoutMs = 420_000): Promise<boolean> {
  const judged = await waitFor(`${namespace}/${name} Healthy or instance ${oldIndex} errant`, async () => {
    const c = await getJson<ClusterObject>(['mysqlcluster', name], namespace);
    if (c.status?.errantReplicaList?.includes(oldIndex)) return 'errant';
    return isHealthy(c) ? 'healthy' : false;
  }, { timeoutMs, intervalMs: 1000 });
  if (judged === 'healthy') return false;
  const pod = `moco-${name}-${oldIndex}`;
  await kubectl(['delete', 'pvc', `mysql-data-${pod}`, '--wait=false'], { namespace });
  await kubectl(['delete', 'pod', pod, '--grace-period=5'], { namespace, timeoutMs: 180_000 });
  await waitHealthy(name, { namespace, timeoutMs });
  return true;
}

/** A MySQLCluster for tests and benchmarks: the test bed's mysqld image, small limits, a 1Gi claim per instance. */
export function clusterManifest(o: {
  name: string; image: string; replicas: number; cpu: string; memory: string;
  /** One Pod per node (the seed's required anti-affinity on the instance label). */
  onePerNode?: boolean;
  graceSeconds?: number;
}): string {
  const affinity = o.onePerNode ? `
      affinity:
        podAntiAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
          - labelSelector: { matchLabels: { app.kubernetes.io/instance: ${o.name} } }
            topologyKey: kubernetes.io/hostname` : '';
  return `apiVersion: moco.cybozu.com/v1beta2
kind: MySQLCluster
metadata: { namespace: default, name: ${o.name} }
spec:
  replicas: ${o.replicas}
  podTemplate:
    spec:${o.graceSeconds !== undefined ? `\n      terminationGracePeriodSeconds: ${o.graceSeconds}` : ''}${affinity}
      containers:
      - name: mysqld
        image: ${o.image}
        resources: { limits: { cpu: "${o.cpu}", memory: "${o.memory}" } }
  volumeClaimTemplates:
  - metadata: { name: mysql-data }
    spec: { accessModes: [ReadWriteOnce], resources: { requests: { storage: 1Gi } } }
`;
}
