/**
 * The CLI's view of local clusters (src/platform/client.ts), over a state directory: what `moco status`, `moco
 * switchover`, `moco mysql` and the other shared commands ask for. Live details come from the agents themselves
 * (over mTLS with the cluster's coordinator certificate), so they are current while the coordinator is away.
 */
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { requireMysqld } from '../../agent/mysqld.ts';
import { initialStatus, type ClusterStatus } from '../../api/types.ts';
import { AgentClient } from '../../shared/agent-client.ts';
import { messageOf } from '../../shared/errors.ts';
import { probeReady, probeReadyReason } from '../../shared/net.ts';
import { PASSWORD_KEY_OF } from '../../shared/accounts.ts';
import type { ClientUser, ClusterClient, ClusterEvent, ClusterView, InstanceView, MysqlOptions } from '../client.ts';
import { liveDetails } from '../live.ts';
import { allocate, ClusterBusyError, lockCluster, startProcesses } from './controller.ts';
import { readHeartbeat } from './heartbeat.ts';
import { ensureClusterPki } from './instance.ts';
import { mysqldExitFile, type MysqldExitRecord } from './instance-process.ts';
import { checkUpdate, ManifestError, parseManifest } from './manifest.ts';
import { componentPid, instancePids, type InstancePids } from './processes.ts';
import { readRoles } from './roles.ts';
import { ClusterDir, listClusters, readJsonOptional } from './state.ts';

/** A local instance in `moco status -o json`: the shared view plus its port, PIDs and mysqld's failures. */
export interface LocalInstanceView extends InstanceView {
  port: number;
  pids: InstancePids;
  mysqldFailures?: MysqldExitRecord;
}

/** `moco status -o json` (a contract for scripts, docs/local.md): the shared view plus local details. */
export interface StatusJson extends ClusterView {
  coordinator: ClusterView['coordinator'] & { pid: number | null };
  endpoints: ClusterView['endpoints'] & { pid: number | null };
  instances: LocalInstanceView[];
}

/** A refusal the CLI shows as it is: `usage` ones exit 2 (bad input, nothing changed), others 1. */
export class ClientError extends Error {
  constructor(message: string, readonly usage = false) {
    super(message);
    this.name = 'ClientError';
  }
}

/** The view of one local cluster. `live`: also ask each agent for its readiness reason and details. */
export async function localView(dir: ClusterDir, options: { live?: boolean } = {}): Promise<StatusJson> {
  const [cluster, spec, stored, roles, ports, ann, heartbeat] = await Promise.all([
    dir.readCluster(), dir.readSpec(), dir.readStatus(), readRoles(dir.rolesFile),
    readJsonOptional<{ primary: number; replica: number }>(dir.endpointsFile), dir.readAnnotations(), readHeartbeat(dir),
  ]);
  const st: ClusterStatus = { ...initialStatus(), ...stored };
  const endpointsPid = componentPid(dir, 'endpoints');
  const coordinatorPid = componentPid(dir, 'coordinator');
  const pki = options.live ? await ensureClusterPki(dir.pkiDir, cluster).catch(() => undefined) : undefined;
  const instances = await Promise.all(cluster.instances.slice(0, spec.replicas).map(async (p): Promise<LocalInstanceView> => {
    const pids = instancePids(dir, p.index);
    const role = roles?.instances.find((r) => r.index === p.index)?.role ?? '';
    const out: LocalInstanceView = { index: p.index, role, ready: false, address: String(p.mysqlPort), port: p.mysqlPort, pids };
    if (pids.supervisor === null && pids.mysqld === null) out.down = 'not running (moco up restarts it)';
    if (pids.agent !== null) {
      if (options.live) {
        const answer = await probeReadyReason(p.httpPort, 1000);
        out.ready = answer.ready;
        if (answer.reason) out.reason = answer.reason;
        if (pki) {
          const agent = new AgentClient(`127.0.0.1:${p.grpcPort}`, pki.coordinator);
          try {
            const live = await liveDetails(agent);
            if (live) out.live = live;
          } finally {
            agent.close();
          }
        }
      } else {
        out.ready = await probeReady(p.httpPort, 500).result;
      }
    }
    const exits = await readJsonOptional<MysqldExitRecord>(mysqldExitFile(dir.instance(p.index).root)).catch(() => undefined);
    if (exits?.last && exits.failuresInARow > 0) out.mysqldFailures = exits;
    return out;
  }));
  return {
    name: cluster.name,
    namespace: cluster.namespace,
    replicas: spec.replicas,
    offline: spec.offline,
    status: {
      state: st.state ?? null,
      currentPrimaryIndex: st.currentPrimaryIndex,
      conditions: st.conditions,
      syncedReplicas: st.syncedReplicas,
      errantReplicas: st.errantReplicas,
      errantReplicaList: st.errantReplicaList,
      backup: st.backup,
      restoredTime: st.restoredTime,
      cloned: st.cloned,
      ...(st.lastFailover ? { lastFailover: st.lastFailover } : {}),
      ...(st.lastSwitchover ? { lastSwitchover: st.lastSwitchover } : {}),
      ...(st.lastBackupFailure ? { lastBackupFailure: st.lastBackupFailure } : {}),
      ...(st.restore ? { restore: st.restore } : {}),
      ...(st.lastCloneFailure ? { lastCloneFailure: st.lastCloneFailure } : {}),
    },
    clusteringActive: !ann.clusteringStopped,
    reconciliationActive: !ann.reconciliationStopped,
    // The coordinator's heartbeat (the status no longer carries a per-observation time).
    observedAt: heartbeat?.observedAt ?? null,
    coordinator: {
      pid: coordinatorPid, running: coordinatorPid !== null,
      detail: coordinatorPid === null ? 'NOT RUNNING' : `running (PID ${coordinatorPid})`,
    },
    endpoints: {
      primary: endpointsPid && ports ? `127.0.0.1:${ports.primary}` : null,
      replica: endpointsPid && ports ? `127.0.0.1:${ports.replica}` : null,
      pid: endpointsPid,
    },
    instances,
  };
}

