import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  chooseFailoverCandidate, decide, failoverQuorum, positionOf, type Decision, type Step,
} from '../../../src/coordinator/decide.ts';
import type { RestoreSpec } from '../../../src/api/spec.ts';
import { formatGtid } from '../../../src/gtid/index.ts';
import type { InstanceView, Observation } from '../../../src/coordinator/types.ts';
import type { ClusterState } from '../../../src/api/types.ts';
import {
  FOREIGN_UUID, SEMI_SYNC_REPLICA, mysqlGtid, observation, primaryStatus, replicaOfStatus, semiSyncSource, status, uuidOf, view,
} from './builders.ts';

const U0 = uuidOf(0);
/** The seed's "123" and "1234". */
const G3 = mysqlGtid(0, 3);
const G4 = mysqlGtid(0, 4);
const ERRANT = `${G3},${FOREIGN_UUID}:1`;
/** A spec.restore; decide only looks at whether one is set. */
const RESTORE: RestoreSpec = {
  sourceName: 'x', sourceNamespace: 'default', restorePoint: '2024-01-01T00:00:00Z',
  jobConfig: { threads: 4, env: {}, bucketConfig: { bucketName: 'b', usePathStyle: false, backendType: 'file' } },
};

/** Replica i of primary 0 in the seed's failure cases: the primary is gone, so the receiver is reconnecting. */
function orphan(i: number, o: Parameters<typeof replicaOfStatus>[2] = {}): ReturnType<typeof replicaOfStatus> {
  return replicaOfStatus(i, 0, { replica: { from: 0, ioState: 'Connecting' }, ...o });
}

/** A healthy 3-instance cluster with primary 0 and the given changes. */
function healthy3(change: (v: InstanceView[]) => void = () => undefined): InstanceView[] {
  const v = [
    view(0, primaryStatus(0, 3), { role: 'primary' }),
    view(1, replicaOfStatus(1, 0), { role: 'replica' }),
    view(2, replicaOfStatus(2, 0), { role: 'replica' }),
  ];
  change(v);
  return v;
}

function at(v: InstanceView[], i: number): InstanceView {
  const x = v[i];
  assert.ok(x, `instance ${i}`);
  return x;
}

interface Case {
  name: string;
  obs: () => Observation;
  state: ClusterState;
  /** The operation's kind; default: what the state implies when nothing else is asked. */
  op?: Decision['operation']['kind'];
  /** Expected switchover target. */
  switchTo?: number;
  errant?: number[];
  todo?: string;
}

const defaultOp: Record<ClusterState, Decision['operation']['kind']> = {
  Offline: 'none', Cloning: 'none', Restoring: 'none', Healthy: 'none', Degraded: 'configure', Failed: 'failover',
  Lost: 'none', Incomplete: 'configure',
};

