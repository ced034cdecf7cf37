/**
 * The CLI's view of clusters on Kubernetes (src/platform/client.ts) for `kubectl moco`: the MySQLCluster and its
 * Pods from the API server, events, the seed's annotations, the password Secret, and `kubectl exec` into the Pods
 * for the mysql client and for read-only mode (the agent's own account does that, inside the agent container).
 */
import { spawn } from 'node:child_process';
import { initialStatus, type ClusterStatus } from '../../api/types.ts';
import { PASSWORD_KEY_OF } from '../../shared/accounts.ts';
import type { ClientUser, ClusterClient, ClusterEvent, ClusterView, InstanceView, MysqlOptions } from '../client.ts';
import { resourcePath, type Kube } from './kube.ts';
import { POD_PATHS } from './config.ts';
import { CLUSTERING_STOPPED, DEMOTE, RECONCILIATION_STOPPED, ROLE_LABEL, names } from './names.ts';
import { asJson, type KubeObject } from './objects.ts';
import type { PodObject } from './platform.ts';

export class KubeClientError extends Error {
  constructor(message: string, readonly usage = false) {
    super(message);
    this.name = 'KubeClientError';
  }
}

interface ClusterObject extends KubeObject {
  spec?: { replicas?: number; offline?: boolean };
  status?: Partial<ClusterStatus>;
}

/** How `kubectl` itself is run for exec (the plugin passes on the global flags it was given). */
export interface KubectlInvocation {
  command: string;
  globalArgs: string[];
}

export class KubernetesClient implements ClusterClient {
  readonly self = 'kubectl moco';

  constructor(private readonly kube: Kube, readonly namespace: string, private readonly kubectl: KubectlInvocation) {}

  get where(): string {
    return `namespace ${this.namespace}`;
  }

  private clusterPath(name?: string): string {
    return resourcePath('moco.cybozu.com/v1beta2', 'MySQLCluster', this.namespace, name);
  }

  async list(): Promise<string[]> {
    const { items } = await this.kube.list<ClusterObject>(this.clusterPath());
    return items.map((c) => c.metadata.name).sort();
  }

  async resolve(name: string | undefined): Promise<string> {
    const all = await this.list();
    if (name !== undefined) {
      if (!all.includes(name)) {
        throw new KubeClientError(`MySQLCluster "${name}" not found in ${this.where}` + (all.length ? ` (there: ${all.join(', ')})` : ''), true);
      }
      return name;
    }
    if (all.length === 1) return all[0] as string;
    throw new KubeClientError(all.length === 0 ? `no MySQLCluster in ${this.where}` : `several MySQLClusters in ${this.where} (${all.join(', ')}); name one`, true);
  }

  private async pods(name: string): Promise<PodObject[]> {
    const { items } = await this.kube.list<PodObject>(resourcePath('v1', 'Pod', this.namespace), {
      query: { labelSelector: `app.kubernetes.io/instance=${name},app.kubernetes.io/created-by=moco,app.kubernetes.io/name=mysql` },
    });
    return items;
  }

