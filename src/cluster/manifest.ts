/**
 * Loads a user's `MySQLCluster` manifest (moco.cybozu.com/v1beta2) for a local run: parses the YAML stream,
 * applies the CRD defaults and the validating-webhook rules, and normalizes it into a {@link ClusterSpec}.
 * Every problem is collected, so one {@link ManifestError} lists all of them, each with a fix.
 */
import { isDeepStrictEqual } from 'node:util';
import YAML from 'yaml';

import { invalidArgument, MocoError } from '../shared/errors.ts';
import type { ClusterSpec, LoadedManifest } from './spec.ts';

const API_VERSION = 'moco.cybozu.com/v1beta2';

/** A manifest that cannot be used; `problems` holds one line per problem ("path: what is wrong; how to fix"). */
export class ManifestError extends MocoError {
  readonly problems: string[];
  constructor(problems: string[], source?: string) {
    const lines = problems.map((p) => (source ? `${source}: ${p}` : p));
    super('INVALID_ARGUMENT', lines.join('\n'), { details: { problems } });
    this.name = 'ManifestError';
    this.problems = problems;
  }
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const given = (v: unknown): boolean => v !== undefined && v !== null;
const describe = (v: unknown): string =>
  v === null ? 'null' : Array.isArray(v) ? 'a list' : isObj(v) ? 'a mapping' : `${typeof v} ${JSON.stringify(v)}`;
const words = (s: string): string[] => s.split(/\s+/).filter(Boolean);
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const INT64 = Number.MAX_SAFE_INTEGER;
const RFC3339 = /^\d{4}-\d\d-\d\d[Tt]\d\d:\d\d:\d\d(\.\d+)?([Zz]|[+-]\d\d:\d\d)$/;

const SPEC_FIELDS = words(`replicas podTemplate volumeClaimTemplates primaryServiceTemplate replicaServiceTemplate
  mysqlConfigMapName replicationSourceSecretName collectors serverIDBase maxDelaySeconds maxDelaySecondsForPodDeletion
  startupWaitSeconds logRotationSchedule logRotationSize backupPolicyName restore disableSlowQueryLogContainer
  slowQueryLogConfigTmpl agentUseLocalhost initializeTimezoneData offline`);
const METADATA_FIELDS = words(`name namespace labels annotations generateName uid resourceVersion generation
  creationTimestamp deletionTimestamp deletionGracePeriodSeconds ownerReferences finalizers managedFields selfLink`);
const RESTORE_FIELDS = words('sourceName sourceNamespace restorePoint jobConfig schema users');
const JOB_FIELDS = words(`serviceAccountName bucketConfig workVolume threads cpu maxCpu memory maxMemory envFrom env
  affinity volumes volumeMounts`);
const BUCKET_FIELDS = words('bucketName region endpointURL usePathStyle backendType caCert');
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

/** Edit distance counting an insertion, deletion, substitution or swap of neighbours as one edit. */
function editDistance(a: string, b: string): number {
  let [before, prev] = [[] as number[], Array.from({ length: b.length + 1 }, (_, j) => j)];
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const change = (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      cur[j] = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, change);
      if (a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) cur[j] = Math.min(cur[j] ?? 0, (before[j - 2] ?? 0) + 1);
    }
    [before, prev] = [prev, cur];
  }
  return prev[b.length] ?? 0;
}

const TYPES = {
  mapping: isObj,
  list: Array.isArray,
  string: (v: unknown) => typeof v === 'string',
  boolean: (v: unknown) => typeof v === 'boolean',
};

