/** An instance as its agent describes it right now (GetStatus), in the CLI's terms; shared by the platforms' clients. */
import type { AgentClient, InstanceStatus } from '../shared/agent-client.ts';
import type { LiveDetails } from './client.ts';

/** Asks the agent; undefined when it does not answer within `timeoutMs`. */
export async function liveDetails(agent: AgentClient, timeoutMs = 1500): Promise<LiveDetails | undefined> {
  let s: InstanceStatus;
  try {
    s = await agent.getStatus({ timeoutMs });
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
