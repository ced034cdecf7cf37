/**
 * The Kubernetes test bed for tests: a real control plane and three real nodes on this machine
 * (scripts/kube/: build.sh, up.sh, images.sh, down.sh, fail-node.sh, start-node.sh; docs/kubernetes-testbed.md).
 *
 * {@link ensureTestbed} builds (once, cached outside the clone) and starts the test bed when it is not running,
 * and imports the project's images; {@link teardownTestbed} stops it only when this process started it, so a test
 * bed started by `npm test -- kube` or by hand outlives each test file. Needs root, like the scripts.
 */
import { execFile, spawn } from 'node:child_process';
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
 * `check` count as "not yet". Rejects after `timeoutMs` with `what` and the last error.
 */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined | false>,
  { timeoutMs = 120_000, intervalMs = 500 }: { timeoutMs?: number; intervalMs?: number } = {}): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
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
