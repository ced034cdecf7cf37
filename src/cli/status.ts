/**
 * `moco status`, `moco get` and `moco events`: what `kubectl get` / `kubectl describe mysqlcluster` show, for local
 * clusters. The JSON of `status -o json` is a contract for scripts; the plain view answers "is it healthy, and if
 * not, why, and since when". Live details (readiness reasons, replication delay, GTID positions) come from the
 * agents themselves, so they are current even while the coordinator is away.
 */
import { ensureClusterPki } from '../platform/local/instance.ts';
import { mysqldExitFile, type MysqldExitRecord } from '../platform/local/instance-process.ts';
import { componentPid, instancePids, type InstancePids } from '../platform/local/processes.ts';
import { readRoles, type Role } from '../platform/local/roles.ts';
import { readJsonOptional, type ClusterDir, type ClusterEvent } from '../platform/local/state.ts';
import { initialStatus, type ClusterStatus, type Condition, type RoleChange } from '../api/types.ts';
import { AgentClient, type InstanceStatus } from '../shared/agent-client.ts';
import { probeReady, probeReadyReason } from '../shared/net.ts';

export interface InstanceJson {
  index: number;
  role: Role;
  ready: boolean;
  port: number;
  pids: InstancePids;
  /** The agent's readiness answer ("replicating", "replication delay 75s is at or over the limit 60s", ...). */
  reason?: string;
  /** Read from the agent now; absent when it does not answer. */
  live?: {
    readOnly: boolean;
    gtidExecuted: string;
    uptimeSeconds: number;
    replication?: { source: string; io: string; sql: boolean; delaySeconds: number | null; lastError?: string };
    clone?: string;
  };
  /** mysqld exited unexpectedly (the last time, and how many times in a row). */
  mysqldFailures?: MysqldExitRecord;
}

export interface StatusJson {
  name: string;
  namespace: string;
  replicas: number;
  status: Pick<ClusterStatus, 'currentPrimaryIndex' | 'conditions' | 'syncedReplicas' | 'errantReplicas' | 'errantReplicaList' | 'backup' | 'restoredTime'> &
    { state: string | null; cloned: boolean; lastFailover?: RoleChange; lastSwitchover?: RoleChange } &
    Pick<ClusterStatus, 'lastBackupFailure' | 'restore' | 'lastCloneFailure'>;
  /** False while `moco stop clustering` is in effect (the state is then not judged). */
  clusteringActive: boolean;
  /** False while `moco stop reconciliation` is in effect (manifest changes are stored, not applied). */
  reconciliationActive: boolean;
  observedAt: string | null;
  coordinator: { pid: number | null };
  endpoints: { primary: string | null; replica: string | null; pid: number | null };
  instances: InstanceJson[];
}


/** Live details from one agent (GetStatus over mTLS with the cluster's coordinator certificate), or undefined. */
async function liveOf(agent: AgentClient): Promise<InstanceJson['live']> {
  let s: InstanceStatus;
  try {
    s = await agent.getStatus({ timeoutMs: 1500 });
  } catch {
    return undefined;
  }
  const r = s.replica;
  return {
    readOnly: s.readOnly,
    gtidExecuted: s.executed?.text ?? '',
    uptimeSeconds: Number(s.uptimeSeconds),
    ...(r ? {
      replication: {
        source: `${r.sourceHost}:${r.sourcePort}`, io: r.ioState || (r.ioRunning ? 'Yes' : 'No'), sql: r.sqlRunning,
        delaySeconds: r.secondsBehindSource === undefined || r.secondsBehindSource === null ? null : Number(r.secondsBehindSource),
        ...(r.lastIoError || r.lastSqlError ? { lastError: r.lastIoError || r.lastSqlError } : {}),
      },
    } : {}),
    ...(s.clone?.state && s.clone.state !== 'none' ? { clone: s.clone.state } : {}),
  };
}

