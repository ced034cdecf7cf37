/**
 * The coordinator's port on Kubernetes (src/coordinator/platform.ts): roles are the moco.cybozu.com/role Pod
 * labels, a switchover request is the demote annotation or a deleting primary Pod, readiness is the Pod's Ready
 * condition, the status is the MySQLCluster's status subresource (JSON patches that test the resourceVersion, so a
 * concurrent writer's update is never lost), the heartbeat a Lease per cluster, events Events on the MySQLCluster,
 * passwords the master Secret in the controller's namespace. Agents are reached by the Pod IPs the API reports
 * (no cluster DNS needed); their certificates are checked by name and cluster, not by IP.
 */
import { checkCluster } from '../../api/mysqlcluster.ts';
import { Checker } from '../../api/checker.ts';
import type { ClusterSpec } from '../../api/spec.ts';
import { initialStatus, type ClusterStatus, type Role } from '../../api/types.ts';
import {
  checkOwned, STATUS_FIELDS, StatusConflictError, withDefaults,
  type ClusterAnnotations, type ClusterPlatform, type InstanceAgent, type StatusOwner, type StatusPatch, type StatusStore, type VersionedStatus,
} from '../../coordinator/platform.ts';
import type { InstanceAddress } from '../../coordinator/types.ts';
import { AgentClient } from '../../shared/agent-client.ts';
import { MocoError } from '../../shared/errors.ts';
import type { Logger } from '../../shared/logger.ts';
import type { PkiMaterial } from '../../shared/tls.ts';
import { clientCredentialsFrom } from '../../shared/tls.ts';
import { recordEvent } from './events.ts';
import type { Informer } from './informer.ts';
import { KubeError, resourcePath, type Kube } from './kube.ts';
import { CLUSTERING_STOPPED, DEMOTE, RECONCILIATION_STOPPED, ROLE_LABEL, names } from './names.ts';
import { asJson, type KubeObject } from './objects.ts';
import { PORTS } from './config.ts';
import type { MySQLClusterObject } from './reconciler.ts';

/** A Pod as this module reads it. */
export interface PodObject extends KubeObject {
  metadata: KubeObject['metadata'] & { deletionTimestamp?: string; resourceVersion?: string };
  status?: {
    podIP?: string; phase?: string; conditions?: Array<{ type: string; status: string; message?: string }>;
    containerStatuses?: Array<{ name: string; restartCount: number; ready?: boolean }>;
  };
}

export interface KubernetesPlatformOptions {
  kube: Kube;
  namespace: string;
  name: string;
  clusters: Informer<MySQLClusterObject>;
  pods: Informer<PodObject>;
  /** The coordinator's client certificate for this cluster, and the CA. */
  tls: PkiMaterial;
  /** The controller's namespace (the master copy of the passwords). */
  controllerNamespace: string;
  log: Logger;
  /** How often the heartbeat Lease is renewed at most (default 20 s: a write per cluster per 20 s). */
  heartbeatEveryMs?: number;
  /** The leader's term: every agent call carries it, and agents refuse an older one. */
  term?: () => number;
  /**
   * Makes the agent of instance `index` at `address` (ip:port; an address nothing listens on when the Pod has no IP).
   * Default: an mTLS AgentClient checking the agent's certificate by this cluster. Tests give fakes here.
   */
  makeAgent?: (index: number, address: string) => InstanceAgent & { close?(): void };
}

/**
 * What this process last wrote to one object, until the informer shows a newer version: the coordinator reads its
 * own writes (a status, a role label, a cleared annotation) on its next cycle, even before the watch delivers them.
 */
class OwnWrites<T extends { metadata: { resourceVersion?: string } }> {
  /** Per object: what we wrote last, and every version it replaced that the informer may still show. */
  private readonly written = new Map<string, { older: Set<string>; object: T }>();

  /** The informer's object, or what we wrote over the version it still shows. */
  read(key: string, cached: T | undefined): T | undefined {
    const w = this.written.get(key);
    if (!w) return cached;
    if (cached && w.older.has(String(cached.metadata.resourceVersion ?? ''))) return w.object;
    this.written.delete(key);
    return cached;
  }

