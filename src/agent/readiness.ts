/**
 * The readiness verdict (the seed system's rules: moco-agent's /readyz), as a pure function of a snapshot.
 * A writable instance is a primary and is ready. A read-only one is ready when it replicates with both threads
 * running, no error, no clone in progress or failed, and a delay under maxDelay. On MySQL a replica that has
 * received nothing since mysqld started is not ready until the queueing wait has passed (its delay cannot be
 * measured before); MariaDB measures delay with a one-second source heartbeat and needs no warm-up.
 */
export interface ReadinessSnapshot {
  readOnly: boolean;
  cloneState: string;
  replica: null | {
    ioState: string;
    sqlRunning: boolean;
    lastIoErrno: number;
    lastSqlErrno: number;
  };
  delaySeconds: number | null;
  receivedAnything: boolean;
  uptimeSeconds: number;
}

export interface ReadinessPolicy {
  /** 0 disables the delay check. */
  maxDelayMs: number;
  queueingWaitMs: number;
}

export interface Verdict {
  ready: boolean;
  /** HTTP status the probe answers with. */
  httpStatus: 200 | 500 | 503;
  reason: string;
}

export function readinessVerdict(s: ReadinessSnapshot, policy: ReadinessPolicy): Verdict {
  if (s.cloneState === 'in_progress') return { ready: false, httpStatus: 503, reason: 'under cloning' };
  if (s.cloneState === 'failed') return { ready: false, httpStatus: 503, reason: 'the last clone failed' };
  if (!s.readOnly) return { ready: true, httpStatus: 200, reason: 'writable primary' };
  const r = s.replica;
  if (r === null) return { ready: false, httpStatus: 500, reason: 'read-only and not replicating' };
  if (r.ioState !== 'Yes' || !r.sqlRunning) {
    return { ready: false, httpStatus: 503, reason: `replication threads not running (io=${r.ioState || 'No'}, sql=${r.sqlRunning ? 'Yes' : 'No'})` };
  }
  if (r.lastIoErrno !== 0 || r.lastSqlErrno !== 0) {
    return { ready: false, httpStatus: 503, reason: `replication error (io=${r.lastIoErrno}, sql=${r.lastSqlErrno})` };
  }
  if (policy.maxDelayMs === 0) return { ready: true, httpStatus: 200, reason: 'replicating (delay check disabled)' };
  if (!s.receivedAnything) {
    if (s.uptimeSeconds * 1000 < policy.queueingWaitMs) {
      return { ready: false, httpStatus: 503, reason: 'does not seem to receive transactions yet' };
    }
    return { ready: true, httpStatus: 200, reason: 'replicating (idle source)' };
  }
  if (s.delaySeconds === null) return { ready: false, httpStatus: 503, reason: 'replication delay unknown' };
  if (s.delaySeconds * 1000 >= policy.maxDelayMs) {
    return { ready: false, httpStatus: 503, reason: `replication delay ${s.delaySeconds}s is at or over the limit ${policy.maxDelayMs / 1000}s` };
  }
  return { ready: true, httpStatus: 200, reason: 'replicating' };
}
