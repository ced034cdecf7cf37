/**
 * A small client of the Kubernetes API: the handful of verbs the controller, the coordinator's Kubernetes port and
 * `kubectl moco` use (get, list, watch, server-side apply, merge patches, create, delete), over node:https with the
 * credentials of a kubeconfig or of the Pod's ServiceAccount (loaded by @kubernetes/client-node's KubeConfig).
 * Every call has a deadline and takes an AbortSignal; API errors become {@link KubeError} with the HTTP status and
 * the server's reason, so callers branch on `status` (404 not found, 409 conflict).
 */
import https from 'node:https';
import http from 'node:http';
import { KubeConfig } from '@kubernetes/client-node';
import type { Json, KubeObject } from './objects.ts';

export class KubeError extends Error {
  constructor(readonly status: number, readonly reason: string, message: string) {
    super(message);
    this.name = 'KubeError';
  }
  get notFound(): boolean { return this.status === 404; }
  get conflict(): boolean { return this.status === 409; }
}

/** The plural resource name and API group path of each kind this project touches. */
const RESOURCES: Record<string, { plural: string; namespaced: boolean }> = {
  Pod: { plural: 'pods', namespaced: true },
  Service: { plural: 'services', namespaced: true },
  ConfigMap: { plural: 'configmaps', namespaced: true },
  Secret: { plural: 'secrets', namespaced: true },
  ServiceAccount: { plural: 'serviceaccounts', namespaced: true },
  PersistentVolumeClaim: { plural: 'persistentvolumeclaims', namespaced: true },
  PersistentVolume: { plural: 'persistentvolumes', namespaced: false },
  Event: { plural: 'events', namespaced: true },
  Node: { plural: 'nodes', namespaced: false },
  Namespace: { plural: 'namespaces', namespaced: false },
  StatefulSet: { plural: 'statefulsets', namespaced: true },
  Deployment: { plural: 'deployments', namespaced: true },
  Job: { plural: 'jobs', namespaced: true },
  CronJob: { plural: 'cronjobs', namespaced: true },
  PodDisruptionBudget: { plural: 'poddisruptionbudgets', namespaced: true },
  Lease: { plural: 'leases', namespaced: true },
  Role: { plural: 'roles', namespaced: true },
  RoleBinding: { plural: 'rolebindings', namespaced: true },
  StorageClass: { plural: 'storageclasses', namespaced: false },
  MySQLCluster: { plural: 'mysqlclusters', namespaced: true },
  BackupPolicy: { plural: 'backuppolicies', namespaced: true },
  CustomResourceDefinition: { plural: 'customresourcedefinitions', namespaced: false },
  ValidatingWebhookConfiguration: { plural: 'validatingwebhookconfigurations', namespaced: false },
  MutatingWebhookConfiguration: { plural: 'mutatingwebhookconfigurations', namespaced: false },
};

/** The URL path of a kind (a collection when `name` is absent). */
export function resourcePath(apiVersion: string, kind: string, namespace?: string, name?: string, sub?: string): string {
  const r = RESOURCES[kind];
  if (!r) throw new Error(`unknown kind ${kind}`);
  const base = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
  const ns = r.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  return `${base}${ns}/${r.plural}${name ? `/${encodeURIComponent(name)}` : ''}${sub ? `/${sub}` : ''}`;
}

export interface RequestOptions {
  body?: unknown;
  contentType?: string;
  query?: Record<string, string | number | boolean | undefined>;
  signal?: AbortSignal;
  timeoutMs?: number;
}

export interface WatchEvent<T = Json> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T;
}

export interface Kube {
  request<T = Json>(method: string, path: string, o?: RequestOptions): Promise<T>;
  get<T = KubeObject>(path: string, o?: RequestOptions): Promise<T>;
  /** The object, or undefined when it does not exist. */
  tryGet<T = KubeObject>(path: string, o?: RequestOptions): Promise<T | undefined>;
  list<T = KubeObject>(path: string, o?: RequestOptions): Promise<{ items: T[]; resourceVersion: string }>;
  /** Server-side apply with this project's field manager, forcing ownership of the fields it sets. */
  apply<T = KubeObject>(obj: KubeObject, o?: RequestOptions & { subresource?: string; force?: boolean }): Promise<T>;
  mergePatch<T = KubeObject>(path: string, patch: unknown, o?: RequestOptions): Promise<T>;
  delete(path: string, o?: RequestOptions): Promise<void>;
  /** Streams changes until `signal` aborts or the server ends the watch (then `done` is called with the reason). */
  watch<T = Json>(path: string, query: Record<string, string | number | boolean | undefined>, onEvent: (e: WatchEvent<T>) => void,
    o: { signal: AbortSignal }): Promise<void>;
  readonly server: string;
}

const DEFAULT_TIMEOUT_MS = 30_000;