// The seed's state table (MOCO's clustering/status_test.go), adapted: errant replicas are found
// from their GTIDs while the primary answers, else from status.errantReplicaList; a replica of a dead primary
// reports its receiver as Connecting (with 'Yes' it would confirm the primary is alive, see the witness rule).
const seedTable: Case[] = [
  {
    name: 'healthy1', state: 'Healthy',
    obs: () => observation([view(0, status({ executed: G3, readOnly: false }))]),
  },
  { name: 'lost1', state: 'Lost', obs: () => observation([view(0, null)], { status: { availableOnce: true } }) },
  // Not in the seed: a new cluster whose primary is still starting is Incomplete, not Lost (nothing can be lost yet).
  { name: 'starting: the primary of a never-available cluster does not answer yet', state: 'Incomplete', op: 'none', obs: () => observation([view(0, null)]) },
  {
    name: 'starting: 3 instances, nothing written yet', state: 'Incomplete', op: 'none',
    obs: () => observation([view(0, null, { ready: false }), view(1, null, { ready: false }), view(2, status({ index: 2, executed: '', readOnly: true }))]),
  },
  {
    name: 'never available but a replica holds data: Lost (it may be a restored or cloned copy)', state: 'Lost',
    obs: () => observation([view(0, null, { ready: false }), view(1, status({ index: 1, executed: G3 })), view(2, null, { ready: false })]),
  },
  {
    name: 'incomplete-pod-not-ready', state: 'Incomplete',
    obs: () => observation([view(0, status({ executed: G3, readOnly: false }), { ready: false })]),
  },
  {
    name: 'incomplete-primary-read-only', state: 'Incomplete',
    obs: () => observation([view(0, status({ executed: G3, readOnly: true }))]),
  },
  {
    name: 'incomplete3-initializing', state: 'Incomplete',
    obs: () => observation([0, 1, 2].map((i) => view(i, status({ index: i }), { ready: false }))),
  },
  { name: 'healthy3', state: 'Healthy', obs: () => observation(healthy3()) },
  {
    name: 'healthy3-extra-replica', state: 'Healthy',
    obs: () => observation(healthy3((v) => { at(v, 0).status = primaryStatus(0, 3, { connectedReplicas: [11, 12, 1000] }); })),
  },
  {
    name: 'healthy3-primary-deleting', state: 'Healthy', op: 'switchover', switchTo: 1,
    obs: () => observation(healthy3((v) => { at(v, 0).status = primaryStatus(0, 3, { connectedReplicas: [11, 12, 1000] }); }),
      { switchoverRequested: true }),
  },
  {
    name: 'healthy3-primary-demoting', state: 'Healthy', op: 'switchover', switchTo: 1,
    obs: () => observation(healthy3(), { switchoverRequested: true }),
  },
  // A replica being deleted or demoted does not raise switchoverRequested (it is about the primary only).
  { name: 'healthy3-replica-deleting', state: 'Healthy', obs: () => observation(healthy3(), { switchoverRequested: false }) },
  { name: 'healthy3-replica-demoting', state: 'Healthy', obs: () => observation(healthy3(), { switchoverRequested: false }) },
  {
    name: 'cloning-not-started', state: 'Cloning',
    obs: () => observation([0, 1, 2].map((i) => view(i, status({ index: i }), { ready: false })),
      { spec: { replicationSourceSecretName: 'source' } }),
  },
  {
    name: 'cloning-in-progress', state: 'Cloning',
    obs: () => observation([
      view(0, status({ executed: G4, cloneState: 'in_progress' }), { ready: false }),
      view(1, status({ index: 1 }), { ready: false }),
      view(2, status({ index: 2 }), { ready: false }),
    ], { spec: { replicationSourceSecretName: 'source' } }),
  },
  {
    name: 'cloning-primary-failing', state: 'Cloning',
    obs: () => observation([view(0, null, { ready: false })], { spec: { replicationSourceSecretName: 'source' } }),
  },
  {
    name: 'cloned-primary-failing', state: 'Lost',
    obs: () => observation([view(0, null, { ready: false })], { spec: { replicationSourceSecretName: 'source' }, status: { cloned: true } }),
  },
  { name: 'restoring', state: 'Restoring', obs: () => observation(healthy3(), { spec: { restore: RESTORE } }) },
  {
    name: 'restored', state: 'Healthy',
    obs: () => observation(healthy3(), { spec: { restore: RESTORE }, status: { restoredTime: '2024-01-01T00:00:00Z' } }),
  },
  {
    name: 'degraded3-replica-not-ready', state: 'Degraded',
    obs: () => observation(healthy3((v) => { at(v, 1).ready = false; })),
  },
  {
    name: 'degraded3-replica-stopping', state: 'Degraded',
    obs: () => observation(healthy3((v) => {
      at(v, 0).status = primaryStatus(0, 3, { connectedReplicas: [12] });
      at(v, 1).status = null;
    })),
  },
  {
    name: 'degraded3-replica-not-started', state: 'Degraded',
    obs: () => observation(healthy3((v) => {
      at(v, 0).status = primaryStatus(0, 3, { connectedReplicas: [12] });
      at(v, 1).status = replicaOfStatus(1, 0, { replica: null, semiSync: {} });
    })),
  },
  {
    name: 'degraded3-replica-writable', state: 'Degraded',
    obs: () => observation(healthy3((v) => { at(v, 2).status = replicaOfStatus(2, 0, { readOnly: false }); })),
  },
  {
    name: 'degraded3-replica-errant', state: 'Degraded', errant: [2],
    obs: () => observation(healthy3((v) => { at(v, 2).status = replicaOfStatus(2, 0, { executed: ERRANT }); })),
  },
  {
    name: 'degraded3-replica-lost-data', state: 'Degraded',
    obs: () => observation(healthy3((v) => {
      at(v, 0).status = primaryStatus(0, 3, { connectedReplicas: [11] });
      at(v, 2).status = status({ index: 2 });
      at(v, 2).ready = false;
    })),
  },
  {
    // Here the replica does answer but its sessions wait for semi-sync acks (an ex-primary): treated as down.
    name: 'degraded3-replica-hangup-failover', state: 'Degraded',
    obs: () => observation(healthy3((v) => {
      at(v, 0).status = primaryStatus(0, 3, { connectedReplicas: [12] });
      at(v, 1).status = replicaOfStatus(1, 0, { waitSessions: 1 });
      at(v, 1).hung = true;
    })),
  },
  {
    name: 'degraded5-two-replicas-are-bad', state: 'Degraded', errant: [1],
    obs: () => observation([
      view(0, primaryStatus(0, 5, { connectedReplicas: [11, 12, 14] })),
      view(1, replicaOfStatus(1, 0, { executed: ERRANT })),
      view(2, replicaOfStatus(2, 0)),
      view(3, null, { ready: false }),
      view(4, replicaOfStatus(4, 0)),
    ]),
  },
  {
    name: 'failed3-primary-stopping', state: 'Failed',
    obs: () => observation([view(0, null, { ready: false }), view(1, orphan(1)), view(2, orphan(2))]),
  },
  {
    name: 'failed3-primary-lost-data', state: 'Failed',
    obs: () => observation([view(0, status({ executed: '', readOnly: true })), view(1, replicaOfStatus(1, 0)), view(2, replicaOfStatus(2, 0))]),
  },
  {
    // The seed needs 3 of 4 replicas: that is the quorum when a commit waits for 2 acks (MySQL, 5 instances).
    name: 'failed5-1-replica-errant', state: 'Failed', errant: [3],
    obs: () => observation([view(0, null, { ready: false }), view(1, orphan(1)), view(2, orphan(2)), view(3, orphan(3, { executed: ERRANT })),
      view(4, orphan(4))], { status: { errantReplicaList: [3], semiSyncAcks: 2 } }),
  },
  {
    name: 'lost3-too-few-replicas', state: 'Lost',
    obs: () => observation([view(0, null, { ready: false }), view(1, status({ index: 1, executed: G3 })), view(2, null, { ready: false })]),
  },
  {
    // Two good replicas and an errant one: 2 < 3 even though every observed replica still has its replica status.
    name: 'lost5-too-few-replicas', state: 'Lost', errant: [4],
    obs: () => observation([view(0, null, { ready: false }), view(1, orphan(1)), view(2, orphan(2)), view(3, null, { ready: false }),
      view(4, orphan(4, { executed: ERRANT }))], { status: { errantReplicaList: [4], semiSyncAcks: 2 } }),
  },
  {
    name: 'lost5-too-few-replicas (seed setup: the replicas have no replica status)', state: 'Lost', errant: [4],
    obs: () => observation([view(0, null, { ready: false }), view(1, status({ index: 1, executed: G3 })), view(2, status({ index: 2, executed: G3 })),
      view(3, null, { ready: false }), view(4, status({ index: 4, executed: ERRANT }))], { status: { errantReplicaList: [4], semiSyncAcks: 2 } }),
  },
  { name: 'offline', state: 'Offline', obs: () => observation(healthy3(), { spec: { offline: true } }) },
];

function check(c: Case): void {
  const d = decide(c.obs());
  assert.equal(d.state, c.state, d.message);
  const op = c.op ?? defaultOp[c.state];
  assert.equal(d.operation.kind, op, `operation (${d.message})`);
  if (c.switchTo !== undefined) {
    assert.deepEqual(d.operation, { kind: 'switchover', from: 0, to: c.switchTo });
  }
  assert.deepEqual(d.errant, c.errant ?? []);
}

describe('decide: the seed state table', () => {
  for (const c of seedTable) {
    if (c.todo) it(c.name, { todo: c.todo }, () => check(c));
    else it(c.name, () => check(c));
  }
});