/** Local clusters under one state directory. */
export class LocalClient implements ClusterClient {
  readonly self = 'moco';

  constructor(readonly dir: string) {}

  get where(): string {
    return this.dir;
  }

  cluster(name: string): ClusterDir {
    return new ClusterDir(this.dir, name);
  }

  list(): Promise<string[]> {
    return listClusters(this.dir);
  }

  async resolve(name: string | undefined): Promise<string> {
    const names = await this.list();
    if (name !== undefined) {
      if (!names.includes(name)) {
        throw new ClientError(`no cluster named "${name}" in ${this.dir}` +
          (names.length ? ` (clusters there: ${names.join(', ')})` : ' (it holds no cluster; create one with `moco up`)'), true);
      }
      return name;
    }
    if (names.length === 1) return names[0] as string;
    if (names.length === 0) throw new ClientError(`${this.dir} holds no cluster; create one with \`moco up\` (or pass --dir)`, true);
    throw new ClientError(`${this.dir} holds several clusters (${names.join(', ')}); name one`, true);
  }

  view(name: string, options: { live?: boolean } = {}): Promise<StatusJson> {
    return localView(this.cluster(name), options);
  }

  events(name: string): Promise<ClusterEvent[]> {
    return this.cluster(name).readEvents();
  }

  async setStopped(name: string, what: 'clustering' | 'reconciliation', stopped: boolean): Promise<boolean> {
    const cd = this.cluster(name);
    const key = what === 'clustering' ? 'clusteringStopped' : 'reconciliationStopped';
    const ann = await cd.readAnnotations();
    if (!!ann[key] === stopped) return false;
    if (what === 'reconciliation' && !stopped) {
      // Starting reconciliation applies what `moco up` stored meanwhile: a command that starts processes.
      let lock;
      try {
        lock = lockCluster(cd);
      } catch (err) {
        if (err instanceof ClusterBusyError) throw new ClientError(err.message);
        throw err;
      }
      try {
        await cd.writeAnnotations({ ...ann, [key]: false });
        await this.applyPending(cd);
      } finally {
        lock.release();
      }
      return true;
    }
    await cd.writeAnnotations({ ...ann, [key]: stopped });
    return true;
  }