  async view(name: string): Promise<ClusterView> {
    const c = await this.kube.get<ClusterObject>(this.clusterPath(name));
    const st: ClusterStatus = { ...initialStatus(), ...c.status };
    const ann = asJson(c.metadata.annotations);
    const replicas = c.spec?.replicas ?? 1;
    const pods = await this.pods(name);
    const lease = await this.kube.tryGet<{ spec?: { renewTime?: string } }>(
      resourcePath('coordination.k8s.io/v1', 'Lease', this.namespace, `moco-${name}-coordinator`));
    const renewed = lease?.spec?.renewTime ?? null;
    const running = renewed === null ? null : Date.now() - Date.parse(renewed) < 90_000;
    const instances: InstanceView[] = Array.from({ length: replicas }, (_, i) => {
      const pod = pods.find((p) => p.metadata.name === names.pod(name, i));
      const role = asJson(pod?.metadata.labels)[ROLE_LABEL];
      const ready = pod?.status?.conditions?.find((x) => x.type === 'Ready');
      const out: InstanceView = {
        index: i, role: role === 'primary' || role === 'replica' ? role : '', ready: ready?.status === 'True',
        address: pod ? `${pod.metadata.name} ${pod.status?.podIP ?? '-'}` : '-',
      };
      if (!pod) out.down = c.spec?.offline ? 'offline' : 'no Pod yet';
      else if (pod.metadata.deletionTimestamp) out.down = 'Pod terminating';
      else if (pod.status?.phase !== 'Running') out.down = `Pod ${pod.status?.phase ?? 'Unknown'}`;
      else if (ready?.status !== 'True') out.reason = (ready as { message?: string } | undefined)?.message ?? 'not ready';
      if (pod && !out.down) {
        const restarts = (pod.status?.containerStatuses ?? []).filter((s) => s.restartCount > 0)
          .map((s) => `${s.name} restarted ${s.restartCount} time${s.restartCount === 1 ? '' : 's'}`);
        out.note = restarts.join(', ');
      }
      return out;
    });
    return {
      name, namespace: this.namespace, replicas, offline: !!c.spec?.offline,
      status: {
        state: st.state ?? null, currentPrimaryIndex: st.currentPrimaryIndex, conditions: st.conditions, syncedReplicas: st.syncedReplicas,
        errantReplicas: st.errantReplicas, errantReplicaList: st.errantReplicaList, backup: st.backup, restoredTime: st.restoredTime, cloned: st.cloned,
        ...(st.lastFailover ? { lastFailover: st.lastFailover } : {}), ...(st.lastSwitchover ? { lastSwitchover: st.lastSwitchover } : {}),
        ...(st.lastBackupFailure ? { lastBackupFailure: st.lastBackupFailure } : {}), ...(st.restore ? { restore: st.restore } : {}),
        ...(st.lastCloneFailure ? { lastCloneFailure: st.lastCloneFailure } : {}),
      },
      clusteringActive: ann[CLUSTERING_STOPPED] !== 'true',
      reconciliationActive: ann[RECONCILIATION_STOPPED] !== 'true',
      observedAt: renewed,
      coordinator: { running, detail: running === null ? 'unknown (no heartbeat yet)' : running ? 'running (moco-controller)' : 'NOT RUNNING (no heartbeat for 90 s)' },
      endpoints: { primary: `${names.primary(name)}.${this.namespace}.svc:3306`, replica: `${names.replica(name)}.${this.namespace}.svc:3306` },
      instances,
    };
  }

  async events(name: string): Promise<ClusterEvent[]> {
    const { items } = await this.kube.list<KubeObject & { type?: string; reason?: string; message?: string; lastTimestamp?: string; eventTime?: string; firstTimestamp?: string }>(
      resourcePath('v1', 'Event', this.namespace), { query: { fieldSelector: `involvedObject.kind=MySQLCluster,involvedObject.name=${name}` } });
    return items.map((e) => ({
      time: e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? '', type: e.type === 'Warning' ? 'Warning' as const : 'Normal' as const,
      reason: e.reason ?? '', message: e.message ?? '',
    })).sort((a, b) => a.time.localeCompare(b.time));
  }

  async setStopped(name: string, what: 'clustering' | 'reconciliation', stopped: boolean): Promise<boolean> {
    const key = what === 'clustering' ? CLUSTERING_STOPPED : RECONCILIATION_STOPPED;
    const c = await this.kube.get<ClusterObject>(this.clusterPath(name));
    if ((asJson(c.metadata.annotations)[key] === 'true') === stopped) return false;
    await this.kube.mergePatch(this.clusterPath(name), { metadata: { annotations: { [key]: stopped ? 'true' : null } } });
    return true;
  }