export async function clusterStatus(dir: ClusterDir, options: { live?: boolean } = {}): Promise<StatusJson> {
  const [cluster, spec, stored, roles, ports, ann] = await Promise.all([
    dir.readCluster(), dir.readSpec(), dir.readStatus(), readRoles(dir.rolesFile),
    readJsonOptional<{ primary: number; replica: number }>(dir.endpointsFile), dir.readAnnotations(),
  ]);
  const st: ClusterStatus = { ...initialStatus(), ...stored };
  const endpointsPid = componentPid(dir, 'endpoints');
  const pki = options.live ? await ensureClusterPki(dir.pkiDir, cluster).catch(() => undefined) : undefined;
  const instances = await Promise.all(cluster.instances.slice(0, spec.replicas).map(async (p): Promise<InstanceJson> => {
    const pids = instancePids(dir, p.index);
    const out: InstanceJson = {
      index: p.index,
      role: roles?.instances.find((r) => r.index === p.index)?.role ?? '',
      ready: false,
      port: p.mysqlPort,
      pids,
    };
    if (pids.agent !== null) {
      if (options.live) {
        const answer = await probeReadyReason(p.httpPort, 1000);
        out.ready = answer.ready;
        if (answer.reason) out.reason = answer.reason;
        if (pki) {
          const agent = new AgentClient(`127.0.0.1:${p.grpcPort}`, pki.coordinator);
          try {
            const live = await liveOf(agent);
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

/** "12 s ago", "5 min ago", "3 h ago", "2 d ago". */
export function ago(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return 'never';
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 90) return `${s} s ago`;
  if (s < 5400) return `${Math.round(s / 60)} min ago`;
  if (s < 172_800) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86_400)} d ago`;
}

const condOf = (s: StatusJson, type: string): Condition | undefined => s.status.conditions.find((c) => c.type === type);

/** The coordinator's verdict as a user reads it: the state, why, since when, and whether it is current. */
export function stateLine(s: StatusJson, now = Date.now()): string {
  if (!s.clusteringActive) {
    return `clustering stopped (moco start clustering ${s.name} resumes it): nothing is judged or repaired, ` +
      `no failover happens${s.status.state ? `; the last state was ${s.status.state}` : ''}`;
  }
  const healthy = condOf(s, 'Healthy');
  const why = healthy?.message.replace(/^the current state is \w+(: )?/, '') ?? '';
  const since = healthy?.lastTransitionTime ? ` since ${healthy.lastTransitionTime} (${ago(healthy.lastTransitionTime, now)})` : '';
  const stale = s.coordinator.pid === null
    ? `\n           the coordinator is NOT running, so this is as of ${s.observedAt ?? 'never'} and may be stale; moco up -d --name ${s.name} restarts it`
    : '';
  return `${s.status.state ?? 'unknown'}${since}${why && s.status.state !== 'Healthy' ? `: ${why}` : ''}${stale}`;
}

function instanceNote(i: InstanceJson): string {
  if (i.pids.supervisor === null && i.pids.mysqld === null) return 'not running (moco up restarts it)';
  if (i.mysqldFailures?.last && i.pids.mysqld === null) {
    const f = i.mysqldFailures.last;
    return `mysqld keeps exiting (${i.mysqldFailures.failuresInARow}x): ${f.errors[f.errors.length - 1] ?? (f.signal ?? `code ${f.code}`)}`;
  }
  if (i.pids.agent === null) return 'agent not running';
  if (!i.live) return 'the agent does not answer (mysqld starting or hung?)';
  if (i.live.clone) return `clone ${i.live.clone}`;
  if (i.live.replication?.lastError) return `replication error: ${i.live.replication.lastError}`;
  return i.ready ? '' : i.reason ?? 'not ready';
}

function delayText(i: InstanceJson): string {
  const d = i.live?.replication?.delaySeconds;
  return i.live?.replication ? (d === null || d === undefined ? '?' : `${d} s`) : '-';
}

export function formatStatus(s: StatusJson, events: ClusterEvent[] = [], now = Date.now()): string {
  const c = (t: string): string => condOf(s, t)?.status ?? 'Unknown';
  const lines = [
    `cluster      ${s.namespace}/${s.name}  (${s.replicas} instance${s.replicas === 1 ? '' : 's'})`,
    `state        ${stateLine(s, now)}`,
    `available    ${c('Available')}   healthy ${c('Healthy')}   clustering ${s.clusteringActive ? 'active' : 'STOPPED'}   ` +
      `reconciliation ${s.reconciliationActive ? 'active' : 'STOPPED (manifest changes wait for moco start reconciliation)'}`,
    `primary      instance ${s.status.currentPrimaryIndex}   synced replicas ${s.status.syncedReplicas}   errant replicas ${s.status.errantReplicas}` +
      (s.status.errantReplicaList.length ? ` ${JSON.stringify(s.status.errantReplicaList)} (moco reinit ${s.name} --index I re-creates one)` : ''),
    `endpoints    primary ${s.endpoints.primary ?? '(down)'}   replica ${s.endpoints.replica ?? '(down)'}` +
      (s.endpoints.pid === null ? '   (the endpoints process is not running; moco up restarts it)' : ''),
    `coordinator  ${s.coordinator.pid === null ? 'NOT RUNNING' : `running (PID ${s.coordinator.pid})`}, last observed ${ago(s.observedAt, now)}`,
    ...roleChangeLines(s),
    ...backupLines(s),
    '',
    'INDEX  ROLE     READY  PORT   DELAY  GTID EXECUTED                  NOTE',
    ...s.instances.map((i) => [
      String(i.index).padEnd(6), (i.role || '-').padEnd(8), (i.ready ? 'yes' : 'no').padEnd(6), String(i.port).padEnd(6),
      delayText(i).padEnd(6), (i.live?.gtidExecuted || '-').slice(0, 30).padEnd(31), instanceNote(i),
    ].join(' ').trimEnd()),
  ];
  const recent = events.slice(-5);
  if (recent.length > 0) {
    lines.push('', `recent events (all: moco events ${s.name}):`);
    for (const e of recent) lines.push(`  ${e.time}  ${e.type.padEnd(7)} ${e.reason}: ${e.message}`);
  }
  return lines.join('\n');
}

function roleChangeLines(s: StatusJson): string[] {
  const out: string[] = [];
  for (const [label, ch] of [['failover', s.status.lastFailover], ['switchover', s.status.lastSwitchover]] as const) {
    if (ch) out.push(`${label.padEnd(13)}last at ${ch.time} (${ago(ch.time)}): instance ${ch.from} -> ${ch.to}, writes unavailable ${ch.writeUnavailableSeconds.toFixed(2)} s`);
  }
  return out;
}

function backupLines(s: StatusJson): string[] {
  const b = s.status.backup;
  const out: string[] = [];
  if (b.time) {
    out.push(`backup       last ${b.time} from instance ${b.sourceIndex ?? '?'}: ${((b.dumpSize ?? 0) / 1e6).toFixed(1)} MB, ` +
      `binlogs ${((b.binlogSize ?? 0) / 1e6).toFixed(1)} MB${b.warnings?.length ? `, ${b.warnings.length} warning(s)` : ''}`);
  }
  const f = s.status.lastBackupFailure;
  if (f) out.push(`backup       FAILED at ${f.time}: ${f.message}`);
  const r = s.status.restore;
  if (s.status.restoredTime) out.push(`restored     at ${s.status.restoredTime} from backup ${r?.backupTime ?? '?'}${r?.binlogApplied ? ' plus binlogs' : ''}`);
  else if (r?.error) out.push(`restore      FAILED at ${r.errorTime ?? '?'} (retrying): ${r.error}`);
  else if (r?.phase) out.push(`restore      running: ${r.phase}${r.bytes ? `, ${(r.bytes / 1e6).toFixed(0)} MB` : ''}`);
  return out;
}

/** The seed's `kubectl get mysqlcluster` columns, one line per cluster. */
export function formatList(all: StatusJson[]): string {
  const header = ['NAME', 'AVAILABLE', 'HEALTHY', 'PRIMARY', 'SYNCED REPLICAS', 'ERRANT REPLICAS', 'CLUSTERING ACTIVE', 'RECONCILE ACTIVE', 'LAST BACKUP', 'STATE'];
  const rows = all.map((s) => {
    const c = (t: string): string => s.status.conditions.find((x) => x.type === t)?.status ?? 'Unknown';
    return [s.name, c('Available'), c('Healthy'), String(s.status.currentPrimaryIndex), String(s.status.syncedReplicas),
      String(s.status.errantReplicas), s.clusteringActive ? 'True' : 'False', s.reconciliationActive ? 'True' : 'False',
      s.status.backup.time ?? '<no value>',
      s.coordinator.pid === null ? `${s.status.state ?? 'unknown'} (coordinator not running)` : s.status.state ?? 'unknown'];
  });
  const widths = header.map((h, k) => Math.max(h.length, ...rows.map((r) => (r[k] ?? '').length)));
  return [header, ...rows].map((r) => r.map((v, k) => (v ?? '').padEnd(widths[k] ?? 0)).join('   ').trimEnd()).join('\n');
}

export function formatEvents(events: ClusterEvent[]): string {
  if (events.length === 0) return 'no events';
  return ['TIME                      TYPE     REASON               MESSAGE',
    ...events.map((e) => `${e.time.padEnd(25)} ${e.type.padEnd(8)} ${e.reason.padEnd(20)} ${e.message}`)].join('\n');
}
