/**
 * MySQLCluster (moco.cybozu.com/v1beta2): the CRD schema's rules and the seed's admission webhooks, as pure
 * functions. `validateCluster` and `applyClusterDefaults` are what the Kubernetes webhooks call; `checkCluster`
 * also normalizes the object into the {@link ClusterSpec} the coordinator works from (the local platform adds the
 * documents beside it: the my.cnf ConfigMap, the BackupPolicy, the source Secret). Every problem is collected, so
 * one call reports all of them, each as "path: what is wrong; how to fix".
 */
import { isDeepStrictEqual } from 'node:util';
import { restoreIdentity } from './backuppolicy.ts';
import { checkRestore } from './backuppolicy.ts';
import { Checker, isObj, type Obj, words } from './checker.ts';
import { checkCronSyntax } from './cron.ts';
import { EnvSources } from './env.ts';
import { KUBE_FIELDS } from './kube-fields.ts';
import type { ClusterSpec } from './spec.ts';

export const API_VERSION = 'moco.cybozu.com/v1beta2';

/** The seed's rule for spec.replicas, as every message says it. */
export const REPLICAS_RULE = 'use a positive odd number (1, 3, 5, ...)';

/** The longest name: `moco-backup-<name>` (a CronJob) must fit in 52 characters. */
export const MAX_NAME_LENGTH = 40;

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const INT64 = Number.MAX_SAFE_INTEGER;

export const SPEC_FIELDS = words(`replicas podTemplate volumeClaimTemplates primaryServiceTemplate replicaServiceTemplate
  mysqlConfigMapName replicationSourceSecretName collectors serverIDBase maxDelaySeconds maxDelaySecondsForPodDeletion
  startupWaitSeconds logRotationSchedule logRotationSize backupPolicyName restore disableSlowQueryLogContainer
  slowQueryLogConfigTmpl agentUseLocalhost initializeTimezoneData offline`);
export const METADATA_FIELDS = words(`name namespace labels annotations generateName uid resourceVersion generation
  creationTimestamp deletionTimestamp deletionGracePeriodSeconds ownerReferences finalizers managedFields selfLink`);
export const SCHEDULING = words('affinity nodeSelector nodeName tolerations topologySpreadConstraints priorityClassName');
/** PodSpec fields written one level too high, straight under `spec`. */
const POD_SPEC_FIELDS = [...words('containers initContainers volumes securityContext'), ...SCHEDULING];
const OVERWRITABLE = words('agent copy-moco-init moco-init slow-log mysqld-exporter');
const RESERVED_VOLUMES = words('tmp run var-log mysql-conf mysql-conf-d my-cnf-secret slow-fluent-bit-config');
const RESERVED_PORTS: unknown[] = [3306, 33060, 33062, 9081, 'mysql', 'mysqlx', 'mysql-admin', 'health'];

/** The CRD's defaults (`replicas` 1, `maxDelaySeconds` 60, ...). */
export const CLUSTER_DEFAULTS = { replicas: 1, maxDelaySeconds: 60, maxDelaySecondsForPodDeletion: 0, startupWaitSeconds: 3600 } as const;

/** Unknown fields of a container, and of its resources (the API server would drop them silently). */
function checkContainerFields(c: Checker, o: Obj, at: string): void {
  c.keys(o, at, KUBE_FIELDS.container);
  c.keys(c.obj(o.resources, `${at}.resources`) ?? {}, `${at}.resources`, KUBE_FIELDS.resources);
}