describe('decide: details of the states', () => {
  it('Healthy lists every replica as a candidate, lowest first; syncedReplicas counts ready instances', () => {
    const d = decide(observation(healthy3()));
    assert.deepEqual(d.candidates, [1, 2]);
    assert.equal(d.syncedReplicas, 3);
    assert.equal(d.primary, 0);
  });

  it('a replica pointed at the primary host but another port is not replicating from it', () => {
    const d = decide(observation(healthy3((v) => {
      at(v, 2).status = replicaOfStatus(2, 0, { replica: { sourceHost: '127.0.0.1', sourcePort: 13399 } });
    })));
    assert.equal(d.state, 'Degraded');
    assert.deepEqual(d.candidates, [1]);
  });

  it('every replica fine but the primary lists too few replica hosts: Incomplete, not Degraded', () => {
    const d = decide(observation(healthy3((v) => { at(v, 0).status = primaryStatus(0, 3, { connectedReplicas: [11] }); })));
    assert.equal(d.state, 'Incomplete');
  });

  it('a switchover requested in Degraded goes to the lowest fit replica', () => {
    const v = [
      view(0, primaryStatus(0, 5)),
      view(1, replicaOfStatus(1, 0), { ready: false }),
      view(2, replicaOfStatus(2, 0)),
      view(3, replicaOfStatus(3, 0)),
      view(4, replicaOfStatus(4, 0, { readOnly: false })),
    ];
    const d = decide(observation(v, { switchoverRequested: true }));
    assert.equal(d.state, 'Degraded');
    assert.deepEqual(d.candidates, [2, 3]);
    assert.deepEqual(d.operation, { kind: 'switchover', from: 0, to: 2 });
  });

  it('a switchover goes to the candidate that has applied the most (the old primary waits for its catch-up read-only)', () => {
    const d = decide(observation(healthy3((v) => {
      at(v, 1).status = replicaOfStatus(1, 0, { executed: mysqlGtid(0, 2) });
      at(v, 2).status = replicaOfStatus(2, 0, { executed: G4 });
    }), { switchoverRequested: true }));
    assert.deepEqual(d.candidates, [2, 1]);
    assert.deepEqual(d.operation, { kind: 'switchover', from: 0, to: 2 });
  });

  it('MariaDB: the candidate furthest in the primary\'s domain goes first', () => {
    const d = decide(observation([
      view(0, primaryStatus(0, 3, { flavor: 'mariadb', executed: '0-10-9' })),
      view(1, replicaOfStatus(1, 0, { flavor: 'mariadb', executed: '0-10-5' })),
      view(2, replicaOfStatus(2, 0, { flavor: 'mariadb', executed: '0-10-8' })),
    ], { switchoverRequested: true }));
    assert.deepEqual(d.candidates, [2, 1]);
    assert.deepEqual(d.operation, { kind: 'switchover', from: 0, to: 2 });
  });

  it('candidates that have applied as much are taken lowest index first', () => {
    const d = decide(observation(healthy3(), { switchoverRequested: true }));
    assert.deepEqual(d.candidates, [1, 2]);
    assert.deepEqual(d.operation, { kind: 'switchover', from: 0, to: 1 });
  });

  it('a single instance never switches over', () => {
    const d = decide(observation([view(0, status({ executed: G3, readOnly: false }))], { switchoverRequested: true }));
    assert.equal(d.state, 'Healthy');
    assert.equal(d.operation.kind, 'none');
  });

  it('holdSwitchover when a replica is further behind than maxDelaySecondsForPodDeletion; the switchover waits', () => {
    const lagging = healthy3((v) => { at(v, 2).status = replicaOfStatus(2, 0, { replica: { from: 0, secondsBehindSource: 100 } }); });
    const d = decide(observation(lagging, { spec: { maxDelaySecondsForPodDeletion: 10 }, switchoverRequested: true }));
    assert.equal(d.state, 'Healthy');
    assert.equal(d.holdSwitchover, true);
    assert.equal(d.operation.kind, 'none');

    const off = decide(observation(lagging, { spec: { maxDelaySecondsForPodDeletion: 0 }, switchoverRequested: true }));
    assert.equal(off.holdSwitchover, false, '0 disables the check');
    assert.equal(off.operation.kind, 'switchover');

    const atLimit = healthy3((v) => { at(v, 2).status = replicaOfStatus(2, 0, { replica: { from: 0, secondsBehindSource: 10 } }); });
    const d2 = decide(observation(atLimit, { spec: { maxDelaySecondsForPodDeletion: 10 }, switchoverRequested: true }));
    assert.equal(d2.holdSwitchover, false, 'only a delay above the limit holds');
    assert.equal(d2.operation.kind, 'switchover');
  });

  it('holdSwitchover also holds a switchover in Degraded', () => {
    const v = healthy3((x) => {
      at(x, 1).ready = false;
      at(x, 2).status = replicaOfStatus(2, 0, { replica: { from: 0, secondsBehindSource: 11 } });
    });
    const d = decide(observation(v, { spec: { maxDelaySecondsForPodDeletion: 10 }, switchoverRequested: true }));
    assert.equal(d.state, 'Degraded');
    assert.equal(d.holdSwitchover, true);
    assert.equal(d.operation.kind, 'configure');
  });

  it('lostData needs the primary to hold no user data', () => {
    const empty = (hasUserData: boolean): Observation => observation([
      view(0, status({ executed: '', readOnly: true, hasUserData })), view(1, replicaOfStatus(1, 0)), view(2, replicaOfStatus(2, 0)),
    ]);
    assert.equal(decide(empty(false)).state, 'Failed');
    const d = decide(empty(true));
    assert.equal(d.state, 'Incomplete');
    assert.equal(d.operation.kind, 'configure');
  });

  it('a primary that lost its data is never Degraded, even while writable and ready', () => {
    const d = decide(observation([
      view(0, status({ executed: '', readOnly: false, connectedReplicas: [11, 12], semiSync: semiSyncSource(1) })),
      view(1, replicaOfStatus(1, 0)), view(2, replicaOfStatus(2, 0, { readOnly: false })),
    ]));
    assert.equal(d.state, 'Failed');
  });

  it('currentPrimaryIndex outside the cluster is Lost', () => {
    const d = decide(observation(healthy3(), { status: { currentPrimaryIndex: 5 } }));
    assert.equal(d.state, 'Lost');
    assert.equal(d.operation.kind, 'none');
  });
});

describe('decide: errant replicas', () => {
  it('a transaction from a foreign uuid makes a replica errant; it is no candidate', () => {
    const d = decide(observation(healthy3((v) => { at(v, 1).status = replicaOfStatus(1, 0, { executed: ERRANT }); })));
    assert.deepEqual(d.errant, [1]);
    assert.deepEqual(d.candidates, [2]);
  });

  it('a replica ahead of the primary only with the primary\'s own transactions is not errant', () => {
    const d = decide(observation(healthy3((v) => { at(v, 1).status = replicaOfStatus(1, 0, { executed: mysqlGtid(0, 6) }); })));
    assert.deepEqual(d.errant, []);
    assert.equal(d.state, 'Healthy');
  });

  it('the freshly re-read primary status is what replicas are compared with', () => {
    // The first read of the primary says 1-4, the re-read 1-6: a replica at 1-6 is not ahead. And a replica
    // with a foreign transaction that the fresh primary also has (replicated from an older primary) is fine.
    const fresh = primaryStatus(0, 3, { executed: `${mysqlGtid(0, 6)},${FOREIGN_UUID}:1` });
    const d = decide(observation(healthy3((v) => {
      at(v, 1).status = replicaOfStatus(1, 0, { executed: `${mysqlGtid(0, 6)},${FOREIGN_UUID}:1` });
    }), { primaryFresh: fresh }));
    assert.deepEqual(d.errant, []);
  });

  it('the errant list is recomputed while the primary answers (a re-initialized replica is no longer errant)', () => {
    const d = decide(observation(healthy3(), { status: { errantReplicaList: [2] } }));
    assert.deepEqual(d.errant, []);
    assert.equal(d.state, 'Healthy');
  });

  it('while the primary is down the recorded errant list is kept, also for instances that do not answer', () => {
    const d = decide(observation([view(0, null, { ready: false }), view(1, orphan(1)), view(2, null)],
      { status: { errantReplicaList: [2] } }));
    assert.deepEqual(d.errant, [2]);
    assert.equal(d.state, 'Lost');
  });

  it('a remembered errant replica does not count toward the failover quorum', () => {
    const v = [view(0, null, { ready: false }), view(1, orphan(1)), view(2, orphan(2))];
    assert.equal(decide(observation(v)).state, 'Failed');
    const d = decide(observation(v, { status: { errantReplicaList: [2] } }));
    assert.equal(d.state, 'Lost');
    assert.deepEqual(d.errant, [2]);
  });

  it('while the primary lost its data the recorded list is kept as well', () => {
    const d = decide(observation([view(0, status({ executed: '' })), view(1, replicaOfStatus(1, 0)), view(2, replicaOfStatus(2, 0))],
      { status: { errantReplicaList: [1] } }));
    assert.deepEqual(d.errant, [1]);
    assert.equal(d.state, 'Lost');
  });

  it('MariaDB: a replica with a later transaction of another server id is errant; ahead with the primary\'s own is not', () => {
    const mk = (replicaGtid: string): Decision => decide(observation([
      view(0, primaryStatus(0, 3, { flavor: 'mariadb', executed: '0-10-5' })),
      view(1, replicaOfStatus(1, 0, { flavor: 'mariadb', executed: '0-10-5' })),
      view(2, replicaOfStatus(2, 0, { flavor: 'mariadb', executed: replicaGtid })),
    ]));
    assert.deepEqual(mk('0-10-5,0-12-6').errant, [2]);
    assert.deepEqual(mk('0-10-7').errant, []);
    assert.equal(mk('0-10-7').state, 'Healthy');
  });
});

