/** Small builders of what a flavor adapter read (FlavorStatus), for the adapter tests. */
import type { Flavor, FlavorStatus, ReplicaTarget, ReplicaView } from '../../../src/agent/flavor/flavor.ts';
import { SEMI_SYNC_TIMEOUT_MS } from '../../../src/agent/flavor/common.ts';

export function replica(overrides: Partial<ReplicaView> = {}): ReplicaView {
  return {
    sourceHost: 'db-0', sourcePort: 3306, sourceUser: 'moco-repl',
    ioState: 'Yes', ioRunning: true, sqlRunning: true,
    ioThreadState: 'Waiting for source to send event', sqlThreadState: 'Replica has read all relay log',
    received: '', receivedReliable: true,
    lastIoErrno: 0, lastIoError: '', lastSqlErrno: 0, lastSqlError: '',
    secondsBehindSource: 0, heartbeatPeriodMs: 1000,
    ...overrides,
  };
}

type SemiSync = FlavorStatus['semiSync'];

/** A read-only instance with semi-sync off and no replication, unless overridden. */
export function status(flavor: Flavor, overrides: Partial<Omit<FlavorStatus, 'semiSync'>> & { semiSync?: Partial<SemiSync> } = {}): FlavorStatus {
  const { semiSync, ...rest } = overrides;
  // Writable follows read-only unless a case sets it (MySQL: read_only on with super_read_only off).
  const writable = rest.writable ?? !(rest.readOnly ?? true);
  return {
    flavor, version: flavor === 'mysql' ? '8.4.4' : '10.11.19-MariaDB', serverId: 1,
    serverUuid: '', gtidSourceId: '1', executed: '', purged: '', readOnly: true,
    semiSync: {
      sourceEnabled: false, replicaEnabled: false, waitForReplicaCount: 1, waitSessions: 0, sourceClients: 0,
      sourceActive: false, replicaActive: false, timeoutMs: '10000',
      ...semiSync,
    },
    connectedReplicas: [], replica: null, hasUserData: false, uptimeSeconds: 100,
    mariadb: null,
    ...rest,
    writable,
  };
}

/** Semi-sync as configurePrimary leaves it for `count` acknowledgements. */
export function semiSyncSource(count: number): Partial<SemiSync> {
  return { sourceEnabled: true, waitForReplicaCount: count, timeoutMs: SEMI_SYNC_TIMEOUT_MS };
}

export function target(overrides: Partial<ReplicaTarget> = {}): ReplicaTarget {
  return {
    host: 'db-0', port: 3306, user: 'moco-repl', password: "pa'ss", semiSync: true,
    heartbeatPeriodMs: 1000, netTimeoutSeconds: 4,
    ...overrides,
  };
}