/** Validates `spec.podTemplate` like the webhook; returns the mysqld container's memory in bytes. */
function checkPodTemplate(c: Checker, pt: Obj, spec: Obj): number | undefined {
  const P = 'spec.podTemplate.spec';
  c.keys(pt, 'spec.podTemplate', ['metadata', 'spec', 'overwriteContainers']);
  c.keys(c.obj(pt.metadata, 'spec.podTemplate.metadata') ?? {}, 'spec.podTemplate.metadata', KUBE_FIELDS.templateMeta);
  const ps = c.obj(pt.spec, P, true) ?? {};
  c.keys(ps, P, KUBE_FIELDS.podSpec);
  const reserved = ['agent', ...(spec.disableSlowQueryLogContainer === true ? [] : ['slow-log'])];
  if (Array.isArray(spec.collectors) && spec.collectors.length > 0) reserved.push('mysqld-exporter');
  let memory: number | undefined;
  let mysqld = false;
  (c.list(ps.containers, `${P}.containers`) ?? []).forEach((ct, i) => {
    const at = `${P}.containers[${i}]`;
    const o = c.obj(ct, at, true);
    if (o) checkContainerFields(c, o, at);
    const name = o && c.str(o.name, `${at}.name`, true);
    if (!o || !name) return;
    c.check(reserved.includes(name), `${at}.name`, `"${name}" is reserved for a MOCO container; rename it`);
    if (name !== 'mysqld') return;
    mysqld = true;
    (c.list(o.ports, `${at}.ports`) ?? []).forEach((port, j) => {
      if (isObj(port)) c.keys(port, `${at}.ports[${j}]`, KUBE_FIELDS.containerPort);
      for (const [key, v] of Object.entries(isObj(port) ? port : {})) {
        c.check(RESERVED_PORTS.includes(v), `${at}.ports[${j}].${key}`, `${JSON.stringify(v)} is reserved by MOCO; change it`);
      }
    });
    const res = c.obj(o.resources, `${at}.resources`) ?? {};
    const requests = c.obj(res.requests, `${at}.resources.requests`) ?? {};
    const limits = c.obj(res.limits, `${at}.resources.limits`) ?? {};
    const limit = c.quantity(limits.memory, `${at}.resources.limits.memory`);
    memory = c.quantity(requests.memory, `${at}.resources.requests.memory`) ?? limit;
  });
  c.check(!mysqld && isObj(pt.spec), `${P}.containers`, 'no container named "mysqld"; add one: "- name: mysqld"');
  (c.list(ps.initContainers, `${P}.initContainers`) ?? []).forEach((ct, i) => {
    const at = `${P}.initContainers[${i}]`;
    const o = c.obj(ct, at, true);
    if (o) checkContainerFields(c, o, at);
    const name = c.str(o?.name, `${at}.name`, true);
    c.check(name === 'moco-init', `${at}.name`, '"moco-init" is reserved for a MOCO container; rename it');
  });
  (c.list(ps.volumes, `${P}.volumes`) ?? []).forEach((v, i) => {
    const name = isObj(v) && typeof v.name === 'string' ? v.name : '';
    c.check(RESERVED_VOLUMES.includes(name), `${P}.volumes[${i}].name`, `"${name}" is reserved by MOCO; rename it`);
  });
  (c.list(pt.overwriteContainers, 'spec.podTemplate.overwriteContainers') ?? []).forEach((o, i) => {
    const at = `spec.podTemplate.overwriteContainers[${i}]`;
    const ow = c.obj(o, at, true) ?? {};
    c.keys(ow, at, ['name', 'resources', 'securityContext']);
    c.oneOf(ow.name, `${at}.name`, OVERWRITABLE, true);
  });
  return memory;
}

function checkVolumeClaimTemplates(c: Checker, spec: Obj): void {
  const vcts = c.list(spec.volumeClaimTemplates, 'spec.volumeClaimTemplates');
  const names = (vcts ?? []).map((item, i) => {
    const at = `spec.volumeClaimTemplates[${i}]`;
    const o = c.obj(item, at, true) ?? {};
    c.keys(o, at, ['metadata', 'spec']);
    const meta = c.obj(o.metadata, `${at}.metadata`, true);
    c.keys(meta ?? {}, `${at}.metadata`, KUBE_FIELDS.templateMeta);
    const name = c.str(meta?.name, `${at}.metadata.name`, true);
    const pvcSpec = c.obj(o.spec, `${at}.spec`, true);
    c.keys(pvcSpec ?? {}, `${at}.spec`, KUBE_FIELDS.pvcSpec);
    const resources = c.obj(pvcSpec?.resources, `${at}.spec.resources`);
    c.keys(resources ?? {}, `${at}.spec.resources`, KUBE_FIELDS.resources);
    const storage = c.obj(resources?.requests, `${at}.spec.resources.requests`)?.storage;
    if (c.required(storage, `${at}.spec.resources.requests.storage`, 'set a size such as 1Gi')) {
      c.quantity(storage, `${at}.spec.resources.requests.storage`);
    }
    return name;
  });
  c.check(vcts && !names.includes('mysql-data'), 'spec.volumeClaimTemplates',
    'no template named "mysql-data"; add one (metadata.name: mysql-data)');
}

/** A stable server_id base in [1, 2^30] from namespace/name (FNV-1a), standing in for MOCO's random one. */
export function defaultServerIdBase(namespace: string, name: string): number {
  let h = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(`${namespace}/${name}`)) h = Math.imul(h ^ byte, 0x01000193) >>> 0;
  return (h & 0x3fffffff) + 1;
}

