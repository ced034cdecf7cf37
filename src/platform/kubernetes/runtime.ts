/**
 * The coordinators of the clusters this controller leads: one ClusterManager per MySQLCluster, through the
 * Kubernetes port, with a coordinator certificate of that cluster and the leader's term on every agent call.
 * Started and refreshed by the reconciler, stopped when a cluster goes (or leadership is lost).
 */
import { X509Certificate } from 'node:crypto';
import type { ClusterSpec } from '../../api/spec.ts';
import { ClusterManager } from '../../coordinator/manager.ts';
import type { CoordinatorMetrics } from '../../coordinator/metrics.ts';
import type { Pem } from '../../shared/pki.ts';
import type { Logger } from '../../shared/logger.ts';
import { coordinatorCert, needsRenewal } from './certs.ts';
import type { Informer } from './informer.ts';
import type { Kube } from './kube.ts';
import { KubernetesPlatform, type PodObject } from './platform.ts';
import type { ClusterRuntime, MySQLClusterObject } from './reconciler.ts';

export interface RuntimeOptions {
  kube: Kube;
  log: Logger;
  clusters: Informer<MySQLClusterObject>;
  pods: Informer<PodObject>;
  metrics: CoordinatorMetrics;
  ca: () => Promise<Pem>;
  controllerNamespace: string;
  /** The leader's term (see lease.ts); every mutating agent call carries it. */
  term: () => number;
  pollMs?: number;
}

interface Running {
  manager: ClusterManager;
  platform: KubernetesPlatform;
  /** The coordinator's certificate for this cluster (renewed by ensure() once a third of its life is left). */
  cert: Pem;
}

export class KubernetesRuntime implements ClusterRuntime {
  private readonly running = new Map<string, Running>();
  private readonly starting = new Map<string, Promise<void>>();

  constructor(private readonly o: RuntimeOptions) {}

  /** The manager of a cluster, to trigger it when its Pods change. */
  trigger(namespace: string, name: string, reason: string): void {
    this.running.get(`${namespace}/${name}`)?.manager.trigger(reason);
  }

  async ensure(_cluster: MySQLClusterObject, spec: ClusterSpec): Promise<void> {
    const key = `${spec.namespace}/${spec.name}`;
    const r = this.running.get(key);
    if (r) {
      await this.renewCert(key, r);
      r.manager.trigger('reconciled');
      return;
    }
    let p = this.starting.get(key);
    if (!p) {
      p = this.start(spec).finally(() => this.starting.delete(key));
      this.starting.set(key, p);
    }
    await p;
  }

  /** A new coordinator certificate when the current one needs renewal (or the CA changed). */
  private async renewCert(key: string, r: Running): Promise<void> {
    const ca = await this.o.ca();
    if (!needsRenewal(r.cert.cert, ca.cert)) return;
    const [namespace, name] = key.split('/') as [string, string];
    r.cert = await coordinatorCert(ca, { namespace, name });
    r.platform.setTls({ caCert: Buffer.from(ca.cert), cert: Buffer.from(r.cert.cert), key: Buffer.from(r.cert.key) });
    this.o.log.info({ cluster: key, notAfter: new X509Certificate(r.cert.cert).validTo }, 'renewed the coordinator certificate');
  }

  private async start(spec: ClusterSpec): Promise<void> {
    const key = `${spec.namespace}/${spec.name}`;
    const ca = await this.o.ca();
    const cert = await coordinatorCert(ca, spec);
    const log = this.o.log.child({ cluster: key });
    const platform = new KubernetesPlatform({
      kube: this.o.kube, namespace: spec.namespace, name: spec.name, clusters: this.o.clusters, pods: this.o.pods,
      tls: { caCert: Buffer.from(ca.cert), cert: Buffer.from(cert.cert), key: Buffer.from(cert.key) },
      controllerNamespace: this.o.controllerNamespace, log, term: this.o.term,
    });
    const manager = new ClusterManager({
      platform, log, metrics: this.o.metrics.forCluster(spec.name, spec.namespace), pollMs: this.o.pollMs ?? 1000,
      // Pod labels reach the Services through kube-proxy: give routing the seed's 300 ms to drop old roles.
      decide: { roleSettleMs: 300 },
    });
    await manager.start();
    this.running.set(key, { manager, platform, cert });
    log.info('coordinator started');
  }

  async stop(namespace: string, name: string): Promise<void> {
    const key = `${namespace}/${name}`;
    await this.starting.get(key)?.catch(() => undefined);
    const r = this.running.get(key);
    if (!r) return;
    this.running.delete(key);
    await r.manager.stop();
    r.platform.close();
    this.o.log.info({ cluster: key }, 'coordinator stopped');
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.running.keys()].map((k) => {
      const [ns, name] = k.split('/') as [string, string];
      return this.stop(ns, name);
    }));
  }
}
