/**
 * moco-controller: every replica serves the admission webhooks and its probes; the one that holds the leader Lease
 * also watches MySQLClusters and their Pods, reconciles each cluster into its objects and runs its coordinator.
 * Losing the lease ends the process (the Deployment restarts it as a follower): a deposed leader must stop acting
 * at once, and the agents refuse its older term meanwhile. Nothing here ever restarts a mysqld.
 */
import http from 'node:http';
import { CoordinatorMetrics } from '../../coordinator/metrics.ts';
import type { Pem } from '../../shared/pki.ts';
import type { Logger } from '../../shared/logger.ts';
import { ensureCa, needsRenewal, webhookCert } from './certs.ts';
import { recordEvent } from './events.ts';
import { Informer, keyOf } from './informer.ts';
import { resourcePath, type Kube } from './kube.ts';
import { LeaderElector } from './lease.ts';
import type { PodObject } from './platform.ts';
import { WorkQueue } from './queue.ts';
import { Reconciler, type MySQLClusterObject } from './reconciler.ts';
import { KubernetesRuntime } from './runtime.ts';
import { serveWebhooks, type WebhookServer } from './webhook.ts';

export interface ControllerOptions {
  kube: Kube;
  log: Logger;
  /** The controller's own namespace (Lease, CA, password master copies). */
  namespace: string;
  /** This replica's name (the Lease holder identity). */
  identity: string;
  agentImage: string;
  webhookPort: number;
  metricsPort: number;
  healthPort: number;
  webhookService?: string;
  leaseName?: string;
  pollMs?: number;
  /**
   * How often every cluster is reconciled even when nothing changed, and the certificates checked (default 10 min):
   * the agents', the coordinators' and the webhook's certificates are renewed once a third of their life is left,
   * with or without changes to the clusters.
   */
  resyncMs?: number;
}

export const DEFAULT_RESYNC_MS = 10 * 60_000;

const WEBHOOK_CONFIGS = [
  { kind: 'MutatingWebhookConfiguration', name: 'moco-mutating-webhook-configuration' },
  { kind: 'ValidatingWebhookConfiguration', name: 'moco-validating-webhook-configuration' },
] as const;

export class Controller {
  private readonly metrics = new CoordinatorMetrics();
  private webhooks: WebhookServer | undefined;
  private servers: http.Server[] = [];
  private ready = false;
  private ca: Pem | undefined;
  private elector: LeaderElector | undefined;
  private runtime: KubernetesRuntime | undefined;
  private queue: WorkQueue | undefined;
  private informers: Array<{ stop(): Promise<void> }> = [];
  private clusters: Informer<MySQLClusterObject> | undefined;
  private webhookPem: Pem | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;

  constructor(private readonly o: ControllerOptions) {}

  /** The Service the API server calls the webhooks through (the serving certificate's name). */
  private get webhookService(): string {
    return this.o.webhookService ?? 'moco-webhook-service';
  }

  async start(): Promise<void> {
    const { kube, log } = this.o;
    this.ca = await ensureCa(kube, this.o.namespace);
    const cert = await webhookCert(this.ca, this.webhookService, this.o.namespace);
    this.webhookPem = cert;
    this.webhooks = await serveWebhooks({ port: this.o.webhookPort, cert: cert.cert, key: cert.key, log: log.child({ component: 'webhook' }) });
    await this.publishCaBundle();
    this.servers.push(await listen(this.o.healthPort, (req, res) => {
      const ok = req.url === '/healthz' || (req.url === '/readyz' && this.ready);
      res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' }).end(ok ? 'ok\n' : 'not ready\n');
    }));
    this.servers.push(await listen(this.o.metricsPort, (req, res) => {
      if (req.url !== '/metrics') return void res.writeHead(404).end();
      void this.metrics.registry.metrics().then((text) => res.writeHead(200, { 'content-type': this.metrics.registry.contentType }).end(text));
    }));
    this.ready = true;
    this.resyncTimer = setInterval(() => void this.resync().catch((err: unknown) =>
      log.warn({ err: (err as Error).message }, 'resync failed; trying again at the next one')), this.o.resyncMs ?? DEFAULT_RESYNC_MS);
    this.elector = new LeaderElector({ kube, namespace: this.o.namespace, name: this.o.leaseName ?? 'moco-controller-leader', identity: this.o.identity, log });
    void this.elector.run((term) => void this.lead(term).catch((err: unknown) => {
      log.error({ err: (err as Error).message }, 'cannot start leading; exiting');
      process.exit(1);
    }), () => {
      log.error('lost the leader lease; exiting so that only the new leader acts');
      process.exit(1);
    });
  }