export interface CheckClusterOptions {
  /** Resolves the restore job's Secret and ConfigMap references (default: none can be resolved, none reported). */
  sources?: EnvSources;
  /** The namespace when metadata has none. */
  defaultNamespace?: string;
}

/**
 * Checks one MySQLCluster object into `c` and normalizes it. `mycnf` is left empty and the documents the cluster
 * names (ConfigMap, BackupPolicy, source Secret) are not looked at: the caller resolves those.
 */
export function checkCluster(c: Checker, cluster: Obj, options: CheckClusterOptions = {}): ClusterSpec {
  c.keys(cluster, '', ['apiVersion', 'kind', 'metadata', 'spec', 'status']);
  const meta = c.obj(cluster.metadata, 'metadata') ?? {};
  c.keys(meta, 'metadata', METADATA_FIELDS);
  const name = c.str(meta.name, 'metadata.name', true) ?? '';
  const namespace = c.str(meta.namespace, 'metadata.namespace') ?? options.defaultNamespace ?? 'default';
  for (const [key, v] of [['name', name || 'x'], ['namespace', namespace]] as const) {
    c.check(!DNS_LABEL.test(v), `metadata.${key}`, `"${v}" is not a DNS label; use lower-case letters, digits and "-"`);
  }
  c.check(name.length > MAX_NAME_LENGTH, 'metadata.name', `"${name}" has ${name.length} characters; shorten it to at most ${MAX_NAME_LENGTH}`);

  const spec = c.obj(cluster.spec, 'spec') ?? {};
  c.keys(spec, 'spec', SPEC_FIELDS, (k) =>
    POD_SPEC_FIELDS.includes(k) ? `it belongs under spec.podTemplate.spec (spec.podTemplate.spec.${k})` : undefined);
  const replicas = c.int(spec.replicas, 'spec.replicas', -Infinity) ?? CLUSTER_DEFAULTS.replicas;
  c.check(replicas <= 0, 'spec.replicas', `${replicas} is not positive; ${REPLICAS_RULE}`);
  c.check(replicas > 0 && replicas % 2 === 0, 'spec.replicas',
    `${replicas} is even; ${REPLICAS_RULE}, such as ${replicas - 1} or ${replicas + 1}`);
  (c.list(spec.collectors, 'spec.collectors') ?? []).forEach((v, i) => c.str(v, `spec.collectors[${i}]`, true));
  // 0 means "unset": the mutating webhook replaces it with a random base at creation.
  const serverIDBase = spec.serverIDBase === 0 ? undefined : c.int(spec.serverIDBase, 'spec.serverIDBase', 1);
  const schedule = c.str(spec.logRotationSchedule, 'spec.logRotationSchedule');
  if (schedule !== undefined) {
    try {
      checkCronSyntax(schedule);
    } catch (err) {
      c.add('spec.logRotationSchedule', (err as Error).message);
    }
  }
  c.int(spec.logRotationSize, 'spec.logRotationSize', 0, INT64);
  c.str(spec.slowQueryLogConfigTmpl, 'spec.slowQueryLogConfigTmpl');
  for (const key of words('agentUseLocalhost initializeTimezoneData disableSlowQueryLogContainer')) c.bool(spec[key], `spec.${key}`);
  for (const key of ['primaryServiceTemplate', 'replicaServiceTemplate']) {
    const t = c.obj(spec[key], `spec.${key}`) ?? {};
    c.keys(t, `spec.${key}`, ['metadata', 'spec']);
    c.keys(c.obj(t.metadata, `spec.${key}.metadata`) ?? {}, `spec.${key}.metadata`, KUBE_FIELDS.templateMeta);
    c.keys(c.obj(t.spec, `spec.${key}.spec`) ?? {}, `spec.${key}.spec`, KUBE_FIELDS.serviceSpec);
  }
  const pt = c.required(spec.podTemplate, 'spec.podTemplate', 'add one whose spec.containers has one named "mysqld"')
    ? c.obj(spec.podTemplate, 'spec.podTemplate') : undefined;
  const memoryBytes = pt && checkPodTemplate(c, pt, spec);
  if (c.required(spec.volumeClaimTemplates, 'spec.volumeClaimTemplates', 'add one named "mysql-data" with a storage size')) {
    checkVolumeClaimTemplates(c, spec);
  }
  const rawRestore = c.obj(spec.restore, 'spec.restore');
  const restore = rawRestore && checkRestore(c, rawRestore, options.sources ?? EnvSources.unresolved(c));

  const result: ClusterSpec = {
    name,
    namespace,
    replicas,
    offline: c.bool(spec.offline, 'spec.offline') ?? false,
    serverIdBase: serverIDBase ?? defaultServerIdBase(namespace, name),
    maxDelaySeconds: c.int(spec.maxDelaySeconds, 'spec.maxDelaySeconds', 0, INT64) ?? CLUSTER_DEFAULTS.maxDelaySeconds,
    maxDelaySecondsForPodDeletion:
      c.int(spec.maxDelaySecondsForPodDeletion, 'spec.maxDelaySecondsForPodDeletion', 0, INT64) ?? CLUSTER_DEFAULTS.maxDelaySecondsForPodDeletion,
    startupWaitSeconds: c.int(spec.startupWaitSeconds, 'spec.startupWaitSeconds', 0) ?? CLUSTER_DEFAULTS.startupWaitSeconds,
    mycnf: {},
  };
  for (const key of ['replicationSourceSecretName', 'backupPolicyName', 'mysqlConfigMapName'] as const) {
    const v = c.str(spec[key], `spec.${key}`);
    if (v !== undefined) result[key] = v;
  }
  if (restore) result.restore = restore;
  if (memoryBytes !== undefined) result.memoryBytes = memoryBytes;
  return result;
}