describe('decide: the hung rule', () => {
  it('a non-primary whose sessions wait for semi-sync acks is treated as down and listed in hung', () => {
    const d = decide(observation(healthy3((v) => {
      at(v, 2).status = replicaOfStatus(2, 0, { readOnly: false, waitSessions: 3 });
      at(v, 2).hung = true;
    })));
    assert.equal(d.state, 'Degraded');
    assert.deepEqual(d.hung, [2]);
    assert.deepEqual(d.candidates, [1]);
    assert.ok(d.operation.kind === 'configure');
    assert.ok(!d.operation.steps.some((s) => 'index' in s && s.index === 2), 'nothing is done to a hung instance');
  });

  it('a hung instance does not count toward a failover', () => {
    const v = [view(0, null, { ready: false }), view(1, orphan(1)), view(2, orphan(2, { waitSessions: 1 }), { hung: true })];
    const d = decide(observation(v));
    assert.equal(d.state, 'Lost');
    assert.deepEqual(d.hung, [2]);
  });

  it('a hung returning old primary with unacknowledged commits is still listed as errant (and loses its role)', () => {
    // After a failover to 1, the old primary 0 comes back with a commit that waited for acks forever.
    const v = [
      view(0, status({ index: 0, executed: mysqlGtid(0, 5), readOnly: false, waitSessions: 1, semiSync: semiSyncSource(1) }),
        { role: 'primary', hung: true }),
      view(1, primaryStatus(1, 3, { executed: mysqlGtid(0, 4), connectedReplicas: [12] }), { role: 'primary' }),
      view(2, replicaOfStatus(2, 1, { executed: mysqlGtid(0, 4) }), { role: 'replica' }),
    ];
    const d = decide(observation(v, { status: { currentPrimaryIndex: 1, errantReplicaList: [0] } }));
    assert.equal(d.state, 'Degraded');
    assert.deepEqual(d.hung, [0]);
    assert.deepEqual(d.errant, [0]);
    assert.ok(d.operation.kind === 'configure');
    assert.deepEqual(d.operation.steps[0], { kind: 'publishRoles', roles: ['', 'primary', 'replica'] });
    assert.ok(!d.operation.steps.some((s) => 'index' in s && s.index === 0), 'nothing is done to a hung instance');
  });

  it('hung only applies to non-primaries: a primary waiting for acks is still the primary', () => {
    const d = decide(observation(healthy3((v) => {
      at(v, 0).status = primaryStatus(0, 3, { waitSessions: 2 });
      at(v, 0).hung = true;
    })));
    assert.equal(d.state, 'Healthy');
    assert.deepEqual(d.hung, []);
  });
});

describe('decide: confirmation by replicas (the witness rule)', () => {
  const dead = (ioState: 'Yes' | 'Connecting' | 'No', o: { errant?: boolean; port?: number; silent?: boolean } = {}): Observation => observation([
    view(0, null, { ready: false }),
    view(1, replicaOfStatus(1, 0, { replica: { from: 0, ioState, silent: o.silent ?? false, ...(o.port ? { sourcePort: o.port } : {}) } })),
    view(2, orphan(2)),
  ], { status: { errantReplicaList: o.errant ? [1] : [] } });

  it('the primary does not answer but a replica still receives from it: Degraded, no operation', () => {
    const d = decide(dead('Yes'));
    assert.equal(d.state, 'Degraded');
    assert.equal(d.operation.kind, 'none');
    assert.match(d.message, /still receives/);
  });

  it('the replica is reconnecting: Failed', () => {
    assert.equal(decide(dead('Connecting')).state, 'Failed');
    assert.equal(decide(dead('No')).state, 'Failed');
  });

  it('a replica still connected but silent (no event or heartbeat for two periods: a hung primary, a cut path) is no witness', () => {
    assert.equal(decide(dead('Yes', { silent: true })).state, 'Failed');
    assert.equal(decide(dead('Yes', { silent: true })).operation.kind, 'failover');
  });

  it('of two replicas, one silent and one still hearing the primary: the one that hears it vetoes', () => {
    const d = decide(observation([
      view(0, null, { ready: false }),
      view(1, replicaOfStatus(1, 0, { replica: { from: 0, silent: true } })),
      view(2, replicaOfStatus(2, 0, { replica: { from: 0 } })),
    ]));
    assert.equal(d.state, 'Degraded');
    assert.match(d.message, /replica 2 still receives/);
  });

  it('an errant replica is no witness', () => {
    assert.equal(decide(dead('Yes', { errant: true })).state, 'Lost');
  });

  it('a replica receiving from another address is no witness', () => {
    assert.equal(decide(dead('Yes', { port: 13399 })).state, 'Failed');
  });

  it('a primary that answers with no data is not confirmed by replicas: Failed', () => {
    const d = decide(observation([view(0, status({ executed: '' })), view(1, replicaOfStatus(1, 0)), view(2, replicaOfStatus(2, 0))]));
    assert.equal(d.state, 'Failed');
  });
});

