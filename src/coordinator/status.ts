/**
 * The clustering part of the MySQLCluster status, computed after every observation (pure). The manager writes
 * only the fields the coordinator owns (platform.ts STATUS_FIELDS), and only when they changed: conditions keep
 * their lastTransitionTime while their status stays, and there is no per-observation timestamp (whether the
 * coordinator is alive is the port's heartbeat).
 */
import type { Decision } from './decide.ts';
import type { ClusterStatus, Condition } from '../api/types.ts';

function cond(type: string, status: Condition['status'], reason: string, message: string): Condition {
  return { type, status, reason, message };
}

/** Keeps lastTransitionTime of conditions whose status did not change. */
function withTransitions(prev: Condition[], next: Condition[], now: string): Condition[] {
  return next.map((c) => {
    const p = prev.find((x) => x.type === c.type);
    return { ...c, lastTransitionTime: p && p.status === c.status && p.lastTransitionTime ? p.lastTransitionTime : now };
  });
}

export function statusAfter(prev: ClusterStatus, d: Decision, now: Date, reconciliationStopped: boolean): ClusterStatus {
  const msg = `the current state is ${d.state}`;
  const conditions = [
    cond('Initialized', d.state === 'Cloning' || d.state === 'Restoring' ? 'False' : 'True', d.state, msg),
    cond('Available', d.state === 'Healthy' || d.state === 'Degraded' ? 'True' : 'False', d.state, msg),
    cond('Healthy', d.state === 'Healthy' ? 'True' : 'False', d.state, `${msg}: ${d.message}`),
    cond('ClusteringActive', 'True', 'ClusteringActive', 'clustering is active'),
    reconciliationCondition(reconciliationStopped),
  ];
  const errant = [...d.errant].sort((a, b) => a - b);
  return {
    ...prev,
    conditions: withTransitions(prev.conditions, conditions, now.toISOString()),
    syncedReplicas: d.syncedReplicas,
    errantReplicas: errant.length,
    errantReplicaList: errant,
    cloned: prev.cloned || (d.state !== 'Cloning' && d.state !== 'Restoring' && prev.state === 'Cloning'),
    state: d.state,
    ...(prev.availableOnce || d.state === 'Healthy' || d.state === 'Degraded' ? { availableOnce: true } : {}),
  };
}

/** Clustering stopped: Available and Healthy become Unknown, nothing else is judged. */
export function statusStopped(prev: ClusterStatus, now: Date, reconciliationStopped: boolean): ClusterStatus {
  const conditions = [
    ...prev.conditions.filter((c) => c.type === 'Initialized'),
    cond('Available', 'Unknown', 'ClusteringInactive', 'clustering is stopped'),
    cond('Healthy', 'Unknown', 'ClusteringInactive', 'clustering is stopped'),
    cond('ClusteringActive', 'False', 'ClusteringInactive', 'clustering is stopped'),
    reconciliationCondition(reconciliationStopped),
  ];
  return { ...prev, conditions: withTransitions(prev.conditions, conditions, now.toISOString()) };
}

function reconciliationCondition(stopped: boolean): Condition {
  return stopped
    ? cond('ReconciliationActive', 'False', 'ReconciliationInactive', 'reconciliation is stopped')
    : cond('ReconciliationActive', 'True', 'ReconciliationActive', 'reconciliation is active');
}

export function conditionTrue(s: ClusterStatus | undefined, type: string): boolean {
  return s?.conditions.find((c) => c.type === type)?.status === 'True';
}
