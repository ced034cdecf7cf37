/**
 * The platform port's contract (src/coordinator/platform.ts): what every implementation of ClusterPlatform must do,
 * as one reusable suite. `describePlatformContract(name, make)` registers it for an implementation; `make` gives
 * a fresh platform for a 3-instance cluster plus the controls a test needs to play the user and the API server
 * (apply a spec, ask for a switchover, make an instance ready or not) and to see what the platform recorded.
 * Run against the local platform and the in-memory fake of the manager tests (test/unit/platform/platform-contract.test.ts);
 * the Kubernetes platform runs it against a real API server.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { ClusterSpec } from '../../src/api/spec.ts';
import type { Role } from '../../src/api/types.ts';
import {
  isStatusConflict, updateStatus, type ClusterAnnotations, type ClusterPlatform, type InstanceAgent, type StatusStore,
} from '../../src/coordinator/platform.ts';
import { hasCode } from '../../src/shared/errors.ts';
import { World } from '../unit/coordinator/fake-agents.ts';

export interface RecordedEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

/** A platform for a fresh 3-instance cluster named `name` in `namespace`, and the test's handles on it. */
export interface PlatformUnderTest {
  platform: ClusterPlatform;
  /** The spec the platform starts with (3 instances). */
  spec: ClusterSpec;
  /** The cluster's passwords, as the platform must return them. */
  passwords: Record<string, string>;
  /** Another writer of the same status (another process locally, another API client on Kubernetes). */
  otherStore(): StatusStore;
  /** The user applies a changed spec (maxDelaySeconds 17); returns the spec the platform must return now. */
  changeSpec(): Promise<ClusterSpec>;
  /** The user stops or starts clustering / reconciliation. */
  setAnnotations(a: ClusterAnnotations): Promise<void>;
  /** The user asks for a switchover (moco switchover / kubectl moco switchover). */
  requestSwitchover(): Promise<void>;
  /** Instance `index` becomes ready, not ready, or does not answer at all. */
  setReadiness(index: number, r: 'ready' | 'not-ready' | 'unreachable'): Promise<void>;
  /** The events recorded so far, oldest first. */
  events(): Promise<RecordedEvent[]>;
  /** The last heartbeat as stored (undefined before the first). */
  lastHeartbeat(): Promise<{ observedAt: string } | undefined>;
  /** The agent fake given to the platform for instance `index` (what platform.agent(index) must reach). */
  agentFor(index: number): InstanceAgent;
  close(): Promise<void>;
}

/** Fake agents for a platform under test: `make` is given to the platform, `agentFor` tells the test what it made. */
export function fakeAgents(): { make(index: number): InstanceAgent; agentFor(index: number): InstanceAgent } {
  const world = new World();
  const made = new Map<number, InstanceAgent>();
  return {
    make: (i) => {
      const a = world.agent(i);
      made.set(i, a);
      return a;
    },
    agentFor: (i) => {
      const a = made.get(i);
      if (!a) throw new Error(`the platform never made the agent of instance ${i}`);
      return a;
    },
  };
}

