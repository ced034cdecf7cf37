/**
 * The MySQLCluster reconciler: reads a cluster and what exists, computes what should exist with the pure builders,
 * and converges (server-side apply, skipped when what it would apply has not changed since it last did). It never
 * depends on which event woke it (level-triggered), never does long work (clones, backups run in the coordinator
 * or in Jobs), and reports an invalid spec as a Warning event instead of retrying it hot. The order is the seed's:
 * Secrets, certificate, my.cnf, ServiceAccount, Services, StatefulSet, then the cluster's coordinator.
 */
import { randomBytes } from 'node:crypto';
import { checkCluster } from '../../api/mysqlcluster.ts';
import { Checker } from '../../api/checker.ts';
import type { ClusterSpec } from '../../api/spec.ts';
import { PASSWORD_KEYS, type Passwords } from '../../shared/accounts.ts';
import type { Pem } from '../../shared/pki.ts';
import type { Logger } from '../../shared/logger.ts';
import { agentCertSecret } from './certs.ts';
import { bootstrapSecret, clientConfigSecret, myCnfConfigMap, passwordSecret, serviceAccount } from './config.ts';
import { KubeError, policyApiVersion, resourcePath, type Kube } from './kube.ts';
import { FINALIZER, RECONCILIATION_STOPPED, baseLabels, names } from './names.ts';
import { asJson, ownerRef, type Json, type KubeObject, type OwnerRef } from './objects.ts';
import { podDisruptionBudget, services } from './services.ts';
import { statefulSet } from './statefulset.ts';

/** How many my.cnf ConfigMaps to keep per cluster, the current one included (the seed's default). */
const MYCNF_HISTORY = 10;

export interface MySQLClusterObject extends KubeObject {
  metadata: KubeObject['metadata'] & { uid: string; generation?: number; deletionTimestamp?: string; finalizers?: string[]; resourceVersion?: string };
  spec: Json;
}

/** What the reconciler tells the cluster's coordinator (it runs the clustering for the cluster). */
export interface ClusterRuntime {
  /** Starts or refreshes the cluster's coordinator. */
  ensure(cluster: MySQLClusterObject, spec: ClusterSpec): Promise<void>;
  /** Stops it (the cluster is gone or going). */
  stop(namespace: string, name: string): Promise<void>;
}

export interface ReconcilerOptions {
  kube: Kube;
  log: Logger;
  /** The controller's namespace (the CA and the master copy of each cluster's passwords live there). */
  namespace: string;
  agentImage: string;
  ca: () => Promise<Pem>;
  runtime: ClusterRuntime;
  event: (cluster: MySQLClusterObject, type: 'Normal' | 'Warning', reason: string, message: string) => void;
}

const newPasswords = (): Passwords => Object.fromEntries(PASSWORD_KEYS.map((k) => [k, randomBytes(16).toString('hex')])) as Passwords;
const decode = (data: unknown): Record<string, string> =>
  Object.fromEntries(Object.entries(asJson(data)).map(([k, v]) => [k, Buffer.from(String(v), 'base64').toString('utf8')]));

export class Reconciler {
  /** What was last applied, per object, so that an unchanged object is not applied again. */
  private readonly applied = new Map<string, string>();

  constructor(private readonly o: ReconcilerOptions) {}

