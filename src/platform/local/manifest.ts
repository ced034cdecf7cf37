/**
 * Loads a user's manifest for a local run: the YAML stream of one MySQLCluster (moco.cybozu.com/v1beta2) and the
 * objects it names that Kubernetes would hold separately (the my.cnf ConfigMap, the BackupPolicy, Secrets). The
 * MySQLCluster and BackupPolicy rules are the API's own (src/api); this module adds what only a file of documents
 * needs: kinds and apiVersions, references between the documents, and the local restrictions. Every problem is
 * collected, so one {@link ManifestError} lists all of them, each with a fix.
 */
import YAML from 'yaml';
import { API_VERSION, checkCluster, updateProblems } from '../../api/mysqlcluster.ts';
import { checkBackupPolicy } from '../../api/backuppolicy.ts';
import { Checker, describe, given, isObj, ManifestError, type Obj } from '../../api/checker.ts';
import { EnvSources } from '../../api/env.ts';
import type { ClusterSpec, ReplicationSource } from '../../api/spec.ts';
import { imageNotes, localNotes } from './notes.ts';

export { ManifestError };

export interface LoadedManifest {
  spec: ClusterSpec;
  /** The documents as written. */
  cluster: Record<string, unknown>;
  configMap?: Record<string, unknown>;
  backupPolicy?: Record<string, unknown>;
  /** Fields that are accepted but do not apply to a local cluster, as dotted paths with a short reason. */
  notApplyingLocally: string[];
  /** Where the mysqld container names an image (`path (image)`): locally the machine's own mysqld runs instead. */
  imageNotes: string[];
}

/** Time zones local backup schedules accept (they run in UTC). */
const UTC = ['UTC', 'Etc/UTC'];

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
  // Secrets and ConfigMaps of this file that job environments and the source Secret refer to.
  const sources = new EnvSources(c, [...found.Secret, ...found.ConfigMap]);
  const result = checkCluster(c, cluster, { sources, ...(options.defaultNamespace ? { defaultNamespace: options.defaultNamespace } : {}) });
  const notApplyingLocally = localNotes(cluster);
  if (result.replicationSourceSecretName) {
    const source = checkSourceSecret(c, sources, result.replicationSourceSecretName, notApplyingLocally);
    if (source) result.replicationSource = source;
  }
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
    const policy = checkBackupPolicy(c, doc, sources);
    if (policy && policy.name === wanted) result.backupPolicy = policy;
  }

  for (const doc of found.BackupPolicy) {
    notApplyingLocally.push(...localNotes(doc));
    const tz = isObj(doc.spec) ? doc.spec.timeZone : undefined;
    c.check(typeof tz === 'string' && !UTC.includes(tz), `BackupPolicy ${String(isObj(doc.metadata) ? doc.metadata.name : '')} spec.timeZone`,
      `"${String(tz)}": schedules run in UTC locally; remove timeZone or set it to UTC`);
  }

  if (c.problems.length > 0) throw fail();
  return { spec: result, cluster, configMap, backupPolicy, notApplyingLocally, imageNotes: imageNotes(cluster) };
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
 * Throws ManifestError when `next` is not an allowed update of `previous` (the webhook's update-only rules).
 * spec.restore is immutable; the BackupPolicy may change.
 */
export function checkUpdate(previous: ClusterSpec, next: ClusterSpec): void {
  const problems = updateProblems(previous, next);
  if (problems.length > 0) throw new ManifestError(problems);
}