  /**
   * Every replica: renews the webhook's serving certificate when a third of its life is left (the API server then
   * sees the new one on its next connection). The leader also reconciles every cluster, which renews the agents'
   * and the coordinators' certificates the same way.
   */
  private async resync(): Promise<void> {
    const ca = this.ca as Pem;
    if (this.webhooks && needsRenewal(this.webhookPem?.cert, ca.cert)) {
      const cert = await webhookCert(ca, this.webhookService, this.o.namespace);
      this.webhooks.setCertificate(cert.cert, cert.key);
      this.webhookPem = cert;
      this.o.log.info('renewed the webhook certificate');
    }
    for (const c of this.clusters?.list() ?? []) this.queue?.add(keyOf(c));
  }

  /** Puts the CA into the webhook configurations (each replica does it; the same bytes, so no churn). */
  private async publishCaBundle(): Promise<void> {
    const bundle = Buffer.from((this.ca as Pem).cert).toString('base64');
    for (const { kind, name } of WEBHOOK_CONFIGS) {
      const path = resourcePath('admissionregistration.k8s.io/v1', kind, undefined, name);
      const current = await this.o.kube.tryGet<{ webhooks?: Array<{ name: string; clientConfig?: { caBundle?: string } }> }>(path);
      if (!current?.webhooks) {
        this.o.log.warn({ kind, name }, 'webhook configuration not found; apply config/default');
        continue;
      }
      if (current.webhooks.every((w) => w.clientConfig?.caBundle === bundle)) continue;
      await this.o.kube.request('PATCH', path, {
        contentType: 'application/json-patch+json',
        body: current.webhooks.map((_, i) => ({ op: 'add', path: `/webhooks/${i}/clientConfig/caBundle`, value: bundle })),
      });
    }
  }

  private async lead(term: number): Promise<void> {
    const { kube, log } = this.o;
    const clusters = new Informer<MySQLClusterObject>({ kube, path: '/apis/moco.cybozu.com/v1beta2/mysqlclusters', log: log.child({ informer: 'mysqlclusters' }) });
    const pods = new Informer<PodObject>({ kube, path: '/api/v1/pods', labelSelector: 'app.kubernetes.io/created-by=moco,app.kubernetes.io/name=mysql', log: log.child({ informer: 'pods' }) });
    this.informers = [clusters, pods];
    this.clusters = clusters;
    this.runtime = new KubernetesRuntime({
      kube, log, clusters, pods, metrics: this.metrics, ca: async () => this.ca as Pem,
      controllerNamespace: this.o.namespace, term: () => term, ...(this.o.pollMs ? { pollMs: this.o.pollMs } : {}),
    });
    const reconciler = new Reconciler({
      kube, log: log.child({ component: 'reconciler' }), namespace: this.o.namespace, agentImage: this.o.agentImage,
      ca: async () => this.ca as Pem, runtime: this.runtime,
      event: (c, type, reason, message) => recordEvent(kube, log, c, type, reason, message),
    });
    const queue = new WorkQueue(async (key) => {
      const [ns, name] = key.split('/') as [string, string];
      return reconciler.reconcile(ns, name, clusters.get(ns, name));
    }, 8, (key, err) => log.warn({ cluster: key, err: (err as Error).message }, 'reconcile failed; retrying'));
    this.queue = queue;
    clusters.onChange((_type, c) => queue.add(keyOf(c)));
    pods.onChange((_type, p) => {
      const instance = (p.metadata.labels ?? {})['app.kubernetes.io/instance'];
      if (!instance) return;
      this.runtime?.trigger(String(p.metadata.namespace), instance, `Pod ${p.metadata.name} changed`);
      // A deleted claim-holding Pod or a new one may need the claims owned.
      if (_type !== 'MODIFIED') queue.add(`${p.metadata.namespace}/${instance}`);
    });
    await pods.start();
    await clusters.start();
    log.info({ term, clusters: clusters.list().length }, 'leading: reconciling clusters');
    for (const c of clusters.list()) queue.add(keyOf(c));
  }

  async stop(): Promise<void> {
    this.ready = false;
    clearInterval(this.resyncTimer);
    this.queue?.stop();
    await this.runtime?.stopAll();
    for (const i of this.informers) await i.stop();
    this.elector?.stop();
    await this.elector?.release();
    await this.webhooks?.close();
    for (const s of this.servers) s.close();
  }
}

function listen(port: number, handler: http.RequestListener): Promise<http.Server> {
  const server = http.createServer(handler);
  return new Promise((resolve, reject) => server.once('error', reject).listen(port, '0.0.0.0', () => resolve(server)));
}
