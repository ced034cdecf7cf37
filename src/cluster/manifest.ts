/**
 * Loads a user's `MySQLCluster` manifest (moco.cybozu.com/v1beta2) for a local run: parses the YAML stream,
 * applies the CRD defaults and the validating-webhook rules, and normalizes it into a {@link ClusterSpec}.
 * Every problem is collected, so one {@link ManifestError} lists all of them, each with a fix.
 */
import { isDeepStrictEqual } from 'node:util';
import YAML from 'yaml';

import { checkCronSyntax } from '../backup/cron.ts';
import { checkBackupPolicy, checkRestore, EnvSources } from '../backup/policy.ts';
import { type RestoreSpec } from '../api/spec.ts';
import { messageOf } from '../shared/errors.ts';
import {
  Checker, describe, given, isObj, ManifestError, notApplyingInto, type NotApplying, type Obj, words,
} from './checker.ts';
import { KUBE_FIELDS } from './kube-fields.ts';
import type { LoadedManifest } from './spec.ts';
import type { ClusterSpec, ReplicationSource } from '../api/spec.ts';

export { ManifestError, parseQuantityBytes } from './checker.ts';

const API_VERSION = 'moco.cybozu.com/v1beta2';

/** The seed's rule for spec.replicas, as every message says it. */
export const REPLICAS_RULE = 'use a positive odd number (1, 3, 5, ...)';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const INT64 = Number.MAX_SAFE_INTEGER;

const SPEC_FIELDS = words(`replicas podTemplate volumeClaimTemplates primaryServiceTemplate replicaServiceTemplate
  mysqlConfigMapName replicationSourceSecretName collectors serverIDBase maxDelaySeconds maxDelaySecondsForPodDeletion
  startupWaitSeconds logRotationSchedule logRotationSize backupPolicyName restore disableSlowQueryLogContainer
  slowQueryLogConfigTmpl agentUseLocalhost initializeTimezoneData offline`);
const METADATA_FIELDS = words(`name namespace labels annotations generateName uid resourceVersion generation
  creationTimestamp deletionTimestamp deletionGracePeriodSeconds ownerReferences finalizers managedFields selfLink`);
const SCHEDULING = words('affinity nodeSelector nodeName tolerations topologySpreadConstraints priorityClassName');
/** PodSpec fields written one level too high, straight under `spec`. */
const POD_SPEC_FIELDS = [...words('containers initContainers volumes securityContext'), ...SCHEDULING];
const OVERWRITABLE = words('agent copy-moco-init moco-init slow-log mysqld-exporter');
const RESERVED_VOLUMES = words('tmp run var-log mysql-conf mysql-conf-d my-cnf-secret slow-fluent-bit-config');
const RESERVED_PORTS: unknown[] = [3306, 33060, 33062, 9081, 'mysql', 'mysqlx', 'mysql-admin', 'health'];
/** Top-level spec fields that have no effect on one machine, with the reason shown to the user. */
const LOCAL_ONLY = Object.entries({
  'primaryServiceTemplate replicaServiceTemplate': 'there are no Kubernetes Services locally',
  volumeClaimTemplates: 'storage size is not enforced locally',
  collectors: 'no mysqld_exporter sidecar locally',
  agentUseLocalhost: 'agents always reach mysqld on localhost locally',
  initializeTimezoneData: 'time zone tables are not loaded locally',
  'logRotationSchedule logRotationSize': 'logs are not rotated locally',
  'slowQueryLogConfigTmpl disableSlowQueryLogContainer': 'there is no slow-log sidecar locally',
}).flatMap(([keys, why]) => words(keys).map((key) => [key, why] as const));

