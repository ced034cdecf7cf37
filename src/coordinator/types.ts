/**
 * What the coordinator observes and what it records. The manager fills `Observation` from the agents and the
 * platform port (platform.ts); `decide` reads it and nothing else.
 */
import type { ClusterSpec } from '../api/spec.ts';
import type { ClusterStatus, Role } from '../api/types.ts';
import type { InstanceStatus } from '../shared/agent-client.ts';

export type { InstanceStatus, Role };

/** Where other instances reach an instance's mysqld (replication source) and its agent (clone donor). */
export interface InstanceAddress {
  host: string;
  port: number;
  agent: string;
}

export interface InstanceView {
  index: number;
  /** Live status; null when the agent or mysqld does not answer (or mysqld is hung: see `hung`). */
  status: InstanceStatus | null;
  /** The agent's readiness (/readyz); false when unreachable. */
  ready: boolean;
  /** The role currently published for it (the Pod label). */
  role: Role;
  address: InstanceAddress;
  /** Not the primary, yet sessions wait for semi-sync acknowledgements: treated as unavailable. */
  hung?: boolean;
  /** Why `status` is null: the error of the status read (a TLS failure is not a dead instance). */
  unobserved?: string;
}

export interface Observation {
  spec: ClusterSpec;
  status: ClusterStatus;
  instances: InstanceView[];
  /** The primary's status read again after the others (so replicas are never compared with an older one). */
  primaryFresh: InstanceStatus | null;
  /** A switchover was requested (the demote annotation) or the primary is terminating. */
  switchoverRequested: boolean;
}
