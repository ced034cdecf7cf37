/**
 * How `status`, `get` and `events` print a cluster, for `moco` and `kubectl moco` alike: what `kubectl get` /
 * `kubectl describe mysqlcluster` show, and the plain view answers "is it healthy, and if not, why, and since when".
 */
import type { Condition } from '../api/types.ts';
import type { ClusterEvent, ClusterView, InstanceView } from '../platform/client.ts';

/** Local instances also say how their mysqld failed (see src/platform/local/client.ts). */
type MaybeLocal = InstanceView & { mysqldFailures?: { failuresInARow: number; last?: { code: number | null; signal: string | null; errors: string[] } }; pids?: { agent: number | null } };

/** "12 s ago", "5 min ago", "3 h ago", "2 d ago". */
export function ago(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return 'never';
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 90) return `${s} s ago`;
  if (s < 5400) return `${Math.round(s / 60)} min ago`;
  if (s < 172_800) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86_400)} d ago`;
}

const condOf = (s: ClusterView, type: string): Condition | undefined => s.status.conditions.find((c) => c.type === type);

/** The coordinator's verdict as a user reads it: the state, why, since when, and whether it is current. */
export function stateLine(s: ClusterView, self = 'moco', now = Date.now()): string {
  if (!s.clusteringActive) {
    return `clustering stopped (${self} start clustering ${s.name} resumes it): nothing is judged or repaired, ` +
      `no failover happens${s.status.state ? `; the last state was ${s.status.state}` : ''}`;
  }
  const healthy = condOf(s, 'Healthy');
  const why = healthy?.message.replace(/^the current state is \w+(: )?/, '') ?? '';
  const since = healthy?.lastTransitionTime ? ` since ${healthy.lastTransitionTime} (${ago(healthy.lastTransitionTime, now)})` : '';
  const stale = s.coordinator.running === false
    ? `\n           the coordinator is NOT running, so this is as of ${s.observedAt ?? 'never'} and may be stale` +
      (self === 'moco' ? `; moco up -d --name ${s.name} restarts it` : '')
    : '';
  return `${s.status.state ?? 'unknown'}${since}${why && s.status.state !== 'Healthy' ? `: ${why}` : ''}${stale}`;
}

function instanceNote(i: MaybeLocal): string {
  if (i.down) return i.down;
  if (i.mysqldFailures?.last && !i.live) {
    const f = i.mysqldFailures.last;
    return `mysqld keeps exiting (${i.mysqldFailures.failuresInARow}x): ${f.errors[f.errors.length - 1] ?? (f.signal ?? `code ${f.code}`)}`;
  }
  if (i.pids && i.pids.agent === null) return 'agent not running';
  if (!i.live && i.note !== undefined) return i.note || (i.ready ? '' : i.reason ?? 'not ready');
  if (!i.live) return 'the agent does not answer (mysqld starting or hung?)';
  if (i.live.clone) return `clone ${i.live.clone}`;
  if (i.live.replication?.lastError) return `replication error: ${i.live.replication.lastError}`;
  return i.ready ? '' : i.reason ?? 'not ready';
}

function delayText(i: InstanceView): string {
  const d = i.live?.replication?.delaySeconds;
  return i.live?.replication ? (d === null || d === undefined ? '?' : `${d} s`) : '-';
}

export function formatStatus(s: ClusterView, events: ClusterEvent[] = [], self = 'moco', now = Date.now()): string {
  const width = Math.max(7, ...s.instances.map((i) => (i.address ?? '-').length));
  const c = (t: string): string => condOf(s, t)?.status ?? 'Unknown';
  const lines = [
    `cluster      ${s.namespace}/${s.name}  (${s.replicas} instance${s.replicas === 1 ? '' : 's'})`,
    `state        ${stateLine(s, self, now)}`,
    `available    ${c('Available')}   healthy ${c('Healthy')}   clustering ${s.clusteringActive ? 'active' : 'STOPPED'}   ` +
      `reconciliation ${s.reconciliationActive ? 'active' : `STOPPED (manifest changes wait for ${self} start reconciliation)`}`,
    `primary      instance ${s.status.currentPrimaryIndex}   synced replicas ${s.status.syncedReplicas}   errant replicas ${s.status.errantReplicas}` +
      (s.status.errantReplicaList.length ? ` ${JSON.stringify(s.status.errantReplicaList)} (see docs: re-initializing an errant replica)` : ''),
    `endpoints    primary ${s.endpoints.primary ?? '(down)'}   replica ${s.endpoints.replica ?? '(down)'}`,
    `coordinator  ${s.coordinator.detail}, last observed ${ago(s.observedAt, now)}`,
    ...roleChangeLines(s),
    ...backupLines(s),
    '',
    `INDEX  ROLE     READY  ${'ADDRESS'.padEnd(width)} DELAY  GTID EXECUTED                  NOTE`,
    ...s.instances.map((i) => [
      String(i.index).padEnd(6), (i.role || '-').padEnd(8), (i.ready ? 'yes' : 'no').padEnd(6), (i.address ?? '-').padEnd(width),
      delayText(i).padEnd(6), (i.live?.gtidExecuted || '-').slice(0, 30).padEnd(31), instanceNote(i),
    ].join(' ').trimEnd()),
  ];
  const recent = events.slice(-5);
  if (recent.length > 0) {
    lines.push('', `recent events (all: ${self} events ${s.name}):`);
    for (const e of recent) lines.push(`  ${e.time}  ${e.type.padEnd(7)} ${e.reason}: ${e.message}`);
  }
  return lines.join('\n');
}

function roleChangeLines(s: ClusterView): string[] {
  const out: string[] = [];
  for (const [label, ch] of [['failover', s.status.lastFailover], ['switchover', s.status.lastSwitchover]] as const) {
    if (ch) out.push(`${label.padEnd(13)}last at ${ch.time} (${ago(ch.time)}): instance ${ch.from} -> ${ch.to}, writes unavailable ${ch.writeUnavailableSeconds.toFixed(2)} s`);
  }
  return out;
}

function backupLines(s: ClusterView): string[] {
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
export function formatList(all: ClusterView[]): string {
  const header = ['NAME', 'AVAILABLE', 'HEALTHY', 'PRIMARY', 'SYNCED REPLICAS', 'ERRANT REPLICAS', 'CLUSTERING ACTIVE', 'RECONCILE ACTIVE', 'LAST BACKUP', 'STATE'];
  const rows = all.map((s) => {
    const c = (t: string): string => s.status.conditions.find((x) => x.type === t)?.status ?? 'Unknown';
    return [s.name, c('Available'), c('Healthy'), String(s.status.currentPrimaryIndex), String(s.status.syncedReplicas),
      String(s.status.errantReplicas), s.clusteringActive ? 'True' : 'False', s.reconciliationActive ? 'True' : 'False',
      s.status.backup.time ?? '<no value>',
      s.coordinator.running === false ? `${s.status.state ?? 'unknown'} (coordinator not running)` : s.status.state ?? 'unknown'];
  });
  const widths = header.map((h, k) => Math.max(h.length, ...rows.map((r) => (r[k] ?? '').length)));
  return [header, ...rows].map((r) => r.map((v, k) => (v ?? '').padEnd(widths[k] ?? 0)).join('   ').trimEnd()).join('\n');
}

export function formatEvents(events: ClusterEvent[]): string {
  if (events.length === 0) return 'no events';
  return ['TIME                      TYPE     REASON               MESSAGE',
    ...events.map((e) => `${e.time.padEnd(25)} ${e.type.padEnd(8)} ${e.reason.padEnd(20)} ${e.message}`)].join('\n');
}