/** A Kube for a KubeConfig (a file, `KUBECONFIG`, or the Pod's ServiceAccount when `inCluster`). */
export function connect(options: { kubeconfig?: string; context?: string; inCluster?: boolean; fieldManager?: string } = {}): Kube {
  const kc = new KubeConfig();
  if (options.inCluster) kc.loadFromCluster();
  else if (options.kubeconfig) kc.loadFromFile(options.kubeconfig);
  else kc.loadFromDefault();
  if (options.context) kc.setCurrentContext(options.context);
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('no Kubernetes cluster in the kubeconfig; set KUBECONFIG or pass --kubeconfig');
  const server = new URL(cluster.server);
  const fieldManager = options.fieldManager ?? 'moco-controller';
  const agentHttps = new https.Agent({ keepAlive: true, maxSockets: 32 });
  const agentHttp = new http.Agent({ keepAlive: true, maxSockets: 32 });

  async function open(method: string, path: string, o: RequestOptions & { stream?: boolean }): Promise<http.IncomingMessage> {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(o.query ?? {})) if (v !== undefined) qs.set(k, String(v));
    const opts: https.RequestOptions = {
      method, protocol: server.protocol, hostname: server.hostname, port: server.port || (server.protocol === 'https:' ? 443 : 80),
      path: `${server.pathname.replace(/\/$/, '')}${path}${qs.size ? `?${qs}` : ''}`,
      headers: { accept: 'application/json', ...(o.body !== undefined ? { 'content-type': o.contentType ?? 'application/json' } : {}) },
      agent: server.protocol === 'https:' ? agentHttps : agentHttp,
    };
    await kc.applyToHTTPSOptions(opts);
    const body = o.body === undefined ? undefined : typeof o.body === 'string' ? o.body : JSON.stringify(o.body);
    return new Promise((resolve, reject) => {
      const req = (server.protocol === 'https:' ? https : http).request(opts, resolve);
      const timeout = o.stream ? undefined : setTimeout(() => req.destroy(new Error(`${method} ${path}: no answer within ${(o.timeoutMs ?? DEFAULT_TIMEOUT_MS) / 1000} s`)), o.timeoutMs ?? DEFAULT_TIMEOUT_MS);
      const onAbort = (): void => { req.destroy(new Error(`${method} ${path}: cancelled`)); };
      o.signal?.addEventListener('abort', onAbort, { once: true });
      req.on('error', (err) => {
        clearTimeout(timeout);
        reject(err);
      });
      req.on('response', (res) => {
        clearTimeout(timeout);
        res.on('close', () => o.signal?.removeEventListener('abort', onAbort));
      });
      if (body !== undefined) req.end(body);
      else req.end();
    });
  }

  async function readAll(res: http.IncomingMessage): Promise<string> {
    let text = '';
    res.setEncoding('utf8');
    for await (const chunk of res) text += chunk as string;
    return text;
  }

  const kube: Kube = {
    server: server.origin,
    async request<T>(method: string, path: string, o: RequestOptions = {}): Promise<T> {
      const res = await open(method, path, o);
      const text = await readAll(res);
      const status = res.statusCode ?? 0;
      if (status >= 200 && status < 300) return (text ? JSON.parse(text) : {}) as T;
      let reason = res.statusMessage ?? '';
      let message = text;
      try {
        const s = JSON.parse(text) as { reason?: string; message?: string };
        reason = s.reason ?? reason;
        message = s.message ?? text;
      } catch {
        // not a Status object
      }
      throw new KubeError(status, reason, `${method} ${path}: ${status} ${reason}: ${message}`);
    },
    get: (path, o) => kube.request('GET', path, o),
    async tryGet(path, o) {
      try {
        return await kube.request('GET', path, o);
      } catch (err) {
        if (err instanceof KubeError && err.notFound) return undefined;
        throw err;
      }
    },
    async list<T>(path: string, o?: RequestOptions) {
      const r = await kube.request<{ items?: T[]; metadata?: { resourceVersion?: string } }>('GET', path, o);
      return { items: r.items ?? [], resourceVersion: r.metadata?.resourceVersion ?? '' };
    },
    apply(obj, o = {}) {
      const path = resourcePath(obj.apiVersion, obj.kind, obj.metadata.namespace, obj.metadata.name, o.subresource);
      return kube.request('PATCH', path, {
        ...o, body: obj, contentType: 'application/apply-patch+yaml',
        query: { fieldManager, force: o.force ?? true, ...o.query },
      });
    },
    mergePatch: (path, patch, o = {}) => kube.request('PATCH', path, { ...o, body: patch, contentType: 'application/merge-patch+json' }),
    async delete(path, o = {}) {
      try {
        await kube.request('DELETE', path, o);
      } catch (err) {
        if (!(err instanceof KubeError && err.notFound)) throw err;
      }
    },
    async watch<T>(path: string, query: Record<string, string | number | boolean | undefined>, onEvent: (e: WatchEvent<T>) => void, o: { signal: AbortSignal }) {
      const res = await open('GET', path, { query: { ...query, watch: true }, signal: o.signal, stream: true });
      if ((res.statusCode ?? 0) >= 300) {
        const text = await readAll(res);
        throw new KubeError(res.statusCode ?? 0, res.statusMessage ?? '', `watch ${path}: ${res.statusCode}: ${text}`);
      }
      res.setEncoding('utf8');
      let buf = '';
      try {
        for await (const chunk of res) {
          buf += chunk as string;
          let nl: number;
          while ((nl = buf.indexOf('\n')) >= 0) {
            const line = buf.slice(0, nl).trim();
            buf = buf.slice(nl + 1);
            if (line) onEvent(JSON.parse(line) as WatchEvent<T>);
          }
        }
      } catch (err) {
        if (!o.signal.aborted) throw err;
      }
    },
  };
  return kube;
}

/**
 * The PodDisruptionBudget API version the server serves: `policy/v1` from Kubernetes 1.21 (and the only one from
 * 1.25), `policy/v1beta1` before (the 1.20 test bed).
 */
export async function policyApiVersion(kube: Kube): Promise<string> {
  const v1 = await kube.tryGet<{ resources?: Array<{ name: string }> }>('/apis/policy/v1');
  return v1?.resources?.some((r) => r.name === 'poddisruptionbudgets') ? 'policy/v1' : 'policy/v1beta1';
}