/** Validates `spec.podTemplate` like the webhook; returns the mysqld container's memory in bytes. */
function checkPodTemplate(c: Checker, pt: Obj, spec: Obj, na: NotApplying, images: string[]): number | undefined {
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
    if (name !== 'mysqld') return na(at, name, `only mysqld runs locally; container "${name}" is not run`);
    mysqld = true;
    if (typeof o.image === 'string' && o.image !== '') images.push(`${at}.image (${o.image})`);
    (c.list(o.ports, `${at}.ports`) ?? []).forEach((port, j) => {
      if (isObj(port)) c.keys(port, `${at}.ports[${j}]`, KUBE_FIELDS.containerPort);
      for (const [key, v] of Object.entries(isObj(port) ? port : {})) {
        const what = `${JSON.stringify(v)} is reserved by MOCO; change it`;
        c.check(RESERVED_PORTS.includes(v), `${at}.ports[${j}].${key}`, what);
      }
    });
    const res = c.obj(o.resources, `${at}.resources`) ?? {};
    const requests = c.obj(res.requests, `${at}.resources.requests`) ?? {};
    const limits = c.obj(res.limits, `${at}.resources.limits`) ?? {};
    const limit = c.quantity(limits.memory, `${at}.resources.limits.memory`);
    memory = c.quantity(requests.memory, `${at}.resources.requests.memory`) ?? limit;
    na(`${at}.resources.requests.cpu`, requests.cpu, 'CPU is not reserved locally');
    na(`${at}.resources.limits.cpu`, limits.cpu, 'CPU is not limited locally');
    na(`${at}.resources.limits.memory`, limits.memory, 'memory is not limited locally (it sizes the buffer pool)');
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
  na(`${P}.initContainers`, ps.initContainers, 'init containers are not run locally');
  na(`${P}.volumes`, ps.volumes, 'Pod volumes are not mounted locally');
  for (const key of SCHEDULING) na(`${P}.${key}`, ps[key], 'Kubernetes scheduling does not apply locally');
  na('spec.podTemplate.overwriteContainers', pt.overwriteContainers, 'system containers are not customized locally');
  return memory;
}