describe('decide: the failover quorum', () => {
  it('failoverQuorum = replicas-1 - acks + 1, unknown acks counting as 1', () => {
    assert.equal(failoverQuorum(3, undefined), 2);
    assert.equal(failoverQuorum(3, 1), 2);
    assert.equal(failoverQuorum(5, 2), 3);
    assert.equal(failoverQuorum(5, 1), 4);
    assert.equal(failoverQuorum(5, undefined), 4);
    assert.equal(failoverQuorum(5, 0), 4, 'fewer than one ack is taken as one');
    assert.equal(failoverQuorum(5, 9), 1, 'more acks than replicas is taken as every replica');
    assert.equal(failoverQuorum(7, 3), 4);
  });

  const five = (good: number, acks: number | undefined, flavor: 'mysql' | 'mariadb' = 'mysql'): Observation => {
    const exec = flavor === 'mysql' ? G3 : '0-10-3';
    const v: InstanceView[] = [view(0, null, { ready: false })];
    for (let i = 1; i < 5; i++) {
      v.push(i <= good ? view(i, orphan(i, { flavor, executed: exec })) : view(i, null, { ready: false }));
    }
    return observation(v, { status: acks === undefined ? {} : { semiSyncAcks: acks } });
  };

  it('5 instances, acks unknown: all 4 replicas are needed', () => {
    assert.equal(decide(five(3, undefined)).state, 'Lost');
    assert.equal(decide(five(4, undefined)).state, 'Failed');
  });

  it('5 instances, 2 acks (MySQL): 3 replicas suffice', () => {
    assert.equal(decide(five(2, 2)).state, 'Lost');
    assert.equal(decide(five(3, 2)).state, 'Failed');
  });

  it('5 MariaDB instances (1 ack): all 4 replicas are needed', () => {
    assert.equal(decide(five(3, 1, 'mariadb')).state, 'Lost');
    assert.equal(decide(five(4, 1, 'mariadb')).state, 'Failed');
  });

  it('a replica whose relay log may be lost does not count', () => {
    const v = (reliable: boolean): Observation => observation([
      view(0, null, { ready: false }),
      view(1, orphan(1)),
      view(2, orphan(2, { replica: { from: 0, ioState: 'No', sqlRunning: false, received: G4, receivedReliable: reliable } })),
    ]);
    assert.equal(decide(v(true)).state, 'Failed');
    assert.equal(decide(v(false)).state, 'Lost');
  });

  it('a replica with an empty executed set, or without replica status, does not count', () => {
    const v = [view(0, null, { ready: false }), view(1, orphan(1)), view(2, orphan(2, { executed: '' }))];
    assert.equal(decide(observation(v)).state, 'Lost');
    const w = [view(0, null, { ready: false }), view(1, orphan(1)), view(2, status({ index: 2, executed: G3 }))];
    assert.equal(decide(observation(w)).state, 'Lost');
  });

  it('readiness is not required to count', () => {
    const v = [view(0, null, { ready: false }), view(1, orphan(1), { ready: false }), view(2, orphan(2), { ready: false })];
    assert.equal(decide(observation(v)).state, 'Failed');
  });
});

// ---- configure ---------------------------------------------------------------------------------------------

function stepsOf(d: Decision): Step[] {
  assert.equal(d.operation.kind, 'configure', `${d.state}: ${d.message}`);
  return d.operation.kind === 'configure' ? d.operation.steps : [];
}

function indexOfStep(steps: Step[], match: Partial<Step>): number {
  return steps.findIndex((s) => Object.entries(match).every(([k, v]) => (s as unknown as Record<string, unknown>)[k] === v));
}

function fresh3(flavor: 'mysql' | 'mariadb'): Observation {
  return observation([0, 1, 2].map((i) => view(i, status({ index: i, flavor }), { ready: false })));
}

const FRESH_STEPS: Step[] = [
  { kind: 'sleep', ms: 300, why: 'let the endpoints drop the old roles' },
  { kind: 'killConnections', index: 0 },
  { kind: 'killConnections', index: 1 },
  { kind: 'killConnections', index: 2 },
  { kind: 'configurePrimary', index: 0, waitForReplicaCount: 1 },
  { kind: 'configureReplica', index: 1, source: 0, semiSync: true },
  { kind: 'configureReplica', index: 2, source: 0, semiSync: true },
  { kind: 'publishRoles', roles: ['primary', 'replica', 'replica'] },
  { kind: 'setWritable', index: 0 },
];