/** Collects problems; the typed getters report type errors and return undefined for absent, null or bad values. */
class Checker {
  readonly problems: string[] = [];
  add(path: string, message: string): void {
    this.problems.push(`${path}: ${message}`);
  }
  check(bad: unknown, path: string, message: string): void {
    if (bad) this.add(path, message);
  }
  keys(obj: Obj, path: string, known: readonly string[], hint?: (key: string) => string | undefined): void {
    for (const key of Object.keys(obj).filter((k) => !known.includes(k))) {
      const [near] = known
        .map((k) => ({ k, d: editDistance(key.toLowerCase(), k.toLowerCase()) }))
        .filter(({ d }) => d <= Math.max(1, Math.floor(key.length / 3)))
        .sort((x, y) => x.d - y.d);
      const fix = hint?.(key) ?? (near ? `did you mean "${near.k}"?` : `remove it (known: ${known.join(', ')})`);
      this.add(path ? `${path}.${key}` : key, `unknown field; ${fix}`);
    }
  }
  required(v: unknown, path: string, what = 'add it'): boolean {
    this.check(!given(v), path, `is required but missing; ${what}`);
    return given(v);
  }
  typed(v: unknown, path: string, type: keyof typeof TYPES, required: boolean): unknown {
    if (v === '' && type === 'string') this.add(path, `must not be empty${required ? '' : '; set it or remove it'}`);
    else if (TYPES[type](v)) return v;
    else if (given(v)) {
      const fix = { list: '; write the items as "- ..." lines', string: isObj(v) ? '' : '; quote it' }[type as string];
      this.add(path, `expected a ${type}, got ${describe(v)}${fix ?? ''}`);
    }
    else if (required) this.required(v, path);
    return undefined;
  }
  obj = (v: unknown, path: string, required = false) => this.typed(v, path, 'mapping', required) as Obj | undefined;
  list = (v: unknown, path: string) => this.typed(v, path, 'list', false) as unknown[] | undefined;
  str = (v: unknown, path: string, required = false) => this.typed(v, path, 'string', required) as string | undefined;
  bool = (v: unknown, path: string) => this.typed(v, path, 'boolean', false) as boolean | undefined;
  int(v: unknown, path: string, min: number, max = 2 ** 31 - 1): number | undefined {
    if (!given(v)) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v)) {
      const digits = typeof v === 'string' && /^-?\d+$/.test(v.trim());
      this.add(path, `expected an integer, got ${describe(v)}${digits ? '; write it without quotes' : ''}`);
    } else if (v < min) this.add(path, `${v} is too small; use ${min === 0 ? '0 or more' : `at least ${min}`}`);
    else if (v > max) this.add(path, `${v} is too large; use at most ${max}`);
    else return v;
    return undefined;
  }
  oneOf(v: unknown, path: string, allowed: string[], required = false): void {
    const s = this.str(v, path, required);
    this.check(s && !allowed.includes(s), path, `"${s}" is not supported; use one of ${allowed.join(', ')}`);
  }
  quantity(v: unknown, path: string): number | undefined {
    try {
      if (typeof v === 'string' || typeof v === 'number') return parseQuantityBytes(v);
      this.check(given(v), path, `expected a quantity such as 1Gi, got ${describe(v)}`);
    } catch (err) {
      this.add(path, (err as Error).message);
    }
    return undefined;
  }
}

const DECIMAL: Record<string, number> = { n: -9, u: -6, m: -3, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const BINARY: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };

/** Parses a Kubernetes quantity (512Mi, 1Gi, 2G, 1e9, 1.5Gi, 100) into bytes, rounding up like Kubernetes. */
export function parseQuantityBytes(q: string | number): number {
  const bad = (why: string) => invalidArgument(`${JSON.stringify(q)} ${why}; use for example 512Mi, 1Gi or 2G`);
  if (typeof q === 'number') {
    if (!Number.isFinite(q) || q < 0) throw bad('is not a non-negative quantity');
    return Math.ceil(q);
  }
  const m = /^\+?(\d+(?:\.\d*)?|\.\d+)(?:([KMGTPE]i|[numkMGTPE])|[eE]([+-]?\d{1,4}))?$/.exec(q.trim());
  if (!m) throw bad('is not a Kubernetes quantity');
  const [whole = '', frac = ''] = (m[1] ?? '').split('.');
  const digits = BigInt(whole + frac || '0') << BigInt(BINARY[m[2] ?? ''] ?? 0);
  const exp = (m[3] !== undefined ? Number(m[3]) : (DECIMAL[m[2] ?? ''] ?? 0)) - frac.length;
  let n: bigint;
  if (digits === 0n) n = 0n;
  else if (exp > 30) throw bad('is too large');
  else if (exp >= 0) n = digits * 10n ** BigInt(exp);
  else if (-exp > digits.toString().length) n = 1n; // a positive fraction of a byte rounds up to 1
  else n = (digits + 10n ** BigInt(-exp) - 1n) / 10n ** BigInt(-exp);
  if (n > BigInt(Number.MAX_SAFE_INTEGER)) throw bad('is too large');
  return Number(n);
}

const CRON_FIELDS: [number, number, string[]][] = [
  [0, 59, []], [0, 23, []], [1, 31, []],
  [1, 12, words('jan feb mar apr may jun jul aug sep oct nov dec')], [0, 6, words('sun mon tue wed thu fri sat')],
];