async function eventually<T>(f: () => Promise<T | undefined>, what: string, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export function describePlatformContract(name: string, make: () => Promise<PlatformUnderTest>): void {
  describe(`platform contract: ${name}`, () => {
    let t: PlatformUnderTest;
    let p: ClusterPlatform;
    beforeEach(async () => {
      t = await make();
      p = t.platform;
    });
    afterEach(async () => {
      await t.close();
    });

    it('names the cluster', () => {
      assert.equal(p.name, t.spec.name);
      assert.equal(p.namespace, t.spec.namespace);
    });

    it('readSpec returns the spec as last applied', async () => {
      assert.deepEqual(await p.readSpec(), t.spec);
      assert.equal(t.spec.replicas, 3);
      const next = await t.changeSpec();
      assert.equal(next.maxDelaySeconds, 17);
      assert.deepEqual(await p.readSpec(), next);
    });

    it('readAnnotations: nothing stopped until the user stops it', async () => {
      const a = await p.readAnnotations();
      assert.ok(!a.clusteringStopped && !a.reconciliationStopped);
      await t.setAnnotations({ clusteringStopped: true });
      assert.equal((await p.readAnnotations()).clusteringStopped, true);
      await t.setAnnotations({ reconciliationStopped: true });
      const b = await p.readAnnotations();
      assert.ok(!b.clusteringStopped);
      assert.equal(b.reconciliationStopped, true);
    });

    describe('status', () => {
      it('a new cluster has the initial status and a version', async () => {
        const { status, version } = await p.readStatus();
        assert.equal(typeof version, 'string');
        assert.equal(status.currentPrimaryIndex, 0);
        assert.deepEqual(status.conditions, []);
        assert.deepEqual(status.errantReplicaList, []);
        assert.equal(status.cloned, false);
        assert.deepEqual(status.backup, {});
        assert.equal(status.restoredTime, null);
      });

      it('a patch against the current version replaces only the fields it names and moves the version', async () => {
        const before = await p.readStatus();
        const v1 = await p.patchStatus('coordinator', { currentPrimaryIndex: 2, errantReplicaList: [1], errantReplicas: 1 }, before.version);
        assert.notEqual(v1, before.version);
        const after = await p.readStatus();
        assert.equal(after.version, v1);
        assert.equal(after.status.currentPrimaryIndex, 2);
        assert.deepEqual(after.status.errantReplicaList, [1]);
        assert.deepEqual(after.status.backup, {}, 'other fields untouched');
        const v2 = await p.patchStatus('backup', { backup: { time: '2026-01-01T00:00:00Z', dumpSize: 5 } }, v1);
        const last = await p.readStatus();
        assert.equal(last.version, v2);
        assert.equal(last.status.currentPrimaryIndex, 2);
        assert.deepEqual(last.status.backup, { time: '2026-01-01T00:00:00Z', dumpSize: 5 });
      });

      it('a field given as undefined is removed; an object field is replaced whole', async () => {
        let { version } = await p.readStatus();
        version = await p.patchStatus('coordinator', { lastCloneFailure: { time: 't', message: 'm' }, semiSyncAcks: 1 }, version);
        version = await p.patchStatus('coordinator', { lastCloneFailure: undefined }, version);
        version = await p.patchStatus('backup', { restore: { phase: 'download', bytes: 1 } }, version);
        await p.patchStatus('backup', { restore: { phase: 'done' } }, version);
        const { status } = await p.readStatus();
        assert.ok(!('lastCloneFailure' in status) || status.lastCloneFailure === undefined);
        assert.equal(status.semiSyncAcks, 1);
        assert.deepEqual(status.restore, { phase: 'done' });
      });

      it('a patch against an old version is refused with a conflict, and nothing changes', async () => {
        const { version } = await p.readStatus();
        await p.patchStatus('backup', { restoredTime: '2026-01-01T00:00:00Z' }, version);
        const mid = await p.readStatus();
        await assert.rejects(p.patchStatus('coordinator', { currentPrimaryIndex: 1 }, version), (err: unknown) => isStatusConflict(err));
        assert.deepEqual(await p.readStatus(), mid);
      });

      it('a writer may not patch fields it does not own (refused before anything is written)', async () => {
        const before = await p.readStatus();
        await assert.rejects(p.patchStatus('coordinator', { backup: {} } as never, before.version), (err: unknown) => hasCode(err, 'INVALID_ARGUMENT'));
        await assert.rejects(p.patchStatus('backup', { currentPrimaryIndex: 1 } as never, before.version), (err: unknown) => hasCode(err, 'INVALID_ARGUMENT'));
        assert.deepEqual(await p.readStatus(), before);
      });

      it('willPatch (optional) is only a hint: patches work after it, and an unused one blocks no writer for long', async () => {
        if (!p.willPatch) return;
        p.willPatch();
        p.willPatch();
        const { version } = await p.readStatus();
        const v = await p.patchStatus('coordinator', { syncedReplicas: 2 }, version);
        p.willPatch();
        const started = Date.now();
        await updateStatus(t.otherStore(), 'backup', () => ({ restoredTime: '2026-01-01T00:00:00Z' }));
        assert.ok(Date.now() - started < 5000, `another writer waited ${Date.now() - started} ms`);
        const { status, version: last } = await p.readStatus();
        assert.notEqual(last, v);
        assert.equal(status.syncedReplicas, 2);
        assert.equal(status.restoredTime, '2026-01-01T00:00:00Z');
        await p.patchStatus('coordinator', { syncedReplicas: 3 }, last);
      });

      it('two writers updating their own fields at the same time lose no update', async () => {
        const other = t.otherStore();
        const n = 15;
        await Promise.all([
          (async () => {
            for (let k = 1; k <= n; k++) {
              await updateStatus(p, 'coordinator', (s) => ({ errantReplicaList: [...s.errantReplicaList, k] }));
            }
          })(),
          (async () => {
            for (let k = 1; k <= n; k++) {
              await updateStatus(other, 'backup', (s) => ({ backup: { ...s.backup, warnings: [...(s.backup.warnings ?? []), String(k)] } }));
            }
          })(),
        ]);
        const { status } = await other.readStatus();
        assert.deepEqual(status.errantReplicaList, Array.from({ length: n }, (_, k) => k + 1));
        assert.deepEqual(status.backup.warnings, Array.from({ length: n }, (_, k) => String(k + 1)));
      });
    });

    it('heartbeat: the last observation time is stored', async () => {
      const t1 = new Date(Date.UTC(2026, 0, 1, 0, 0, 1));
      const t2 = new Date(Date.UTC(2026, 0, 1, 0, 0, 2));
      await p.heartbeat(t1);
      await p.heartbeat(t2);
      assert.equal((await t.lastHeartbeat())?.observedAt, t2.toISOString());
    });

    it('roles: published roles are read back; unpublished ones are empty', async () => {
      assert.deepEqual(await p.readRoles(3), ['', '', '']);
      const roles: Role[] = ['replica', 'primary', ''];
      await p.publishRoles(roles);
      assert.deepEqual(await p.readRoles(3), roles);
      await p.publishRoles(['primary', 'replica', 'replica']);
      assert.deepEqual(await p.readRoles(3), ['primary', 'replica', 'replica']);
    });

    it('switchover request: seen once asked, gone once cleared (clearing twice is fine)', async () => {
      assert.equal(await p.switchoverRequested(), false);
      await t.requestSwitchover();
      assert.equal(await p.switchoverRequested(), true);
      await p.clearSwitchoverRequest();
      await p.clearSwitchoverRequest();
      assert.equal(await p.switchoverRequested(), false);
    });

    it('readiness: true for a ready instance, false when not ready or unreachable, never an error', async () => {
      await t.setReadiness(0, 'ready');
      await t.setReadiness(1, 'not-ready');
      await t.setReadiness(2, 'unreachable');
      assert.deepEqual(await Promise.all([0, 1, 2].map((i) => p.readiness(i))), [true, false, false]);
      assert.equal(await p.readiness(7), false, 'an instance that does not exist is not ready');
    });

    it('address and agent: one distinct address per instance, and that instance\'s agent', () => {
      const addrs = [0, 1, 2].map((i) => p.address(i));
      assert.equal(new Set(addrs.map((a) => `${a.host}:${a.port}`)).size, 3);
      assert.equal(new Set(addrs.map((a) => a.agent)).size, 3);
      for (const i of [0, 1, 2]) assert.equal(p.agent(i), t.agentFor(i));
      assert.equal(p.agent(1), p.agent(1), 'the same agent every time');
    });

    it('passwords: the cluster\'s', async () => {
      assert.deepEqual(await p.passwords(), t.passwords);
    });

    it('events: recorded in order with type, reason and message; event() never throws', async () => {
      p.event('Normal', 'SwitchOver', 'The primary was changed to instance 1 due to a switchover');
      p.event('Warning', 'FailOverFailed', 'The primary could not be changed: x');
      p.event('Normal', 'Writable', 'The primary became writable');
      const events = await eventually(async () => {
        const e = await t.events();
        return e.length >= 3 ? e : undefined;
      }, 'three events');
      assert.deepEqual(events.map((e) => [e.type, e.reason]), [['Normal', 'SwitchOver'], ['Warning', 'FailOverFailed'], ['Normal', 'Writable']]);
      assert.equal(events[0]?.message, 'The primary was changed to instance 1 due to a switchover');
    });
  });
}
