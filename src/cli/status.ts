/** `moco status`: the JSON contract for scripts and the human table, from the state directory and live probes. */
import { readiness } from '../platform/local/coordinator.ts';
import { componentPid, instancePids, type InstancePids } from '../platform/local/processes.ts';
import { readRoles, type Role } from '../platform/local/roles.ts';
import { readJsonOptional, type ClusterDir } from '../platform/local/state.ts';
import { initialStatus, type ClusterStatus } from '../coordinator/types.ts';

export interface StatusJson {
  name: string;
  namespace: string;
  replicas: number;
  status: Pick<ClusterStatus, 'currentPrimaryIndex' | 'conditions' | 'syncedReplicas' | 'errantReplicas' | 'errantReplicaList' | 'backup' | 'restoredTime'> &
    { state: string | null; cloned: boolean; lastFailover?: unknown; lastSwitchover?: unknown } &
    Pick<ClusterStatus, 'lastBackupFailure' | 'restore'>;
  observedAt: string | null;
  coordinator: { pid: number | null };
  endpoints: { primary: string | null; replica: string | null; pid: number | null };
  instances: Array<{ index: number; role: Role; ready: boolean; port: number; pids: InstancePids }>;
}

export async function clusterStatus(dir: ClusterDir): Promise<StatusJson> {
  const [cluster, spec, stored, roles, ports] = await Promise.all([
    dir.readCluster(), dir.readSpec(), dir.readStatus(), readRoles(dir.rolesFile),
    readJsonOptional<{ primary: number; replica: number }>(dir.endpointsFile),
  ]);
  const st = { ...initialStatus(), ...stored } as ClusterStatus & { lastFailover?: unknown; lastSwitchover?: unknown };
  const endpointsPid = componentPid(dir, 'endpoints');
  const instances = await Promise.all(cluster.instances.slice(0, spec.replicas).map(async (p) => {
    const pids = instancePids(dir, p.index);
    return {
      index: p.index,
      role: roles?.instances.find((r) => r.index === p.index)?.role ?? '',
      ready: pids.agent !== null && await readiness(p.httpPort),
      port: p.mysqlPort,
      pids,
    };
  }));
  return {
    name: cluster.name,
    namespace: cluster.namespace,
    replicas: spec.replicas,
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
    },
    observedAt: st.observedAt ?? null,
    coordinator: { pid: componentPid(dir, 'coordinator') },
    endpoints: {
      primary: endpointsPid && ports ? `127.0.0.1:${ports.primary}` : null,
      replica: endpointsPid && ports ? `127.0.0.1:${ports.replica}` : null,
      pid: endpointsPid,
    },
    instances,
  };
}

export function formatStatus(s: StatusJson): string {
  const cond = (t: string): string => s.status.conditions.find((c) => c.type === t)?.status ?? 'Unknown';
  const lines = [
    `cluster    ${s.namespace}/${s.name}  (${s.replicas} instance${s.replicas === 1 ? '' : 's'})`,
    `state      ${s.status.state ?? 'unknown'}   available ${cond('Available')}   healthy ${cond('Healthy')}   clustering active ${cond('ClusteringActive')}`,
    `primary    instance ${s.status.currentPrimaryIndex}   synced ${s.status.syncedReplicas}   errant ${s.status.errantReplicas}` +
      (s.status.errantReplicaList.length ? ` ${JSON.stringify(s.status.errantReplicaList)}` : ''),
    `endpoints  primary ${s.endpoints.primary ?? '(down)'}   replica ${s.endpoints.replica ?? '(down)'}`,
    `coordinator ${s.coordinator.pid === null ? 'not running' : `pid ${s.coordinator.pid}`}   observed ${s.observedAt ?? 'never'}`,
    ...backupLines(s),
    '',
    'INDEX  ROLE     READY  PORT   SUPERVISOR  MYSQLD   AGENT',
    ...s.instances.map((i) => [
      String(i.index).padEnd(6), (i.role || '-').padEnd(8), String(i.ready).padEnd(6), String(i.port).padEnd(6),
      String(i.pids.supervisor ?? '-').padEnd(11), String(i.pids.mysqld ?? '-').padEnd(8), String(i.pids.agent ?? '-'),
    ].join(' ')),
  ];
  return lines.join('\n');
}

function backupLines(s: StatusJson): string[] {
  const b = s.status.backup;
  const out: string[] = [];
  if (b.time) {
    out.push(`backup     last ${b.time} from instance ${b.sourceIndex ?? '?'}: ${((b.dumpSize ?? 0) / 1e6).toFixed(1)} MB, ` +
      `binlogs ${((b.binlogSize ?? 0) / 1e6).toFixed(1)} MB${b.warnings?.length ? `, ${b.warnings.length} warning(s)` : ''}`);
  }
  const f = s.status.lastBackupFailure;
  if (f) out.push(`backup     FAILED at ${f.time}: ${f.message}`);
  const r = s.status.restore;
  if (s.status.restoredTime) out.push(`restored   at ${s.status.restoredTime} from backup ${r?.backupTime ?? '?'}${r?.binlogApplied ? ' plus binlogs' : ''}`);
  else if (r?.error) out.push(`restore    FAILED at ${r.errorTime ?? '?'} (retrying): ${r.error}`);
  else if (r?.phase) out.push(`restore    running: ${r.phase}${r.bytes ? `, ${(r.bytes / 1e6).toFixed(0)} MB` : ''}`);
  return out;
}