  async requestSwitchover(name: string): Promise<void> {
    const c = await this.kube.get<ClusterObject>(this.clusterPath(name));
    const primary = names.pod(name, c.status?.currentPrimaryIndex ?? 0);
    await this.kube.mergePatch(resourcePath('v1', 'Pod', this.namespace, primary), { metadata: { annotations: { [DEMOTE]: 'true' } } });
  }

  async credential(name: string, user: ClientUser): Promise<string> {
    const s = await this.kube.get<KubeObject & { data?: Record<string, string> }>(resourcePath('v1', 'Secret', this.namespace, names.passwords(name)));
    const v = s.data?.[PASSWORD_KEY_OF[user]];
    if (v === undefined) throw new KubeClientError(`Secret ${names.passwords(name)} has no ${PASSWORD_KEY_OF[user]}`);
    return Buffer.from(v, 'base64').toString('utf8');
  }

  /** `kubectl exec` with the plugin's global flags; resolves to its exit code. */
  private exec(args: string[], stdio: 'inherit' | 'pipe' = 'inherit'): Promise<{ code: number; stdout: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn(this.kubectl.command, [...this.kubectl.globalArgs, '-n', this.namespace, 'exec', ...args],
        { stdio: stdio === 'inherit' ? 'inherit' : ['ignore', 'pipe', 'inherit'] });
      let stdout = '';
      child.stdout?.on('data', (d: Buffer) => { stdout += d.toString(); });
      const ignore = (): void => undefined;
      process.on('SIGINT', ignore);
      child.on('error', (err) => reject(new KubeClientError(`cannot run ${this.kubectl.command}: ${err.message}`)));
      child.on('exit', (code) => {
        process.removeListener('SIGINT', ignore);
        resolve({ code: code ?? 1, stdout });
      });
    });
  }

  async mysql(name: string, o: MysqlOptions): Promise<number> {
    const c = await this.kube.get<ClusterObject>(this.clusterPath(name));
    const replicas = c.spec?.replicas ?? 1;
    const index = o.index ?? c.status?.currentPrimaryIndex ?? 0;
    if (index >= replicas) throw new KubeClientError(`--index ${index}: the cluster has instances 0 to ${replicas - 1}`, true);
    const flags = [...(o.stdin ? ['-i'] : []), ...(o.tty ? ['-t'] : [])];
    // MariaDB images may name the client mariadb only; use whichever the image has.
    const script = `c=$(command -v mysql || command -v mariadb); exec "$c" --defaults-extra-file=/mysql-credentials/${o.user}-my.cnf "$@"`;
    return (await this.exec([...flags, names.pod(name, index), '-c', 'mysqld', '--', 'sh', '-c', script, 'mysql', ...o.args])).code;
  }

  async setReadOnly(name: string): Promise<Array<{ index: number; error: string }>> {
    const c = await this.kube.get<ClusterObject>(this.clusterPath(name));
    const replicas = c.spec?.replicas ?? 1;
    const failures: Array<{ index: number; error: string }> = [];
    for (let i = 0; i < replicas; i++) {
      // `moco-agent read-only` (src/agent/read-only.ts) connects as serve does: the socket and passwords of the Pod.
      const r = await this.exec([names.pod(name, i), '-c', 'agent', '--', 'node', '/moco/dist/moco-agent.mjs', 'read-only',
        '--socket', POD_PATHS.socket, '--passwords-dir', POD_PATHS.passwords], 'pipe');
      // Its message (or kubectl's, when the Pod cannot be reached) went to stderr, which is the user's.
      if (r.code !== 0) failures.push({ index: i, error: `moco-agent read-only in the agent container failed (exit ${r.code}; its message is above)` });
    }
    return failures;
  }

  async readOnlyVariable(name: string): Promise<string> {
    const r = await this.exec([names.pod(name, 0), '-c', 'mysqld', '--', 'sh', '-c', 'command -v mariadbd >/dev/null && echo mariadb || echo mysql'], 'pipe');
    return r.stdout.trim() === 'mariadb' ? 'read_only' : 'super_read_only';
  }
}