  /** Applies a manifest stored while reconciliation was stopped, and starts what it needs. */
  private async applyPending(cd: ClusterDir): Promise<void> {
    const file = cd.path('pending-manifest.yaml');
    const text = await fs.readFile(file, 'utf8').catch(() => undefined);
    let spec = await cd.readSpec();
    if (text !== undefined) {
      try {
        const next = parseManifest(text, { source: file }).spec;
        checkUpdate(spec, next);
        spec = next;
      } catch (err) {
        if (err instanceof ManifestError) throw new ClientError(`the stored change cannot be applied:\n  ${err.problems.join('\n  ')}`);
        throw err;
      }
      const cluster = await cd.readCluster();
      await allocate(cluster, spec.replicas);
      await cd.writeCluster(cluster);
      await cd.writeManifest(text);
      await fs.rm(file);
    }
    await startProcesses(cd, spec, () => undefined);
  }

  async requestSwitchover(name: string): Promise<void> {
    await this.cluster(name).requestSwitchover();
  }

  async credential(name: string, user: ClientUser): Promise<string> {
    return (await fs.readFile(path.join(this.cluster(name).passwordsDir, PASSWORD_KEY_OF[user]), 'utf8')).trim();
  }

  async mysql(name: string, o: MysqlOptions): Promise<number> {
    const cd = this.cluster(name);
    const [cluster, spec, st] = await Promise.all([cd.readCluster(), cd.readSpec(), cd.readStatus()]);
    const index = o.index ?? st?.currentPrimaryIndex ?? 0;
    if (index >= spec.replicas) throw new ClientError(`--index ${index}: the cluster has instances 0 to ${spec.replicas - 1}`, true);
    const port = cluster.instances[index]?.mysqlPort as number;
    const client = requireMysqld().client ?? 'mysql';
    // Beside the cluster's own password files, not in the shared /tmp: a closed terminal kills us before the
    // `finally` below runs, and what is left then exposes nothing the cluster directory does not already hold.
    await fs.mkdir(cd.runDir, { recursive: true, mode: 0o700 });
    const tmp = await fs.mkdtemp(path.join(cd.runDir, 'mysql-'));
    const cnf = path.join(tmp, 'my.cnf');
    await fs.writeFile(cnf, `[client]\nuser=${o.user}\npassword="${await this.credential(name, o.user)}"\nhost=127.0.0.1\nport=${port}\n`, { mode: 0o600 });
    try {
      return await new Promise<number>((resolve, reject) => {
        const child = spawn(client, [`--defaults-extra-file=${cnf}`, ...o.args], { stdio: 'inherit' });
        // The client handles Ctrl-C itself (it cancels the running statement); we wait for it.
        const ignore = (): void => undefined;
        process.on('SIGINT', ignore);
        child.on('error', (err) => reject(new ClientError(`cannot run ${client}: ${err.message}`)));
        child.on('exit', (code) => {
          process.removeListener('SIGINT', ignore);
          resolve(code ?? 1);
        });
      });
    } finally {
      await fs.rm(tmp, { recursive: true, force: true });
    }
  }

  async setReadOnly(name: string): Promise<Array<{ index: number; error: string }>> {
    const cd = this.cluster(name);
    const [spec, cluster] = await Promise.all([cd.readSpec(), cd.readCluster()]);
    const pki = await ensureClusterPki(cd.pkiDir, cluster);
    const failures: Array<{ index: number; error: string }> = [];
    await Promise.all(cluster.instances.slice(0, spec.replicas).map(async (p) => {
      const agent = new AgentClient(`127.0.0.1:${p.grpcPort}`, pki.coordinator);
      try {
        await setReadOnlyVia(agent);
      } catch (err) {
        failures.push({ index: p.index, error: messageOf(err) });
      } finally {
        agent.close();
      }
    }));
    return failures.sort((a, b) => a.index - b.index);
  }

  async readOnlyVariable(): Promise<string> {
    return requireMysqld().flavor === 'mariadb' ? 'read_only' : 'super_read_only';
  }
}

/** SetReadOnly, ending user sessions when a long transaction holds it up (as a switchover does). */
export async function setReadOnlyVia(agent: AgentClient): Promise<void> {
  try {
    await agent.setReadOnly({ timeoutMs: 10_000 });
  } catch (err) {
    if ((err as { code?: string }).code !== 'TIMEOUT') throw err;
    await agent.killConnections({ timeoutMs: 10_000 });
    await agent.setReadOnly({ timeoutMs: 10_000 });
  }
}
