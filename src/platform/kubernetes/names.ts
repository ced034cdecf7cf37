/**
 * The names, labels and annotations of the objects a MySQLCluster owns on Kubernetes: the seed system's, so that
 * manifests, Services and tools written for it keep working.
 */

export const API_GROUP = 'moco.cybozu.com';
export const API_VERSION = `${API_GROUP}/v1beta2`;

/** Pod label with the instance's role (`primary`, `replica`, or absent); the primary and replica Services select on it. */
export const ROLE_LABEL = `${API_GROUP}/role`;
/** MySQLCluster annotations (value "true"). */
export const CLUSTERING_STOPPED = `${API_GROUP}/clustering-stopped`;
export const RECONCILIATION_STOPPED = `${API_GROUP}/reconciliation-stopped`;
/** Pod annotation that asks for a switchover away from this Pod (`kubectl moco switchover`); removed after it. */
export const DEMOTE = `${API_GROUP}/demote`;
/** Finalizer of MySQLClusters: cleanup owner references cannot do (the cluster's manager, its certificate). */
export const FINALIZER = `${API_GROUP}/mysqlcluster`;
/** Field manager of every server-side apply. */
export const FIELD_MANAGER = 'moco-controller';

/** The labels every object of a cluster carries; the StatefulSet's selector. */
export function baseLabels(name: string, app = 'mysql'): Record<string, string> {
  return { 'app.kubernetes.io/name': app, 'app.kubernetes.io/instance': name, 'app.kubernetes.io/created-by': 'moco' };
}

export const names = {
  statefulSet: (c: string) => `moco-${c}`,
  headless: (c: string) => `moco-${c}`,
  primary: (c: string) => `moco-${c}-primary`,
  replica: (c: string) => `moco-${c}-replica`,
  serviceAccount: (c: string) => `moco-${c}`,
  /** The eight passwords (the agent reads them as files; `kubectl moco credential` reads them). */
  passwords: (c: string) => `moco-${c}`,
  /** `[client]` option files, one per user account (`kubectl moco mysql` runs the client with them). */
  clientConfig: (c: string) => `moco-my-cnf-${c}`,
  /** The SQL that creates the accounts when an instance's data directory is initialized. */
  bootstrap: (c: string) => `moco-init-${c}`,
  /** The agents' certificate and key, and the cluster CA. */
  grpcCert: (c: string) => `moco-${c}-grpc`,
  /** `moco-<name>.<hash of the text>`: a new name for every change, so the Pod template changes with it. */
  myCnf: (c: string, hash: string) => `moco-${c}.${hash}`,
  pdb: (c: string) => `moco-${c}`,
  backupCronJob: (c: string) => `moco-backup-${c}`,
  restoreJob: (c: string) => `moco-restore-${c}`,
  pod: (c: string, index: number) => `moco-${c}-${index}`,
  pvc: (c: string, index: number) => `mysql-data-moco-${c}-${index}`,
};

/** The index of a StatefulSet Pod (`moco-test-2` → 2); undefined for anything else. */
export function podIndex(podName: string): number | undefined {
  const m = /-(\d+)$/.exec(podName);
  return m ? Number(m[1]) : undefined;
}

/** FNV-1a 32-bit of a text, as 8 hex digits (the seed names my.cnf ConfigMaps with it). */
export function fnv32a(text: string): string {
  let h = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) h = Math.imul(h ^ byte, 0x01000193) >>> 0;
  return h.toString(16).padStart(8, '0');
}