/** Unknown fields of a container, and of its resources (the API server would drop them silently). */
function checkContainerFields(c: Checker, o: Obj, at: string): void {
  c.keys(o, at, KUBE_FIELDS.container);
  c.keys(c.obj(o.resources, `${at}.resources`) ?? {}, `${at}.resources`, KUBE_FIELDS.resources);
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

/** Splits the YAML stream into the accepted kinds; YAML errors and foreign kinds are problems. */
function readDocuments(c: Checker, text: string) {
  let broken = false;
  const found = { MySQLCluster: [] as Obj[], ConfigMap: [] as Obj[], BackupPolicy: [] as Obj[], Secret: [] as Obj[] };
  const apiVersions = { MySQLCluster: API_VERSION, BackupPolicy: API_VERSION, ConfigMap: 'v1', Secret: 'v1' };
  Array.from(YAML.parseAllDocuments(text)).forEach((doc, i) => {
    const where = `document ${i + 1}`;
    for (const e of doc.errors) {
      broken = true;
      c.add(where, `invalid YAML: ${e.message.split('\n')[0]?.replace(/:$/, '')}; fix the indentation or quoting`);
    }
    const value: unknown = doc.errors.length > 0 ? null : doc.toJS();
    if (!given(value)) return;
    if (!isObj(value)) return c.add(where, `expected a Kubernetes object with a kind, got ${describe(value)}`);
    const kind = value.kind as keyof typeof found;
    if (!Object.hasOwn(found, kind)) {
      const what = given(kind) ? `kind ${JSON.stringify(kind)} is not accepted here` : 'kind is missing';
      return c.add(where, `${what}; a manifest holds a MySQLCluster and optional ConfigMap, BackupPolicy, Secret`);
    }
    const was = given(value.apiVersion) ? JSON.stringify(value.apiVersion) : 'missing';
    c.check(value.apiVersion !== apiVersions[kind], `${where} (${kind}) apiVersion`,
      `${was} is not supported; use apiVersion: ${apiVersions[kind]}`);
    found[kind].push(value);
  });
  return { found, broken };
}

/** Parses and validates the manifest text: one MySQLCluster, optional ConfigMap, BackupPolicy and Secrets. */
export function parseManifest(
  text: string,
  options: { source?: string; defaultNamespace?: string } = {},
): LoadedManifest {
  const c = new Checker();
  const fail = () => new ManifestError(c.problems, options.source);
  const { found, broken } = readDocuments(c, text);
  if (broken) throw fail(); // with YAML errors, the documents are not what the user meant
  const [cluster, ...others] = found.MySQLCluster;
  if (!cluster || others.length > 0) {
    const names = found.MySQLCluster.map((d) => (isObj(d.metadata) ? String(d.metadata.name) : '?')).join(', ');
    c.add('kind', cluster
      ? `found ${found.MySQLCluster.length} MySQLCluster documents (${names}); keep one cluster per file`
      : `no MySQLCluster document found; add one (apiVersion: ${API_VERSION}, kind: MySQLCluster)`);
    throw fail();
  }
  c.keys(cluster, '', ['apiVersion', 'kind', 'metadata', 'spec', 'status']);
  const meta = c.obj(cluster.metadata, 'metadata') ?? {};
  c.keys(meta, 'metadata', METADATA_FIELDS);
  const name = c.str(meta.name, 'metadata.name', true) ?? '';
  const namespace = c.str(meta.namespace, 'metadata.namespace') ?? options.defaultNamespace ?? 'default';
  for (const [key, v] of [['name', name || 'x'], ['namespace', namespace]] as const) {
    c.check(!DNS_LABEL.test(v), `metadata.${key}`, `"${v}" is not a DNS label; use lower-case letters, digits and "-"`);
  }
  c.check(name.length > 40, 'metadata.name', `"${name}" has ${name.length} characters; shorten it to at most 40`);

  const spec = c.obj(cluster.spec, 'spec') ?? {};
  c.keys(spec, 'spec', SPEC_FIELDS, (k) =>
    POD_SPEC_FIELDS.includes(k) ? `it belongs under spec.podTemplate.spec (spec.podTemplate.spec.${k})` : undefined);
  const notApplyingLocally: string[] = [];
  const na = notApplyingInto(notApplyingLocally);
  // Secrets and ConfigMaps of this file that job environments refer to.
  const sources = new EnvSources(c, [...found.Secret, ...found.ConfigMap]);

  const replicas = c.int(spec.replicas, 'spec.replicas', -Infinity) ?? 1;
  c.check(replicas <= 0, 'spec.replicas', `${replicas} is not positive; ${REPLICAS_RULE}`);
  c.check(replicas > 0 && replicas % 2 === 0, 'spec.replicas',
    `${replicas} is even; ${REPLICAS_RULE}, such as ${replicas - 1} or ${replicas + 1}`);
  (c.list(spec.collectors, 'spec.collectors') ?? []).forEach((v, i) => c.str(v, `spec.collectors[${i}]`, true));
  // 0 means "unset": MOCO's mutating webhook replaces it with a random base at creation.
  const serverIDBase = spec.serverIDBase === 0 ? undefined : c.int(spec.serverIDBase, 'spec.serverIDBase', 1);
  const schedule = c.str(spec.logRotationSchedule, 'spec.logRotationSchedule');
  if (schedule !== undefined) {
    try {
      checkCronSyntax(schedule); // any time zone: log rotation does not run locally
    } catch (err) {
      c.add('spec.logRotationSchedule', messageOf(err));
    }
  }
  c.int(spec.logRotationSize, 'spec.logRotationSize', 0, INT64);
  c.str(spec.slowQueryLogConfigTmpl, 'spec.slowQueryLogConfigTmpl');
  for (const key of words('agentUseLocalhost initializeTimezoneData disableSlowQueryLogContainer')) {
    c.bool(spec[key], `spec.${key}`);
  }
  for (const key of ['primaryServiceTemplate', 'replicaServiceTemplate']) {
    const t = c.obj(spec[key], `spec.${key}`) ?? {};
    c.keys(t, `spec.${key}`, ['metadata', 'spec']);
    c.keys(c.obj(t.metadata, `spec.${key}.metadata`) ?? {}, `spec.${key}.metadata`, KUBE_FIELDS.templateMeta);
    c.keys(c.obj(t.spec, `spec.${key}.spec`) ?? {}, `spec.${key}.spec`, KUBE_FIELDS.serviceSpec);
  }
  const pt = c.required(spec.podTemplate, 'spec.podTemplate', 'add one whose spec.containers has one named "mysqld"')
    ? c.obj(spec.podTemplate, 'spec.podTemplate') : undefined;
  const imageNotes: string[] = [];
  const memoryBytes = pt && checkPodTemplate(c, pt, spec, na, imageNotes);
  const vctFix = 'add one named "mysql-data" with a storage size';
  if (c.required(spec.volumeClaimTemplates, 'spec.volumeClaimTemplates', vctFix)) checkVolumeClaimTemplates(c, spec);
  const rawRestore = c.obj(spec.restore, 'spec.restore');
  const restore: RestoreSpec | undefined = rawRestore && checkRestore(c, rawRestore, sources, na);
  for (const [key, why] of LOCAL_ONLY) na(`spec.${key}`, spec[key], why);

  const result: ClusterSpec = {
    name,
    namespace,
    replicas,
    offline: c.bool(spec.offline, 'spec.offline') ?? false,
    serverIdBase: serverIDBase ?? defaultServerIdBase(namespace, name),
    maxDelaySeconds: c.int(spec.maxDelaySeconds, 'spec.maxDelaySeconds', 0, INT64) ?? 60,
    maxDelaySecondsForPodDeletion:
      c.int(spec.maxDelaySecondsForPodDeletion, 'spec.maxDelaySecondsForPodDeletion', 0, INT64) ?? 0,
    startupWaitSeconds: c.int(spec.startupWaitSeconds, 'spec.startupWaitSeconds', 0) ?? 3600,
    mycnf: {},
  };
  for (const key of ['replicationSourceSecretName', 'backupPolicyName', 'mysqlConfigMapName'] as const) {
    const v = c.str(spec[key], `spec.${key}`);
    if (v !== undefined) result[key] = v;
  }
  if (result.replicationSourceSecretName) {
    const source = checkSourceSecret(c, sources, result.replicationSourceSecretName, notApplyingLocally);
    if (source) result.replicationSource = source;
  }
  if (restore) result.restore = restore;
  if (memoryBytes !== undefined) result.memoryBytes = memoryBytes;

  const cmName = result.mysqlConfigMapName;
  const configMaps = found.ConfigMap.filter((d) => cmName && isObj(d.metadata) && d.metadata.name === cmName);
  const [configMap] = configMaps;
  c.check(configMaps.length > 1, 'spec.mysqlConfigMapName', `${configMaps.length} ConfigMaps are named "${cmName}"; ` +
    'keep one');
  c.check(cmName && !configMap, 'spec.mysqlConfigMapName', `ConfigMap "${cmName}" is not in this file; add it as ` +
    `another document after "---" (apiVersion: v1, kind: ConfigMap, metadata.name: ${cmName}, data: mysqld options), ` +
    'or remove the field');
  for (const [k, v] of Object.entries(c.obj(configMap?.data, `ConfigMap ${cmName} data`) ?? {})) {
    if (typeof v === 'string') result.mycnf[k] = v;
    else c.add(`ConfigMap ${cmName} data.${k}`, `expected a string, got ${describe(v)}; quote it: "${String(v)}"`);
  }
  const [backupPolicy, ...morePolicies] = found.BackupPolicy;
  c.check(morePolicies.length > 0, 'kind', `found ${found.BackupPolicy.length} BackupPolicy documents; keep only one`);
  const policyName = isObj(backupPolicy?.metadata) ? backupPolicy.metadata.name : undefined;
  const wanted = result.backupPolicyName;
  c.check(backupPolicy && wanted && policyName !== wanted, 'spec.backupPolicyName', `"${wanted}" does not match ` +
    `the BackupPolicy in this file (${JSON.stringify(policyName ?? null)}); make the names equal`);
  c.check(!backupPolicy && wanted, 'spec.backupPolicyName', `BackupPolicy "${wanted}" is not in this file; add it as ` +
    `another document after "---" (apiVersion: ${API_VERSION}, kind: BackupPolicy, metadata.name: ${wanted}), ` +
    'or remove the field');
  c.check(backupPolicy && !wanted && typeof policyName === 'string', 'spec.backupPolicyName', `is not set, so ` +
    `BackupPolicy "${policyName}" in this file is not used; set spec.backupPolicyName: ${policyName}, or remove the ` +
    'BackupPolicy document');
  for (const doc of found.BackupPolicy) {
    const policy = checkBackupPolicy(c, doc, sources, na);
    if (policy && policy.name === wanted) result.backupPolicy = policy;
  }

  if (c.problems.length > 0) throw fail();
  return { spec: result, cluster, configMap, backupPolicy, notApplyingLocally, imageNotes };
}

/**
 * The source Secret's keys (the seed's names). A Secret that is not in the file is not an error (the seed
 * examples name one without carrying it): the cluster waits in the Cloning state until a manifest with it is applied.
 */
function checkSourceSecret(c: Checker, sources: EnvSources, name: string, notes: string[]): ReplicationSource | undefined {
  const data = sources.data('Secret', name, 'spec.replicationSourceSecretName', true);
  if (!data) {
    notes.push(`spec.replicationSourceSecretName: Secret "${name}" is not in this file, so the cluster waits (state Cloning) ` +
      'until it is: add it as another document (kind: Secret, stringData: HOST, PORT, USER, PASSWORD, and for MySQL ' +
      'INIT_USER, INIT_PASSWORD) and run moco up -f again');
    return undefined;
  }
  const at = `Secret ${name} stringData`;
  const need = (key: string): string | undefined => {
    const v = data[key];
    c.check(v === undefined || v === '', `${at}.${key}`, `is missing or empty; the source Secret needs HOST, PORT, USER and PASSWORD`);
    return v || undefined;
  };
  const [host, portText, user, password] = [need('HOST'), need('PORT'), need('USER'), need('PASSWORD')];
  const port = Number(portText);
  c.check(portText !== undefined && (!/^\d+$/.test(portText.trim()) || port < 1 || port > 65535), `${at}.PORT`,
    `"${portText}" is not a port number; use 1-65535`);
  const extra = Object.keys(data).filter((k) => !SOURCE_SECRET_KEYS.includes(k));
  if (extra.length > 0) notes.push(`${at}: key(s) ${extra.join(', ')} are not used (the keys are ${SOURCE_SECRET_KEYS.join(', ')})`);
  if (!host || !user || !password || !(port >= 1 && port <= 65535)) return undefined;
  const source: ReplicationSource = { host: host.trim(), port, user, password };
  if (data.INIT_USER) source.initUser = data.INIT_USER;
  if (data.INIT_PASSWORD) source.initPassword = data.INIT_PASSWORD;
  return source;
}

const SOURCE_SECRET_KEYS = ['HOST', 'PORT', 'USER', 'PASSWORD', 'INIT_USER', 'INIT_PASSWORD'];

/** A stable server_id base in [1, 2^30] from namespace/name (FNV-1a), standing in for MOCO's random one. */
function defaultServerIdBase(namespace: string, name: string): number {
  let h = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(`${namespace}/${name}`)) h = Math.imul(h ^ byte, 0x01000193) >>> 0;
  return (h & 0x3fffffff) + 1;
}