  /**
   * We wrote `object` over version `before` (the version the informer showed when we decided to write). A write
   * over our own earlier write keeps that one's versions too: the informer may show any of them until it catches up.
   */
  wrote(key: string, before: string | undefined, object: T): void {
    if (before === undefined) return;
    const prev = this.written.get(key);
    const older = new Set([before, ...(prev?.older ?? []), ...(prev ? [String(prev.object.metadata.resourceVersion ?? '')] : [])]);
    this.written.set(key, { older, object });
  }
}

export class KubernetesPlatform implements ClusterPlatform {
  readonly name: string;
  readonly namespace: string;
  private readonly agents = new Map<number, { ip: string; tls: PkiMaterial; client: InstanceAgent & { close?(): void } }>();
  private tls: PkiMaterial;
  private readonly podWrites = new OwnWrites<PodObject>();
  private lastHeartbeat = 0;

  constructor(private readonly o: KubernetesPlatformOptions) {
    this.name = o.name;
    this.namespace = o.namespace;
    this.tls = o.tls;
  }

  /**
   * A renewed coordinator certificate: agents are reached with it from the next call on. Connections opened with
   * the old one are closed a minute later, so that calls under way (a switchover) finish on them.
   */
  setTls(tls: PkiMaterial): void {
    this.tls = tls;
    const old = [...this.agents.values()].map((a) => a.client);
    this.agents.clear();
    setTimeout(() => { for (const c of old) c.close?.(); }, 60_000).unref();
  }

  /**
   * Our last status write, until the informer has caught up with it: without it, the next cycle would decide from
   * the status as it was before our own write (a failover decided twice; the second is refused by the
   * resourceVersion test, but only after an agent call too many).
   */
  private readonly clusterWrites = new OwnWrites<MySQLClusterObject>();

  private cluster(): MySQLClusterObject {
    const c = this.clusterWrites.read(this.name, this.o.clusters.get(this.namespace, this.name));
    if (!c) throw new MocoError('NOT_FOUND', `MySQLCluster ${this.namespace}/${this.name} does not exist (any more)`);
    return c;
  }

  private pod(index: number): PodObject | undefined {
    const name = names.pod(this.name, index);
    return this.podWrites.read(name, this.o.pods.get(this.namespace, name));
  }

  private async patchPod(pod: PodObject, patch: unknown): Promise<void> {
    const before = this.o.pods.get(this.namespace, pod.metadata.name)?.metadata.resourceVersion;
    const out = await this.o.kube.mergePatch<PodObject>(resourcePath('v1', 'Pod', this.namespace, pod.metadata.name), patch);
    this.podWrites.wrote(pod.metadata.name, before, out);
  }

  async readStatus(): Promise<VersionedStatus> {
    const c = this.cluster();
    return { status: withDefaults(c.status as Partial<ClusterStatus> | undefined), version: String(c.metadata.resourceVersion ?? '') };
  }

  async patchStatus<O extends StatusOwner>(owner: O, patch: StatusPatch<O>, version: string): Promise<string> {
    const out = await patchClusterStatus(this.o.kube, this.cluster(), owner, patch, version);
    this.clusterWrites.wrote(this.name, version, out);
    return String(out.metadata.resourceVersion ?? '');
  }