describe('decide: configure steps', () => {
  it('a fresh 3-instance cluster: primary, replicas, roles, writable last', () => {
    const d = decide(fresh3('mysql'));
    assert.equal(d.state, 'Incomplete');
    assert.deepEqual(stepsOf(d), FRESH_STEPS);
  });

  it('a fresh 3-instance MariaDB cluster gets the same steps', () => {
    const d = decide(fresh3('mariadb'));
    assert.equal(d.state, 'Incomplete');
    assert.deepEqual(stepsOf(d), FRESH_STEPS);
  });

  it('roleSettleMs is an option', () => {
    const steps = stepsOf(decide(fresh3('mysql'), { roleSettleMs: 5 }));
    assert.deepEqual(steps[0], { kind: 'sleep', ms: 5, why: 'let the endpoints drop the old roles' });
  });

  it('a fresh single instance: no semi-sync, no kill of other instances, writable last', () => {
    const d = decide(observation([view(0, status(), { ready: false })]));
    assert.deepEqual(stepsOf(d), [
      { kind: 'sleep', ms: 300, why: 'let the endpoints drop the old roles' },
      { kind: 'killConnections', index: 0 },
      { kind: 'publishRoles', roles: ['primary'] },
      { kind: 'setWritable', index: 0 },
    ]);
  });

  it('a single instance with semi-sync on gets it turned off (wait count 0)', () => {
    const d = decide(observation([view(0, status({ executed: G3, semiSync: semiSyncSource(1) }), { role: 'primary' })]));
    assert.deepEqual(stepsOf(d), [
      { kind: 'configurePrimary', index: 0, waitForReplicaCount: 0 },
      { kind: 'setWritable', index: 0 },
    ]);
  });

  it('5 instances: the primary waits for 2 acks', () => {
    const d = decide(observation([0, 1, 2, 3, 4].map((i) => view(i, status({ index: i }), { ready: false }))));
    assert.ok(stepsOf(d).some((s) => s.kind === 'configurePrimary' && s.waitForReplicaCount === 2));
  });

  it('a primary whose semi-sync waits for the recorded effective count (MariaDB: 1) is not reconfigured', () => {
    const v = [0, 1, 2, 3, 4].map((i) => i === 0
      ? view(0, primaryStatus(0, 5, { flavor: 'mariadb', executed: '0-10-4', readOnly: true, semiSync: semiSyncSource(1) }), { role: 'primary' })
      : view(i, replicaOfStatus(i, 0, { flavor: 'mariadb', executed: '0-10-4' }), { role: 'replica' }));
    const steps = stepsOf(decide(observation(v, { status: { semiSyncAcks: 1 } })));
    assert.deepEqual(steps, [{ kind: 'setWritable', index: 0 }]);
    const unknown = stepsOf(decide(observation(v)));
    assert.deepEqual(unknown[0], { kind: 'configurePrimary', index: 0, waitForReplicaCount: 2 });
  });

  it('a writable replica: killConnections, then setReadOnly, then configureReplica', () => {
    const d = decide(observation(healthy3((v) => {
      at(v, 0).status = primaryStatus(0, 3, { connectedReplicas: [11] });
      at(v, 2).status = status({ index: 2, executed: G3, readOnly: false });
    })));
    assert.equal(d.state, 'Degraded');
    const steps = stepsOf(d);
    assert.deepEqual(steps, [
      { kind: 'killConnections', index: 2 },
      { kind: 'setReadOnly', index: 2 },
      { kind: 'configureReplica', index: 2, source: 0, semiSync: true },
    ]);
  });

  it('an empty replica of a primary with data is cloned (and not pointed at the primary this round)', () => {
    const d = decide(observation(healthy3((v) => {
      at(v, 0).status = primaryStatus(0, 3, { connectedReplicas: [11] });
      at(v, 2).status = status({ index: 2 });
      at(v, 2).ready = false;
    })));
    const steps = stepsOf(d);
    assert.deepEqual(steps, [{ kind: 'clone', index: 2, donor: 0 }]);
  });

  it('no clone when the replica has user data, or a replica status, or the primary is empty', () => {
    const with2 = (replica: ReturnType<typeof status>): Step[] => stepsOf(decide(observation(healthy3((v) => {
      at(v, 0).status = primaryStatus(0, 3, { connectedReplicas: [11] });
      at(v, 2).status = replica;
    }))));
    assert.ok(!with2(status({ index: 2, hasUserData: true })).some((s) => s.kind === 'clone'));
    assert.ok(!with2(status({ index: 2, replica: { from: 0, ioState: 'Connecting' } })).some((s) => s.kind === 'clone'));
    const emptyPrimary = stepsOf(decide(observation([
      view(0, primaryStatus(0, 3, { executed: '', connectedReplicas: [11] }), { role: 'primary' }),
      view(1, replicaOfStatus(1, 0, { executed: '' }), { role: 'replica' }),
      view(2, status({ index: 2 }), { role: 'replica', ready: false }),
    ])));
    assert.deepEqual(emptyPrimary, [{ kind: 'configureReplica', index: 2, source: 0, semiSync: true }]);
  });

  it('an errant replica: stopReplicaIO, no configureReplica and no role', () => {
    const d = decide(observation(healthy3((v) => { at(v, 2).status = replicaOfStatus(2, 0, { executed: ERRANT }); })));
    assert.deepEqual(d.errant, [2]);
    const steps = stepsOf(d);
    assert.deepEqual(steps, [
      { kind: 'publishRoles', roles: ['primary', 'replica', ''] },
      { kind: 'stopReplicaIO', index: 2 },
    ]);
  });

  it('an errant writable replica is also made read-only, after its connections are killed', () => {
    const d = decide(observation(healthy3((v) => {
      at(v, 2).status = replicaOfStatus(2, 0, { executed: ERRANT, readOnly: false, replica: { from: 0, ioState: 'No' } });
      at(v, 2).role = '';
    })));
    assert.deepEqual(stepsOf(d), [{ kind: 'killConnections', index: 2 }, { kind: 'setReadOnly', index: 2 }]);
  });

  it('after a failover: wrong roles are removed first, then a pause, then the instances that change role lose their clients', () => {
    // Primary is now 1 (still read-only, fenced, its relay log applied); 0 came back clean and still says primary.
    const v = [
      view(0, status({ index: 0, executed: mysqlGtid(0, 4), readOnly: false, semiSync: semiSyncSource(1) }), { role: 'primary' }),
      view(1, status({ index: 1, executed: mysqlGtid(0, 4), readOnly: true, semiSync: SEMI_SYNC_REPLICA,
        replica: { from: 0, ioState: 'No', received: mysqlGtid(0, 4) } }), { role: 'replica' }),
      view(2, replicaOfStatus(2, 0, { executed: mysqlGtid(0, 4), replica: { from: 0, ioState: 'No' } }), { role: 'replica' }),
    ];
    const d = decide(observation(v, { status: { currentPrimaryIndex: 1 } }));
    assert.equal(d.state, 'Incomplete');
    assert.deepEqual(stepsOf(d), [
      { kind: 'publishRoles', roles: ['', '', 'replica'] },
      { kind: 'sleep', ms: 300, why: 'let the endpoints drop the old roles' },
      { kind: 'killConnections', index: 0 },
      { kind: 'killConnections', index: 1 },
      { kind: 'configurePrimary', index: 1, waitForReplicaCount: 1 },
      { kind: 'killConnections', index: 0 },
      { kind: 'setReadOnly', index: 0 },
      { kind: 'configureReplica', index: 0, source: 1, semiSync: true },
      { kind: 'configureReplica', index: 2, source: 1, semiSync: true },
      { kind: 'publishRoles', roles: ['replica', 'primary', 'replica'] },
      { kind: 'setWritable', index: 1 },
    ]);
  });

  it('after a failover the dead old primary loses its role and gets nothing else', () => {
    const v = [
      view(0, null, { role: 'primary', ready: false }),
      view(1, status({ index: 1, executed: mysqlGtid(0, 4), semiSync: SEMI_SYNC_REPLICA, replica: { from: 0, ioState: 'No' } }), { role: 'replica' }),
      view(2, replicaOfStatus(2, 0, { executed: mysqlGtid(0, 4), replica: { from: 0, ioState: 'No' } }), { role: 'replica' }),
    ];
    const steps = stepsOf(decide(observation(v, { status: { currentPrimaryIndex: 1 } })));
    assert.deepEqual(steps[0], { kind: 'publishRoles', roles: ['', '', 'replica'] });
    assert.ok(!steps.some((s) => 'index' in s && s.index === 0));
    assert.deepEqual(steps.filter((s) => s.kind === 'killConnections'), [{ kind: 'killConnections', index: 1 }], 'kill 1x on the new primary only');
    assert.deepEqual(steps.at(-2), { kind: 'publishRoles', roles: ['', 'primary', 'replica'] });
    assert.deepEqual(steps.at(-1), { kind: 'setWritable', index: 1 });
  });

  it('a new primary still receiving stops its IO thread; it waits for what it received before it becomes writable', () => {
    const v = [
      view(0, null, { ready: false }),
      view(1, status({ index: 1, executed: mysqlGtid(0, 3), semiSync: SEMI_SYNC_REPLICA,
        replica: { from: 0, ioState: 'Connecting', received: mysqlGtid(0, 4) } }), { role: 'replica' }),
      view(2, replicaOfStatus(2, 0, { executed: mysqlGtid(0, 3) }), { role: 'replica' }),
    ];
    const steps = stepsOf(decide(observation(v, { status: { currentPrimaryIndex: 1 } }), { applyWaitMs: 1234 }));
    const stop = indexOfStep(steps, { kind: 'stopReplicaIO', index: 1 });
    const wait = indexOfStep(steps, { kind: 'waitForGtid', index: 1 });
    const conf = indexOfStep(steps, { kind: 'configurePrimary', index: 1 });
    assert.ok(stop >= 0 && stop < wait && wait < conf, JSON.stringify(steps));
    assert.deepEqual(steps[wait], { kind: 'waitForGtid', index: 1, gtid: mysqlGtid(0, 4), timeoutMs: 1234 });
    assert.deepEqual(steps.at(-1), { kind: 'setWritable', index: 1 });
  });

  it('a new primary whose received set may be lost (both threads stopped, MariaDB) does not wait for it', () => {
    const v = [
      view(0, null, { ready: false }),
      view(1, status({ index: 1, flavor: 'mariadb', executed: '0-10-3', semiSync: SEMI_SYNC_REPLICA,
        replica: { from: 0, ioState: 'No', sqlRunning: false, received: '0-10-4', receivedReliable: false } }), { role: 'replica' }),
      view(2, replicaOfStatus(2, 0, { flavor: 'mariadb', executed: '0-10-3' }), { role: 'replica' }),
    ];
    const steps = stepsOf(decide(observation(v, { status: { currentPrimaryIndex: 1 } })));
    assert.ok(!steps.some((s) => s.kind === 'waitForGtid'), JSON.stringify(steps));
    assert.deepEqual(steps.at(-1), { kind: 'setWritable', index: 1 });
  });

  it('purged-GTID guard: a replica missing transactions the primary purged gets a fail step, before roles and writable', () => {
    const d = decide(observation(healthy3((v) => {
      at(v, 0).status = primaryStatus(0, 3, { connectedReplicas: [11], readOnly: true, purged: mysqlGtid(0, 2) });
      at(v, 2).status = status({ index: 2, executed: `${U0}:1`, replica: { from: 0, ioState: 'No' } });
      at(v, 2).role = '';
    })));
    const steps = stepsOf(d);
    const fail = steps.findIndex((s) => s.kind === 'fail');
    assert.ok(fail >= 0, JSON.stringify(steps));
    const f = steps[fail];
    assert.ok(f?.kind === 'fail');
    assert.match(f.message, /purged/);
    assert.match(f.message, /instance 2/);
    assert.ok(!steps.some((s) => s.kind === 'configureReplica' && s.index === 2));
    assert.ok(fail < indexOfStep(steps, { kind: 'setWritable' }));
    assert.ok(fail < steps.findLastIndex((s) => s.kind === 'publishRoles'));
  });

  it('a replica that has everything the primary purged is configured', () => {
    const steps = stepsOf(decide(observation(healthy3((v) => {
      at(v, 0).status = primaryStatus(0, 3, { connectedReplicas: [11], purged: mysqlGtid(0, 2) });
      at(v, 2).status = status({ index: 2, executed: G3, replica: { from: 0, ioState: 'No' } });
    }))));
    assert.deepEqual(steps, [{ kind: 'configureReplica', index: 2, source: 0, semiSync: true }]);
  });

  it('a replica with semi-sync off, or pointed elsewhere, is re-pointed; a stopped SQL thread alone is not repaired', () => {
    const one = (r: ReturnType<typeof status>): Step[] => stepsOf(decide(observation(healthy3((v) => {
      at(v, 0).status = primaryStatus(0, 3, { connectedReplicas: [11] });
      at(v, 2).status = r;
    }))));
    const want = [{ kind: 'configureReplica', index: 2, source: 0, semiSync: true }];
    assert.deepEqual(one(replicaOfStatus(2, 0, { semiSync: {} })), want);
    assert.deepEqual(one(replicaOfStatus(2, 0, { replica: { from: 1 } })), want);
    assert.deepEqual(one(replicaOfStatus(2, 0, { replica: { from: 0, sqlRunning: false } })), []);
  });
});