  /** Reconciles one cluster; `cluster` undefined means it no longer exists. Returns when to look again (ms). */
  async reconcile(namespace: string, name: string, cluster: MySQLClusterObject | undefined): Promise<{ requeueAfterMs?: number }> {
    const { kube, runtime } = this.o;
    if (!cluster) {
      await runtime.stop(namespace, name);
      return {};
    }
    if (cluster.metadata.deletionTimestamp) {
      await this.finalize(cluster);
      return {};
    }
    if (!(cluster.metadata.finalizers ?? []).includes(FINALIZER)) {
      await kube.request('PATCH', resourcePath(cluster.apiVersion, 'MySQLCluster', namespace, name), {
        contentType: 'application/json-patch+json',
        body: [
          { op: 'test', path: '/metadata/resourceVersion', value: cluster.metadata.resourceVersion },
          cluster.metadata.finalizers ? { op: 'add', path: '/metadata/finalizers/-', value: FINALIZER } : { op: 'add', path: '/metadata/finalizers', value: [FINALIZER] },
        ],
      });
      return { requeueAfterMs: 0 };
    }
    const c = new Checker();
    const spec = checkCluster(c, cluster);
    if (c.problems.length > 0) {
      this.o.event(cluster, 'Warning', 'InvalidSpec', `the spec is not valid; fix it: ${c.problems.join('; ')}`);
      return {};
    }
    if (asJson(cluster.metadata.annotations)[RECONCILIATION_STOPPED] === 'true') {
      // Objects are left as they are; the coordinator keeps running (it handles clustering stop/start itself).
      await runtime.ensure(cluster, spec);
      return {};
    }
    if (spec.mysqlConfigMapName) {
      const cm = await kube.tryGet<KubeObject & { data?: Record<string, string> }>(resourcePath('v1', 'ConfigMap', namespace, spec.mysqlConfigMapName));
      if (!cm) {
        this.o.event(cluster, 'Warning', 'ConfigMapMissing', `ConfigMap ${spec.mysqlConfigMapName} (spec.mysqlConfigMapName) does not exist; create it`);
        return { requeueAfterMs: 30_000 };
      }
      spec.mycnf = { ...cm.data };
    }
    const owner = ownerRef(cluster);
    const passwords = await this.passwords(cluster);
    const myCnf = myCnfConfigMap(spec, owner);
    const objects: KubeObject[] = [
      passwordSecret(spec, passwords, owner), clientConfigSecret(spec, passwords, owner), bootstrapSecret(spec, passwords, owner),
      myCnf, serviceAccount(spec, owner), ...services(spec, cluster, owner),
    ];
    const current = await kube.tryGet<KubeObject & { data?: Record<string, string> }>(resourcePath('v1', 'Secret', namespace, names.grpcCert(name)));
    const cert = await agentCertSecret(await this.o.ca(), current?.data, spec, owner);
    if (cert) objects.push(cert);
    for (const obj of objects) await this.apply(obj);
    await this.apply(statefulSet(spec, cluster, owner, { agentImage: this.o.agentImage, myCnfConfigMap: myCnf.metadata.name }));
    await this.reconcilePdb(spec, owner);
    await this.pruneMyCnf(spec, myCnf.metadata.name);
    await this.ownClaims(spec, owner);
    await runtime.ensure(cluster, spec);
    // Certificates are renewed by a later pass; claims appear as Pods are created.
    return { requeueAfterMs: 60_000 };
  }

  /** The PodDisruptionBudget: applied for three instances or more, deleted otherwise (see podDisruptionBudget). */
  private async reconcilePdb(spec: ClusterSpec, owner: OwnerRef): Promise<void> {
    this.policyVersion ??= await policyApiVersion(this.o.kube);
    const pdb = podDisruptionBudget(spec, owner, this.policyVersion);
    if (pdb) {
      await this.apply(pdb);
      return;
    }
    const key = `PodDisruptionBudget/${spec.namespace}/${names.pdb(spec.name)}`;
    const path = resourcePath(this.policyVersion, 'PodDisruptionBudget', spec.namespace, names.pdb(spec.name));
    if (this.applied.has(key) || await this.o.kube.tryGet(path)) {
      await this.o.kube.delete(path);
      this.applied.delete(key);
    }
  }

  /** The PodDisruptionBudget API version, found once by discovery. */
  private policyVersion: string | undefined;

  /** Server-side apply, skipped when the same object was applied last time. */
  private async apply(obj: KubeObject): Promise<void> {
    const key = `${obj.kind}/${obj.metadata.namespace ?? ''}/${obj.metadata.name}`;
    const text = JSON.stringify(obj);
    if (this.applied.get(key) === text) return;
    await this.o.kube.apply(obj);
    this.applied.set(key, text);
  }