/**
 * Problems when `next` is not an allowed update of `previous` (the webhook's update-only rules): no rename, no
 * fewer replicas, spec.restore immutable, replicationSourceSecretName only cleared. Empty when allowed.
 */
export function updateProblems(previous: ClusterSpec, next: ClusterSpec): string[] {
  const c = new Checker();
  for (const key of ['name', 'namespace'] as const) {
    c.check(previous[key] !== next[key], `metadata.${key}`, `changed from "${previous[key]}" to "${next[key]}"; ` +
      'a cluster cannot be renamed or moved, create a new one instead');
  }
  c.check(next.replicas < previous.replicas, 'spec.replicas', `cannot shrink from ${previous.replicas} to ` +
    `${next.replicas}; MOCO never scales down, keep ${previous.replicas} or create a new cluster`);
  c.check(!isDeepStrictEqual(restoreIdentity(previous.restore), restoreIdentity(next.restore)), 'spec.restore',
    'cannot be added, removed or changed after creation; restore into a new cluster instead');
  const [was, now] = [previous.replicationSourceSecretName, next.replicationSourceSecretName];
  c.check(now !== undefined && was === undefined, 'spec.replicationSourceSecretName',
    'cannot be set on an existing cluster; create a new cluster that replicates from the source');
  c.check(now !== undefined && was !== undefined && was !== now, 'spec.replicationSourceSecretName',
    `cannot change from "${was}" to "${now}"; clear it (null) to stop replicating, or create a new cluster`);
  return c.problems;
}

/**
 * The validating webhook: every problem of `raw` as a MySQLCluster, and with `old`, of `raw` as an update of it.
 * Secrets and ConfigMaps the object names are not looked up (they are separate objects on Kubernetes).
 */
export function validateCluster(raw: unknown, old?: unknown): string[] {
  const c = new Checker();
  if (!isObj(raw)) return ['expected a MySQLCluster object'];
  c.check(raw.kind !== undefined && raw.kind !== 'MySQLCluster', 'kind', `${JSON.stringify(raw.kind)} is not MySQLCluster`);
  c.check(raw.apiVersion !== undefined && raw.apiVersion !== API_VERSION, 'apiVersion',
    `${JSON.stringify(raw.apiVersion)} is not supported; use apiVersion: ${API_VERSION}`);
  const next = checkCluster(c, raw);
  if (c.problems.length > 0 || old === undefined || !isObj(old)) return c.problems;
  const previous = checkCluster(new Checker(), old);
  return updateProblems(previous, next);
}

/**
 * The defaulting webhook: the CRD's defaults, and on creation a server_id base when `serverIDBase` is 0 or unset
 * (`pickServerIdBase`, default a random one in [1, 2^30] as the seed does). Returns a new object; `raw` is unchanged.
 */
export function applyClusterDefaults(raw: Obj, options: { creating?: boolean; pickServerIdBase?: () => number } = {}): Obj {
  const out = structuredClone(raw);
  const spec = isObj(out.spec) ? out.spec : (out.spec = {});
  for (const [k, v] of Object.entries(CLUSTER_DEFAULTS)) if (spec[k] === undefined || spec[k] === null) spec[k] = v;
  if (options.creating && (spec.serverIDBase === undefined || spec.serverIDBase === 0)) {
    spec.serverIDBase = (options.pickServerIdBase ?? (() => 1 + Math.floor(Math.random() * 2 ** 30)))();
  }
  return out;
}
