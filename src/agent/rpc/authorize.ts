/**
 * Who may call what, in one table, and the check every call goes through. A caller is known by its verified
 * client certificate: the CN says what kind of caller it is (`IDENTITIES`), the `moco://<namespace>/<name>` URI in
 * its subjectAltName which cluster it belongs to. One CA may serve many clusters (the Kubernetes controller's
 * does), so the cluster is checked on every call: a certificate of cluster A cannot call anything on cluster B.
 */
import { clusterMismatch, clusterUrisOf, describeCluster, type ClusterRef } from '../../shared/cluster-identity.ts';
import { MocoError } from '../../shared/errors.ts';
import { IDENTITIES, type PeerInfo } from '../../shared/tls.ts';

/**
 * How a method is fenced by the coordinator's term (`src/agent/term.ts`):
 * - `none`: it changes nothing; a higher term still raises the stored one, a lower one is never refused;
 * - `call`: it changes state and is short; an older term is refused, and it holds its term for the whole call
 *   (a newer coordinator's state-changing calls wait until it has finished);
 * - `start`: it changes state and may run for long (clone, backup, restore): an older term is refused at the
 *   start; once started it runs to its end (its progress is in the status) without holding newer terms back.
 */
export type Fence = 'none' | 'call' | 'start';

export interface RpcPolicy {
  /** The certificate CNs that may call it. */
  callers: readonly string[];
  fence: Fence;
}

const { coordinator: COORDINATOR, agent: AGENT, backup: BACKUP } = IDENTITIES;

/**
 * Every RPC of both services. The backup runner's list is what `src/backup/runner.ts` calls: GetStatus to choose
 * the source, Backup, Restore.
 */
export const RPC_POLICY = {
  GetStatus: { callers: [COORDINATOR, BACKUP], fence: 'none' },
  WatchStatus: { callers: [COORDINATOR], fence: 'none' },
  ConfigurePrimary: { callers: [COORDINATOR], fence: 'call' },
  ConfigureReplica: { callers: [COORDINATOR], fence: 'call' },
  StopReplicaIO: { callers: [COORDINATOR], fence: 'call' },
  WaitForGtid: { callers: [COORDINATOR], fence: 'none' },
  SetReadOnly: { callers: [COORDINATOR], fence: 'call' },
  SetWritable: { callers: [COORDINATOR], fence: 'call' },
  KillConnections: { callers: [COORDINATOR], fence: 'call' },
  FlushBinlogs: { callers: [COORDINATOR], fence: 'call' },
  Clone: { callers: [COORDINATOR], fence: 'start' },
  Backup: { callers: [COORDINATOR, BACKUP], fence: 'start' },
  Restore: { callers: [COORDINATOR, BACKUP], fence: 'start' },
  StreamClone: { callers: [COORDINATOR, AGENT], fence: 'none' },
} as const satisfies Record<string, RpcPolicy>;

export type RpcMethod = keyof typeof RPC_POLICY;

/**
 * Only the coordinator carries a term: it is the coordinators' leadership epoch. A backup runner (a Job) and a peer
 * agent are not coordinators; their calls are neither fenced nor able to raise the term, and a `moco-term` header
 * they send is ignored.
 */
export function fencedByTerm(commonName: string): boolean {
  return commonName === COORDINATOR;
}

/**
 * Checks a call: the caller presented a verified certificate, the certificate names this agent's cluster (exactly
 * one cluster, this one), and its CN may call `method`. Pure: no I/O.
 *
 * @returns the caller's CN.
 * @throws MocoError UNAUTHENTICATED without a certificate; PERMISSION_DENIED, naming both clusters, for a
 *   certificate of another cluster; PERMISSION_DENIED for one that names no cluster (reissue it), has no single CN,
 *   or whose CN may not call `method`.
 */
export function authorizeCall(peer: PeerInfo | undefined, method: RpcMethod, own: ClusterRef): string {
  if (peer === undefined) throw new MocoError('UNAUTHENTICATED', 'a client certificate from the cluster CA is required');
  const whose = `the caller's certificate (CN ${peer.commonName ?? '?'}, serial ${peer.serialNumber || '?'})`;
  const mismatch = clusterMismatch(clusterUrisOf(peer.subjectAltName), own, whose);
  if (mismatch !== undefined) {
    throw new MocoError('PERMISSION_DENIED', `${mismatch}; ${method} refused`, { details: { cluster: describeCluster(own), method } });
  }
  const who = peer.commonName;
  if (who === undefined) throw new MocoError('PERMISSION_DENIED', `${whose} has no single common name; ${method} refused`);
  const allowed: readonly string[] = RPC_POLICY[method].callers;
  if (!allowed.includes(who)) {
    throw new MocoError('PERMISSION_DENIED', `"${who}" may not call ${method}; allowed: ${allowed.join(', ')}`);
  }
  return who;
}