// ---- failover candidate ------------------------------------------------------------------------------------

describe('chooseFailoverCandidate and positionOf', () => {
  const r = (index: number, executed: string, received = '', reliable = true, flavor: 'mysql' | 'mariadb' = 'mysql') =>
    ({ index, status: status({ index, flavor, executed, replica: { from: 0, ioState: 'No', received, receivedReliable: reliable } }) });

  it('MySQL: the replica whose received set contains every other wins; ties go to the lowest index', () => {
    assert.deepEqual(chooseFailoverCandidate('mysql', [r(2, mysqlGtid(0, 1), mysqlGtid(0, 3)), r(1, mysqlGtid(0, 1), mysqlGtid(0, 3))]), { index: 1 });
    assert.deepEqual(chooseFailoverCandidate('mysql', [r(1, mysqlGtid(0, 1), mysqlGtid(0, 2)), r(2, mysqlGtid(0, 1), mysqlGtid(0, 3))]), { index: 2 });
    assert.deepEqual(chooseFailoverCandidate('mysql', [r(1, mysqlGtid(0, 3)), r(2, mysqlGtid(0, 1), mysqlGtid(0, 2))]), { index: 1 });
  });

  it('MySQL: diverging replicas are refused', () => {
    const c = chooseFailoverCandidate('mysql', [r(1, `${mysqlGtid(0, 3)},${FOREIGN_UUID}:1`), r(2, mysqlGtid(0, 4))]);
    assert.ok('error' in c);
    assert.match(c.error, /1 and 2/);
  });

  it('nobody with a position: an error', () => {
    const c = chooseFailoverCandidate('mysql', [r(1, ''), r(2, '')]);
    assert.ok('error' in c);
  });

  it('an unreliable received set is not counted: the replica ranks by what it applied', () => {
    const s = r(1, mysqlGtid(0, 2), mysqlGtid(0, 5), false).status;
    assert.equal(formatGtid(positionOf('mysql', s)), mysqlGtid(0, 2));
    assert.equal(formatGtid(positionOf('mysql', r(1, mysqlGtid(0, 2), mysqlGtid(0, 5)).status)), mysqlGtid(0, 5));
    assert.deepEqual(chooseFailoverCandidate('mysql', [r(1, mysqlGtid(0, 2), mysqlGtid(0, 5), false), r(2, mysqlGtid(0, 3))]), { index: 2 });
  });

  it('MariaDB: the most advanced position wins; ties go to the lowest index', () => {
    const m = (index: number, executed: string, received = '', reliable = true) => r(index, executed, received, reliable, 'mariadb');
    assert.deepEqual(chooseFailoverCandidate('mariadb', [m(1, '0-10-5'), m(2, '0-10-5', '0-10-7'), m(3, '0-10-6')]), { index: 2 });
    assert.deepEqual(chooseFailoverCandidate('mariadb', [m(3, '0-10-5', '0-10-7'), m(2, '0-10-7')]), { index: 2 });
    assert.deepEqual(chooseFailoverCandidate('mariadb', [m(1, '0-10-5', '0-10-9', false), m(2, '0-10-6')]), { index: 2 });
    assert.equal(formatGtid(positionOf('mariadb', m(1, '0-10-5', '0-10-7').status)), '0-10-7');
  });
});