/** True for what robfig/cron's ParseStandard accepts: 5 fields, an @descriptor or "@every <duration>". */
function isCron(text: string): boolean {
  const s = text.trim().replace(/^(CRON_)?TZ=\S+\s+/, '');
  if (s.startsWith('@every ')) return /^@every ((\d+(\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h))+$/.test(s) && /[1-9]/.test(s);
  if (s.startsWith('@')) return words('@yearly @annually @monthly @weekly @daily @midnight @hourly').includes(s);
  const fields = words(s);
  return fields.length === 5 && fields.every((field, i) => {
    const [lo, hi, names] = CRON_FIELDS[i] as [number, number, string[]];
    const value = (t: string) => (/^\d+$/.test(t) ? Number(t) : names.indexOf(t.toLowerCase()) + lo);
    return field.split(',').every((part) => {
      const m = /^(?:([*?])|(\w+)(?:-(\w+))?)(?:\/(\d+))?$/.exec(part);
      if (!m || (m[4] !== undefined && Number(m[4]) < 1)) return false;
      const [a, b] = m[1] ? [lo, hi] : [value(m[2] ?? ''), value(m[3] ?? m[2] ?? '')];
      return a >= lo && b <= hi && a <= b;
    });
  });
}

type NotApplying = (path: string, v: unknown, why: string) => void;

/** Validates `spec.podTemplate` like the webhook; returns the mysqld container's memory in bytes. */
function checkPodTemplate(c: Checker, pt: Obj, spec: Obj, na: NotApplying): number | undefined {
  const P = 'spec.podTemplate.spec';
  c.keys(pt, 'spec.podTemplate', ['metadata', 'spec', 'overwriteContainers']);
  const ps = c.obj(pt.spec, P, true) ?? {};
  const reserved = ['agent', ...(spec.disableSlowQueryLogContainer === true ? [] : ['slow-log'])];
  if (Array.isArray(spec.collectors) && spec.collectors.length > 0) reserved.push('mysqld-exporter');
  let memory: number | undefined;
  let mysqld = false;
  (c.list(ps.containers, `${P}.containers`) ?? []).forEach((ct, i) => {
    const at = `${P}.containers[${i}]`;
    const o = c.obj(ct, at, true);
    const name = o && c.str(o.name, `${at}.name`, true);
    if (!o || !name) return;
    c.check(reserved.includes(name), `${at}.name`, `"${name}" is reserved for a MOCO container; rename it`);
    if (name !== 'mysqld') return na(at, name, `only mysqld runs locally; container "${name}" is not run`);
    mysqld = true;
    (c.list(o.ports, `${at}.ports`) ?? []).forEach((port, j) => {
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
    const name = c.str(c.obj(ct, at, true)?.name, `${at}.name`, true);
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

function checkVolumeClaimTemplates(c: Checker, spec: Obj): void {
  const vcts = c.list(spec.volumeClaimTemplates, 'spec.volumeClaimTemplates');
  const names = (vcts ?? []).map((item, i) => {
    const at = `spec.volumeClaimTemplates[${i}]`;
    const o = c.obj(item, at, true) ?? {};
    const name = c.str(c.obj(o.metadata, `${at}.metadata`, true)?.name, `${at}.metadata.name`, true);
    const resources = c.obj(c.obj(o.spec, `${at}.spec`, true)?.resources, `${at}.spec.resources`);
    const storage = c.obj(resources?.requests, `${at}.spec.resources.requests`)?.storage;
    if (c.required(storage, `${at}.spec.resources.requests.storage`, 'set a size such as 1Gi')) {
      c.quantity(storage, `${at}.spec.resources.requests.storage`);
    }
    return name;
  });
  c.check(vcts && !names.includes('mysql-data'), 'spec.volumeClaimTemplates',
    'no template named "mysql-data"; add one (metadata.name: mysql-data)');
}

function checkRestore(c: Checker, restore: Obj): void {
  c.keys(restore, 'spec.restore', RESTORE_FIELDS);
  c.str(restore.sourceName, 'spec.restore.sourceName', true);
  c.str(restore.sourceNamespace, 'spec.restore.sourceNamespace', true);
  const point = c.str(restore.restorePoint, 'spec.restore.restorePoint', true);
  c.check(point && (!RFC3339.test(point) || Number.isNaN(Date.parse(point))), 'spec.restore.restorePoint',
    `"${point}" is not an RFC 3339 time; use for example "2021-05-26T12:34:56Z"`);
  for (const key of ['schema', 'users']) c.str(restore[key], `spec.restore.${key}`);
  const job = c.obj(restore.jobConfig, 'spec.restore.jobConfig', true);
  if (!job) return;
  c.keys(job, 'spec.restore.jobConfig', JOB_FIELDS);
  c.str(job.serviceAccountName, 'spec.restore.jobConfig.serviceAccountName');
  c.int(job.threads, 'spec.restore.jobConfig.threads', 1);
  for (const key of ['cpu', 'maxCpu', 'memory', 'maxMemory']) c.quantity(job[key], `spec.restore.jobConfig.${key}`);
  const at = 'spec.restore.jobConfig.bucketConfig';
  const bucket = c.obj(job.bucketConfig, at, true);
  if (!bucket) return;
  c.keys(bucket, at, BUCKET_FIELDS);
  c.str(bucket.bucketName, `${at}.bucketName`, true);
  const url = c.str(bucket.endpointURL, `${at}.endpointURL`);
  c.check(url && !/^https?:\/\//.test(url), `${at}.endpointURL`, `"${url}" must start with http:// or https://`);
  c.oneOf(bucket.backendType, `${at}.backendType`, ['s3', 'gcs', 'azure']);
  c.bool(bucket.usePathStyle, `${at}.usePathStyle`);
  for (const key of ['region', 'caCert']) c.str(bucket[key], `${at}.${key}`);
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
  const na: NotApplying = (path, v, why) => {
    const empty = !given(v) || v === false || v === 0 || (Array.isArray(v) && v.length === 0);
    if (!empty) notApplyingLocally.push(`${path}: ${why}`);
  };

  const replicas = c.int(spec.replicas, 'spec.replicas', -Infinity) ?? 1;
  c.check(replicas <= 0, 'spec.replicas', `${replicas} is not positive; use 1, 3 or 5`);
  c.check(replicas > 0 && replicas % 2 === 0, 'spec.replicas',
    `${replicas} is even; use an odd number such as ${replicas - 1} or ${replicas + 1}`);
  (c.list(spec.collectors, 'spec.collectors') ?? []).forEach((v, i) => c.str(v, `spec.collectors[${i}]`, true));
  // 0 means "unset": MOCO's mutating webhook replaces it with a random base at creation.
  const serverIDBase = spec.serverIDBase === 0 ? undefined : c.int(spec.serverIDBase, 'spec.serverIDBase', 1);
  const schedule = c.str(spec.logRotationSchedule, 'spec.logRotationSchedule');
  c.check(schedule !== undefined && !isCron(schedule), 'spec.logRotationSchedule',
    `"${schedule}" is not a cron schedule; use 5 fields such as "*/5 * * * *" or "@hourly"`);
  c.int(spec.logRotationSize, 'spec.logRotationSize', 0, INT64);
  c.str(spec.slowQueryLogConfigTmpl, 'spec.slowQueryLogConfigTmpl');
  for (const key of words('agentUseLocalhost initializeTimezoneData disableSlowQueryLogContainer')) {
    c.bool(spec[key], `spec.${key}`);
  }
  for (const key of ['primaryServiceTemplate', 'replicaServiceTemplate']) {
    c.keys(c.obj(spec[key], `spec.${key}`) ?? {}, `spec.${key}`, ['metadata', 'spec']);
  }
  const pt = c.required(spec.podTemplate, 'spec.podTemplate', 'add one whose spec.containers has one named "mysqld"')
    ? c.obj(spec.podTemplate, 'spec.podTemplate') : undefined;
  const memoryBytes = pt && checkPodTemplate(c, pt, spec, na);
  const vctFix = 'add one named "mysql-data" with a storage size';
  if (c.required(spec.volumeClaimTemplates, 'spec.volumeClaimTemplates', vctFix)) checkVolumeClaimTemplates(c, spec);
  const restore = c.obj(spec.restore, 'spec.restore');
  if (restore) checkRestore(c, restore);
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
  c.check(backupPolicy && result.backupPolicyName && policyName !== result.backupPolicyName, 'spec.backupPolicyName',
    `"${result.backupPolicyName}" does not match the BackupPolicy in this file ` +
    `(${JSON.stringify(policyName ?? null)}); make the names equal`);

  if (c.problems.length > 0) throw fail();
  return { spec: result, cluster, configMap, backupPolicy, notApplyingLocally };
}

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

/** Throws ManifestError when `next` is not an allowed update of `previous` (the webhook's update-only rules). */
export function checkUpdate(previous: ClusterSpec, next: ClusterSpec): void {
  const c = new Checker();
  for (const key of ['name', 'namespace'] as const) {
    c.check(previous[key] !== next[key], `metadata.${key}`, `changed from "${previous[key]}" to "${next[key]}"; ` +
      'a cluster cannot be renamed or moved, create a new one instead');
  }
  c.check(next.replicas < previous.replicas, 'spec.replicas', `cannot shrink from ${previous.replicas} to ` +
    `${next.replicas}; MOCO never scales down, keep ${previous.replicas} or create a new cluster`);
  c.check(!isDeepStrictEqual(previous.restore, next.restore), 'spec.restore',
    'cannot be added, removed or changed after creation; restore into a new cluster instead');
  const [was, now] = [previous.replicationSourceSecretName, next.replicationSourceSecretName];
  c.check(now !== undefined && was === undefined, 'spec.replicationSourceSecretName',
    'cannot be set on an existing cluster; create a new cluster that replicates from the source');
  c.check(now !== undefined && was !== undefined && was !== now, 'spec.replicationSourceSecretName',
    `cannot change from "${was}" to "${now}"; clear it (null) to stop replicating, or create a new cluster`);
  if (c.problems.length > 0) throw new ManifestError(c.problems);
}
