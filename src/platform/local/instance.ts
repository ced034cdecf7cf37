/**
 * One local instance's files: its directory layout, my.cnf, the cluster's passwords and certificates. Used
 * by `moco-agent demo`, local clusters and the integration tests, so all of them run the same way.
 *
 *   <root>/my.cnf  <root>/data/  <root>/data.staged/  <root>/moco-initialized  <root>/mysqld.log
 *   <root>/run/mysqld.sock  <root>/run/mysqld.pid  <root>/tmp/
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { generateMyCnf, type Profile } from '../../shared/mycnf.ts';
import type { MysqldInstall } from '../../agent/mysqld.ts';
import { PASSWORD_KEYS, loadPasswords, type Passwords } from '../../shared/accounts.ts';
import { clusterUri } from '../../shared/pki.ts';
import { ensurePki, IDENTITIES, type PkiFiles } from '../../shared/tls.ts';

export interface InstanceLayout {
  root: string;
  myCnf: string;
  dataDir: string;
  socket: string;
  pidFile: string;
  errorLog: string;
  mysqldLog: string;
  tmpDir: string;
}

export function instanceLayout(root: string): InstanceLayout {
  return {
    root,
    myCnf: path.join(root, 'my.cnf'),
    dataDir: path.join(root, 'data'),
    socket: path.join(root, 'run', 'mysqld.sock'),
    pidFile: path.join(root, 'run', 'mysqld.pid'),
    errorLog: path.join(root, 'mysqld.err'),
    mysqldLog: path.join(root, 'mysqld.log'),
    tmpDir: path.join(root, 'tmp'),
  };
}

export interface WriteMyCnfOptions {
  install: MysqldInstall;
  layout: InstanceLayout;
  port: number;
  serverId: number;
  profile?: Profile;
  userConf?: Record<string, string>;
  memoryBytes?: number;
}

/** Creates the instance's directories and writes its my.cnf. */
export async function writeInstanceConfig(o: WriteMyCnfOptions): Promise<void> {
  const l = o.layout;
  await fs.mkdir(path.dirname(l.socket), { recursive: true });
  await fs.mkdir(l.tmpDir, { recursive: true });
  const cnf = generateMyCnf({
    flavor: o.install.flavor,
    profile: o.profile ?? 'small',
    userConf: o.userConf ?? {},
    ...(o.memoryBytes !== undefined ? { memoryBytes: o.memoryBytes } : {}),
    paths: { dataDir: l.dataDir, socket: l.socket, pidFile: l.pidFile, errorLog: l.errorLog, slowLog: path.join(l.root, 'slow.log'), tmpDir: l.tmpDir },
    port: o.port,
    bindAddress: '127.0.0.1',
    serverId: o.serverId,
    reportHost: '127.0.0.1',
    ...(process.getuid?.() === 0 ? { osUser: 'root' } : {}),
  });
  await fs.writeFile(l.myCnf, cnf, { mode: 0o640 });
}

/** Creates the cluster's eight passwords (32 hex characters each, files mode 0600) unless present. */
export async function ensurePasswords(dir: string): Promise<Passwords> {
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  for (const key of PASSWORD_KEYS) {
    const file = path.join(dir, key);
    try {
      await fs.writeFile(file, randomBytes(16).toString('hex'), { mode: 0o600, flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  return loadPasswords({}, dir);
}

/**
 * The cluster's CA and its three identities: the coordinator (moco-controller), the agents (moco-agent) and a
 * backup runner (moco-backup), each naming the cluster (`moco://<namespace>/<name>` in its subjectAltName), which the
 * agents check on every call. Certificates of a state directory from before they named their cluster are re-issued
 * from the same CA (`ensurePki`), so an upgraded cluster starts as before.
 */
export async function ensureClusterPki(dir: string, cluster: { namespace: string; name: string }):
  Promise<{ coordinator: PkiFiles; agent: PkiFiles; backup: PkiFiles }> {
  const uris = [clusterUri(cluster.namespace, cluster.name)];
  const files = await ensurePki(dir, [
    { name: 'coordinator', commonName: IDENTITIES.coordinator, usage: 'client', uris },
    { name: 'agent', commonName: IDENTITIES.agent, usage: 'both', uris },
    { name: 'backup', commonName: IDENTITIES.backup, usage: 'client', uris },
  ]);
  return { coordinator: files.coordinator as PkiFiles, agent: files.agent as PkiFiles, backup: files.backup as PkiFiles };
}
