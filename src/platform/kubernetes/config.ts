/**
 * The configuration objects of a cluster on Kubernetes, as pure builders: the my.cnf ConfigMap (one template per
 * flavor: the controller cannot know which server the user's image holds, the init container picks), the password
 * Secret, the client option files, the account bootstrap SQL. Everything is data; the reconciler applies it.
 */
import { generateMyCnf, type Flavor } from '../../shared/mycnf.ts';
import type { ClusterSpec } from '../../api/spec.ts';
import { bootstrapSql, USERS, PASSWORD_KEYS, type Passwords } from '../../shared/accounts.ts';
import { baseLabels, fnv32a, names } from './names.ts';
import type { KubeObject, OwnerRef } from './objects.ts';

/** Where things are inside a mysqld Pod (the image contract, images/README.md). */
export const POD_PATHS = {
  mysqlRoot: '/var/lib/mysql',
  dataDir: '/var/lib/mysql/data',
  socket: '/run/mysqld.sock',
  pidFile: '/run/mysqld.pid',
  errorLog: '/var/log/mysql/mysql.err',
  slowLog: '/var/log/mysql/mysql.slow',
  tmpDir: '/tmp',
  confDir: '/etc/mysql',
  myCnf: '/etc/mysql/my.cnf',
  templates: '/moco-templates',
  initSql: '/moco-init',
  passwords: '/moco-passwords',
  clientConfig: '/mysql-credentials',
  grpcCert: '/grpc-cert',
  shared: '/shared',
} as const;

export const PORTS = { mysql: 3306, mysqlx: 33060, admin: 33062, agent: 9080, health: 9081 } as const;

/** The my.cnf of each flavor for a cluster (server_id is added per instance by the init container). */
export function myCnfTemplates(spec: ClusterSpec): Record<`${Flavor}.cnf`, string> {
  const make = (flavor: Flavor): string => generateMyCnf({
    flavor,
    profile: 'production',
    userConf: spec.mycnf,
    ...(spec.memoryBytes !== undefined ? { memoryBytes: spec.memoryBytes } : {}),
    paths: {
      dataDir: POD_PATHS.dataDir, socket: POD_PATHS.socket, pidFile: POD_PATHS.pidFile,
      errorLog: POD_PATHS.errorLog, slowLog: POD_PATHS.slowLog, tmpDir: POD_PATHS.tmpDir,
    },
    port: PORTS.mysql,
    bindAddress: '0.0.0.0',
    // Replaced per instance by the init container (a later [mysqld] server_id wins).
    serverId: spec.serverIdBase,
  });
  return { 'mysql.cnf': make('mysql'), 'mariadb.cnf': make('mariadb') };
}

/** The my.cnf ConfigMap, named after a hash of its content so that a change rolls the Pods. */
export function myCnfConfigMap(spec: ClusterSpec, owner: OwnerRef): KubeObject {
  const data = myCnfTemplates(spec);
  const hash = fnv32a(`${data['mysql.cnf']}\n${data['mariadb.cnf']}`);
  return {
    apiVersion: 'v1', kind: 'ConfigMap',
    metadata: { name: names.myCnf(spec.name, hash), namespace: spec.namespace, labels: baseLabels(spec.name), ownerReferences: [owner] },
    data,
  };
}

/** The eight passwords as a Secret: the agent reads them as files, `kubectl moco credential` reads them from here. */
export function passwordSecret(spec: ClusterSpec, passwords: Passwords, owner: OwnerRef): KubeObject {
  return {
    apiVersion: 'v1', kind: 'Secret', type: 'Opaque',
    metadata: { name: names.passwords(spec.name), namespace: spec.namespace, labels: baseLabels(spec.name), ownerReferences: [owner] },
    stringData: Object.fromEntries(PASSWORD_KEYS.map((k) => [k, passwords[k]])),
  };
}

/** A `[client]` option file for each account handed to users and tools (`kubectl moco mysql` uses them). */
export function clientConfigSecret(spec: ClusterSpec, passwords: Passwords, owner: OwnerRef): KubeObject {
  const quote = (s: string): string => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  const files: Record<string, string> = {};
  for (const u of USERS) {
    if (!['moco-admin', 'moco-writable', 'moco-readonly', 'moco-exporter', 'moco-backup'].includes(u.name)) continue;
    files[`${u.name}-my.cnf`] = `[client]\nuser=${u.name}\npassword=${quote(passwords[u.password])}\nsocket=${POD_PATHS.socket}\n`;
  }
  return {
    apiVersion: 'v1', kind: 'Secret', type: 'Opaque',
    metadata: { name: names.clientConfig(spec.name), namespace: spec.namespace, labels: baseLabels(spec.name), ownerReferences: [owner] },
    stringData: files,
  };
}

/** The SQL that creates the accounts while the init container initializes a data directory (both flavors). */
export function bootstrapSecret(spec: ClusterSpec, passwords: Passwords, owner: OwnerRef): KubeObject {
  return {
    apiVersion: 'v1', kind: 'Secret', type: 'Opaque',
    metadata: { name: names.bootstrap(spec.name), namespace: spec.namespace, labels: baseLabels(spec.name), ownerReferences: [owner] },
    stringData: {
      'bootstrap-mariadb.sql': bootstrapSql('mariadb', passwords),
      'bootstrap-mysql.sql': `${bootstrapSql('mysql', passwords)}RESET BINARY LOGS AND GTIDS;\n`,
    },
  };
}

/** The ServiceAccount the Pods run as (no roles are bound to it). */
export function serviceAccount(spec: ClusterSpec, owner: OwnerRef): KubeObject {
  return {
    apiVersion: 'v1', kind: 'ServiceAccount',
    metadata: { name: names.serviceAccount(spec.name), namespace: spec.namespace, labels: baseLabels(spec.name), ownerReferences: [owner] },
  };
}