  /**
   * The cluster's passwords: a master copy in the controller's namespace (`mysql-<ns>.<name>`, created once),
   * from which the Secret in the cluster's namespace is re-applied if someone changes it.
   */
  private async passwords(cluster: MySQLClusterObject): Promise<Passwords> {
    const { kube, namespace } = this.o;
    const name = `mysql-${cluster.metadata.namespace}.${cluster.metadata.name}`;
    const path = resourcePath('v1', 'Secret', namespace, name);
    const existing = await kube.tryGet<KubeObject & { data?: Record<string, string> }>(path);
    if (existing?.data) return decode(existing.data) as Passwords;
    const passwords = newPasswords();
    try {
      await kube.request('POST', resourcePath('v1', 'Secret', namespace), {
        body: {
          apiVersion: 'v1', kind: 'Secret', type: 'Opaque',
          metadata: { name, namespace, labels: { ...baseLabels(cluster.metadata.name), 'app.kubernetes.io/instance-namespace': String(cluster.metadata.namespace) } },
          stringData: passwords,
        },
      });
      return passwords;
    } catch (err) {
      if (err instanceof KubeError && err.conflict) {
        const other = await kube.get<KubeObject & { data?: Record<string, string> }>(path);
        return decode(other.data) as Passwords;
      }
      throw err;
    }
  }

  /** Deletes my.cnf ConfigMaps of the cluster beyond the newest MYCNF_HISTORY (never the current one). */
  private async pruneMyCnf(spec: ClusterSpec, currentName: string): Promise<void> {
    const { items } = await this.o.kube.list<KubeObject & { metadata: { creationTimestamp?: string } }>(
      resourcePath('v1', 'ConfigMap', spec.namespace), { query: { labelSelector: selector(spec.name) } });
    const mine = items.filter((cm) => cm.metadata.name.startsWith(`moco-${spec.name}.`) && cm.metadata.name !== currentName)
      .sort((a, b) => String(b.metadata.creationTimestamp).localeCompare(String(a.metadata.creationTimestamp)));
    for (const old of mine.slice(MYCNF_HISTORY - 1)) {
      await this.o.kube.delete(resourcePath('v1', 'ConfigMap', spec.namespace, old.metadata.name));
    }
  }

  /** Gives the StatefulSet's claims the cluster as owner, so that deleting the cluster deletes its data too (seed). */
  private async ownClaims(spec: ClusterSpec, owner: OwnerRef): Promise<void> {
    const { items } = await this.o.kube.list<KubeObject>(resourcePath('v1', 'PersistentVolumeClaim', spec.namespace),
      { query: { labelSelector: selector(spec.name) } });
    for (const pvc of items) {
      const refs = pvc.metadata.ownerReferences ?? [];
      if (refs.some((r) => r.uid === owner.uid)) continue;
      await this.o.kube.mergePatch(resourcePath('v1', 'PersistentVolumeClaim', spec.namespace, pvc.metadata.name),
        { metadata: { ownerReferences: [...refs, { ...owner, controller: false }] } });
    }
  }

  /** A cluster being deleted: stop its coordinator, drop what owner references cannot, release the finalizer. */
  private async finalize(cluster: MySQLClusterObject): Promise<void> {
    const { kube, runtime, namespace } = this.o;
    const ns = String(cluster.metadata.namespace);
    await runtime.stop(ns, cluster.metadata.name);
    await kube.delete(resourcePath('v1', 'Secret', namespace, `mysql-${ns}.${cluster.metadata.name}`));
    const finalizers = cluster.metadata.finalizers ?? [];
    const i = finalizers.indexOf(FINALIZER);
    if (i < 0) return;
    await kube.request('PATCH', resourcePath(cluster.apiVersion, 'MySQLCluster', ns, cluster.metadata.name), {
      contentType: 'application/json-patch+json',
      body: [{ op: 'test', path: `/metadata/finalizers/${i}`, value: FINALIZER }, { op: 'remove', path: `/metadata/finalizers/${i}` }],
    });
    for (const key of [...this.applied.keys()]) if (key.includes(`/${ns}/moco-`) && key.includes(cluster.metadata.name)) this.applied.delete(key);
  }
}

/** The label selector of a cluster's objects. */
export function selector(name: string): string {
  return Object.entries(baseLabels(name)).map(([k, v]) => `${k}=${v}`).join(',');
}