// Replication from an external source (as MOCO does it): the primary is an "intermediate primary",
// read-only and replicating asynchronously from outside; its replicas replicate from it without semi-sync.
describe('decide: replication from an external source', () => {
  const SOURCE = { host: 'donor.example', port: 3306, user: 'clone-donor', password: 'pw' };
  const external = { spec: { replicationSourceSecretName: 'donor', replicationSource: SOURCE } };
  const fromSource = { sourceHost: SOURCE.host, sourcePort: SOURCE.port };
  /** The source's own transactions (another uuid than any instance's). */
  const S3 = `${FOREIGN_UUID}:1-3`;
  /** An intermediate primary 0 of a 3-instance cluster, and its async replicas. */
  function intermediate3(change: (v: InstanceView[]) => void = () => undefined): InstanceView[] {
    const v = [
      view(0, status({ executed: S3, readOnly: true, replica: fromSource, connectedReplicas: [11, 12] }), { role: 'primary' }),
      view(1, status({ index: 1, executed: S3, readOnly: true, replica: { from: 0 } }), { role: 'replica' }),
      view(2, status({ index: 2, executed: S3, readOnly: true, replica: { from: 0 } }), { role: 'replica' }),
    ];
    change(v);
    return v;
  }

  it('Cloning with the source known and the primary empty: clone the primary from the source', () => {
    const d = decide(observation([0, 1, 2].map((i) => view(i, status({ index: i }), { ready: false })), external));
    assert.equal(d.state, 'Cloning');
    assert.deepEqual(d.operation, { kind: 'cloneExternal', index: 0 });
  });

  it('Cloning: nothing while the Secret is missing, the primary does not answer or a clone runs; again after a failure', () => {
    const empty = [0, 1, 2].map((i) => view(i, status({ index: i }), { ready: false }));
    const noSecret = decide(observation(empty, { spec: { replicationSourceSecretName: 'donor' } }));
    assert.deepEqual([noSecret.state, noSecret.operation.kind], ['Cloning', 'none']);
    assert.match(noSecret.message, /waiting for Secret "donor"/);
    const down = decide(observation([view(0, null, { ready: false })], external));
    assert.deepEqual([down.state, down.operation.kind], ['Cloning', 'none']);
    const copying = status({ cloneState: 'in_progress' });
    Object.assign(copying.clone as object, { phase: 'copying', bytesTransferred: '52000000' });
    const running = decide(observation([view(0, copying, { ready: false })], external));
    assert.deepEqual([running.state, running.operation.kind], ['Cloning', 'none']);
    assert.match(running.message, /\(copying, 52 MB\)/, 'moco up shows the copy\'s progress');
    const failed = decide(observation([view(0, status({ cloneState: 'failed' }), { ready: false })], external));
    assert.deepEqual([failed.state, failed.operation.kind], ['Cloning', 'cloneExternal']);
  });

  it('the seed\'s health3-intermediate: a read-only primary replicating from the source, async replicas: Healthy', () => {
    const d = decide(observation(intermediate3(), external));
    assert.equal(d.state, 'Healthy', d.message);
    assert.deepEqual(d.candidates, [1, 2]);
  });

  it('an intermediate primary that stopped replicating from the source is re-pointed; never made writable', () => {
    const d = decide(observation(intermediate3((v) => { at(v, 0).status = status({ executed: S3, readOnly: true, connectedReplicas: [11, 12] }); }), external));
    assert.equal(d.state, 'Degraded');
    assert.match(d.message, /does not replicate from the external source/);
    assert.deepEqual(stepsOf(d), [{ kind: 'configureReplica', index: 0, source: 'external', semiSync: false }]);
  });

  it('a writable intermediate primary is made read-only; semi-sync replicas become async ones', () => {
    const d = decide(observation(intermediate3((v) => {
      at(v, 0).status = status({ executed: S3, readOnly: false, replica: fromSource, connectedReplicas: [11, 12] });
      at(v, 1).status = status({ index: 1, executed: S3, readOnly: true, replica: { from: 0 }, semiSync: SEMI_SYNC_REPLICA });
    }), external));
    assert.equal(d.state, 'Incomplete');
    const steps = stepsOf(d);
    assert.deepEqual(steps.filter((s) => ('index' in s && s.index === 0) || s.kind === 'configureReplica'), [
      { kind: 'setReadOnly', index: 0 },
      { kind: 'configureReplica', index: 1, source: 0, semiSync: false },
    ]);
    assert.ok(!steps.some((s) => s.kind === 'setWritable' || s.kind === 'configurePrimary'));
  });

  it('after a failover, the new intermediate primary replicates from the source and the rest from it', () => {
    const d = decide(observation([
      view(0, null, { ready: false }),
      view(1, status({ index: 1, executed: S3, readOnly: true, replica: { from: 0, ioState: 'Connecting' } }), { role: 'replica' }),
      view(2, status({ index: 2, executed: S3, readOnly: true, replica: { from: 0, ioState: 'Connecting' } }), { role: 'replica' }),
    ], { ...external, status: { currentPrimaryIndex: 1, cloned: true } }));
    const steps = stepsOf(d).filter((s) => s.kind !== 'publishRoles' && s.kind !== 'sleep' && s.kind !== 'killConnections');
    assert.deepEqual(steps, [
      { kind: 'configureReplica', index: 1, source: 'external', semiSync: false },
      { kind: 'configureReplica', index: 2, source: 1, semiSync: false },
    ]);
  });

  it('one replica is enough for a failover (nothing is acknowledged inside an intermediate cluster)', () => {
    const five = [view(0, null, { ready: false }), ...[1, 2, 3, 4].map((i) => view(i, i === 1
      ? status({ index: i, executed: S3, readOnly: true, replica: { from: 0, ioState: 'Connecting' } }) : null, { ready: false }))];
    assert.equal(decide(observation(five, { ...external, status: { cloned: true } })).state, 'Failed');
    assert.equal(decide(observation(five, { status: { cloned: true } })).state, 'Lost');
  });

  it('a replica ahead with the source\'s transactions is not errant; one with an instance\'s own transaction is', () => {
    const ahead = decide(observation(intermediate3((v) => {
      at(v, 2).status = status({ index: 2, executed: `${FOREIGN_UUID}:1-5`, readOnly: true, replica: { from: 0 } });
    }), external));
    assert.deepEqual(ahead.errant, []);
    const own = decide(observation(intermediate3((v) => {
      at(v, 2).status = status({ index: 2, executed: `${S3},${mysqlGtid(2, 1)}`, readOnly: true, replica: { from: 0 } });
    }), external));
    assert.deepEqual(own.errant, [2]);
  });

  it('the Secret cleared: the primary stops replicating, enables semi-sync, re-points replicas semi-sync, writable last', () => {
    const d = decide(observation(intermediate3(), { status: { cloned: true } }));
    assert.equal(d.state, 'Incomplete');
    const steps = stepsOf(d);
    assert.deepEqual(steps.map((s) => `${s.kind}${'index' in s ? s.index : ''}`),
      ['stopReplicaIO0', 'configurePrimary0', 'configureReplica1', 'configureReplica2', 'setWritable0']);
    assert.ok(steps.filter((s) => s.kind === 'configureReplica').every((s) => s.kind === 'configureReplica' && s.semiSync && s.source === 0));
  });
});