  async readSpec(): Promise<ClusterSpec> {
    const c = new Checker();
    const spec = checkCluster(c, this.cluster());
    if (c.problems.length > 0) throw new MocoError('INVALID_ARGUMENT', `the MySQLCluster is not valid: ${c.problems.join('; ')}`);
    if (spec.replicationSourceSecretName) {
      const secret = await this.o.kube.tryGet<KubeObject & { data?: Record<string, string> }>(
        resourcePath('v1', 'Secret', this.namespace, spec.replicationSourceSecretName));
      const d = Object.fromEntries(Object.entries(secret?.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
      const port = Number(d.PORT);
      if (d.HOST && d.USER && d.PASSWORD && port > 0 && port < 65536) {
        spec.replicationSource = {
          host: d.HOST, port, user: d.USER, password: d.PASSWORD,
          ...(d.INIT_USER ? { initUser: d.INIT_USER } : {}), ...(d.INIT_PASSWORD ? { initPassword: d.INIT_PASSWORD } : {}),
        };
      }
    }
    return spec;
  }

  async readAnnotations(): Promise<ClusterAnnotations> {
    const a = asJson(this.cluster().metadata.annotations);
    return { clusteringStopped: a[CLUSTERING_STOPPED] === 'true', reconciliationStopped: a[RECONCILIATION_STOPPED] === 'true' };
  }

  async heartbeat(observedAt: Date): Promise<void> {
    if (Date.now() - this.lastHeartbeat < (this.o.heartbeatEveryMs ?? 20_000)) return;
    this.lastHeartbeat = Date.now();
    const lease = {
      apiVersion: 'coordination.k8s.io/v1', kind: 'Lease',
      metadata: { name: `moco-${this.name}-coordinator`, namespace: this.namespace },
      spec: { holderIdentity: process.env.POD_NAME ?? 'moco-controller', renewTime: observedAt.toISOString().replace('Z', '000Z'), leaseDurationSeconds: 60 },
    };
    await this.o.kube.apply(lease).catch((err: unknown) => this.o.log.debug({ err: (err as Error).message }, 'heartbeat not written'));
  }

  async readRoles(replicas: number): Promise<Role[]> {
    return Array.from({ length: replicas }, (_, i) => {
      const v = asJson(this.pod(i)?.metadata.labels)[ROLE_LABEL];
      return v === 'primary' || v === 'replica' ? v : '';
    });
  }

  async publishRoles(roles: Role[]): Promise<void> {
    await Promise.all(roles.map(async (role, i) => {
      const pod = this.pod(i);
      if (!pod) return;
      const have = asJson(pod.metadata.labels)[ROLE_LABEL] ?? '';
      if (have === role) return;
      await this.patchPod(pod, { metadata: { labels: { [ROLE_LABEL]: role === '' ? null : role } } });
    }));
  }

  async switchoverRequested(): Promise<boolean> {
    const primary = this.pod(withDefaults(this.cluster().status as Partial<ClusterStatus> | undefined).currentPrimaryIndex);
    return !!primary && (asJson(primary.metadata.annotations)[DEMOTE] === 'true' || !!primary.metadata.deletionTimestamp);
  }

  async clearSwitchoverRequest(): Promise<void> {
    const ours = this.o.pods.list((p) => p.metadata.namespace === this.namespace && p.metadata.name.startsWith(`moco-${this.name}-`))
      .map((p) => this.podWrites.read(p.metadata.name, p) as PodObject);
    for (const pod of ours.filter((p) => asJson(p.metadata.annotations)[DEMOTE] !== undefined)) {
      await this.patchPod(pod, { metadata: { annotations: { [DEMOTE]: null } } })
        .catch((err: unknown) => { if (!(err instanceof KubeError && err.notFound)) throw err; });
    }
  }

  async readiness(index: number): Promise<boolean> {
    return this.pod(index)?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
  }

  address(index: number): InstanceAddress {
    const ip = this.pod(index)?.status?.podIP ?? '';
    return { host: ip, port: PORTS.mysql, agent: ip ? `${ip}:${PORTS.agent}` : '' };
  }

  agent(index: number): InstanceAgent {
    const ip = this.pod(index)?.status?.podIP ?? '';
    const cached = this.agents.get(index);
    if (cached && cached.ip === ip && cached.tls === this.tls) return cached.client;
    cached?.client.close?.();
    // An unknown IP gets an address nothing listens on: calls fail fast, as to a dead instance.
    const target = ip ? `${ip}:${PORTS.agent}` : `127.0.0.1:1`;
    const serverName = `${names.pod(this.name, index)}.${names.headless(this.name)}.${this.namespace}.svc`;
    const client = this.o.makeAgent?.(index, target) ??
      new AgentClient(target, clientCredentialsFrom(this.tls), { serverName, ...(this.o.term ? { term: this.o.term } : {}) });
    this.agents.set(index, { ip, tls: this.tls, client });
    return client;
  }

  async passwords(): Promise<Record<string, string>> {
    const s = await this.o.kube.get<KubeObject & { data?: Record<string, string> }>(
      resourcePath('v1', 'Secret', this.o.controllerNamespace, `mysql-${this.namespace}.${this.name}`));
    return Object.fromEntries(Object.entries(s.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
  }

  event(type: 'Normal' | 'Warning', reason: string, message: string): void {
    const c = this.o.clusters.get(this.namespace, this.name);
    if (c) recordEvent(this.o.kube, this.o.log, c, type, reason, message);
  }

  /** Closes the agent connections (the cluster's manager stopped). */
  close(): void {
    for (const a of this.agents.values()) a.client.close?.();
    this.agents.clear();
  }
}


/**
 * Writes `owner`'s fields of a MySQLCluster's status if it is still at `version`: one JSON patch on the status
 * subresource that first tests metadata.resourceVersion. `base` is the object as last read (which fields exist).
 * @throws StatusConflictError when the version moved (nothing written).
 */
async function patchClusterStatus<O extends StatusOwner>(kube: Kube, base: MySQLClusterObject, owner: O, patch: StatusPatch<O>,
  version: string): Promise<MySQLClusterObject> {
  checkOwned(owner, patch);
  const current = asJson(base.status);
  const ops: unknown[] = [{ op: 'test', path: '/metadata/resourceVersion', value: version }];
  if (base.status === undefined) ops.push({ op: 'add', path: '/status', value: {} });
  // Fields still at their defaults were never written (the patch holds changes only): write the owner's defaults
  // once, so that `kubectl get` shows PRIMARY 0 and ERRANT REPLICAS 0 rather than blanks.
  const defaults = asJson(initialStatus());
  const full: Record<string, unknown> = { ...patch };
  for (const k of STATUS_FIELDS[owner] as readonly string[]) {
    if (!(k in current) && !(k in full) && defaults[k] !== undefined) full[k] = defaults[k];
  }
  for (const [k, v] of Object.entries(full)) {
    if (v === undefined) {
      if (k in current) ops.push({ op: 'remove', path: `/status/${k}` });
    } else {
      ops.push({ op: 'add', path: `/status/${k}`, value: v });
    }
  }
  const { namespace, name } = base.metadata;
  const path = resourcePath('moco.cybozu.com/v1beta2', 'MySQLCluster', namespace, name);
  try {
    return await kube.request<MySQLClusterObject>('PATCH', `${path}/status`, { body: ops, contentType: 'application/json-patch+json' });
  } catch (err) {
    if (err instanceof KubeError && err.conflict) throw new StatusConflictError(version, '(newer)');
    // A failed `test` is a bare "422 Invalid" with no details (as is a patch the schema refuses): it was a conflict
    // when the object has moved past the version we tested.
    if (err instanceof KubeError && err.status === 422) {
      const now = await kube.tryGet<MySQLClusterObject>(path).catch(() => undefined);
      const current = String(now?.metadata.resourceVersion ?? '');
      if (now && current !== version) throw new StatusConflictError(version, current);
    }
    throw err;
  }
}

/**
 * A MySQLCluster's status for a writer without informers (a backup Job, another process): every read is a GET, so
 * it is never behind; writes are the same conflict-safe patches as the coordinator's.
 */
export class KubernetesStatusStore implements StatusStore {
  private last: MySQLClusterObject | undefined;

  constructor(private readonly kube: Kube, readonly namespace: string, readonly name: string) {}

  private async get(): Promise<MySQLClusterObject> {
    this.last = await this.kube.get<MySQLClusterObject>(resourcePath('moco.cybozu.com/v1beta2', 'MySQLCluster', this.namespace, this.name));
    return this.last;
  }

  async readStatus(): Promise<VersionedStatus> {
    const c = await this.get();
    return { status: withDefaults(c.status as Partial<ClusterStatus> | undefined), version: String(c.metadata.resourceVersion ?? '') };
  }

  async patchStatus<O extends StatusOwner>(owner: O, patch: StatusPatch<O>, version: string): Promise<string> {
    const base = this.last && String(this.last.metadata.resourceVersion ?? '') === version ? this.last : await this.get();
    this.last = await patchClusterStatus(this.kube, base, owner, patch, version);
    return String(this.last.metadata.resourceVersion ?? '');
  }
}

export { initialStatus };