/** YAML of a minimal valid MySQLCluster; throws ManifestError for an invalid name, namespace or replica count. */
export function defaultManifest(options: { name?: string; namespace?: string; replicas?: number } = {}): string {
  const metadata = { name: options.name ?? 'local', namespace: options.namespace ?? 'default' };
  const text = YAML.stringify({
    apiVersion: API_VERSION, kind: 'MySQLCluster', metadata, spec: {
      replicas: options.replicas ?? 3,
      podTemplate: { spec: { containers: [{ name: 'mysqld', image: 'ghcr.io/cybozu-go/moco/mysql:8.4.4' }] } },
      volumeClaimTemplates: [{
        metadata: { name: 'mysql-data' },
        spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
      }],
    },
  });
  parseManifest(text);
  return text;
}

/**
 * What must not change in spec.restore: everything but the resolved environment, so that rotating the credentials
 * in a referenced Secret is not refused (Kubernetes compares the written spec, which a Secret change leaves alone).
 */
function restoreIdentity(restore: RestoreSpec | undefined) {
  return restore && { ...restore, jobConfig: { ...restore.jobConfig, env: undefined } };
}

/**
 * Throws ManifestError when `next` is not an allowed update of `previous` (the webhook's update-only rules).
 * spec.restore is immutable; the BackupPolicy may change.
 */
export function checkUpdate(previous: ClusterSpec, next: ClusterSpec): void {
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
  if (c.problems.length > 0) throw new ManifestError(c.problems);
}
