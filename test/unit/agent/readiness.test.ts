import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { readinessVerdict, type ReadinessPolicy, type ReadinessSnapshot } from '../../../src/agent/readiness.ts';

type Replica = NonNullable<ReadinessSnapshot['replica']>;

/** A healthy replica: read-only, both threads running, 1 s behind, up for an hour. */
function snapshot(overrides: Partial<Omit<ReadinessSnapshot, 'replica'>> & { replica?: Partial<Replica> | null } = {}): ReadinessSnapshot {
  const { replica, ...rest } = overrides;
  return {
    readOnly: true,
    cloneState: '',
    replica: replica === null ? null : { ioState: 'Yes', sqlRunning: true, lastIoErrno: 0, lastSqlErrno: 0, ...replica },
    delaySeconds: 1,
    receivedAnything: true,
    uptimeSeconds: 3600,
    ...rest,
  };
}

const policy = (o: Partial<ReadinessPolicy> = {}): ReadinessPolicy => ({ maxDelayMs: 60_000, queueingWaitMs: 60_000, ...o });

describe('readinessVerdict', () => {
  const cases: { name: string; s: ReadinessSnapshot; p?: ReadinessPolicy; want: 200 | 500 | 503 }[] = [
    { name: 'writable primary is ready', s: snapshot({ readOnly: false, replica: null, delaySeconds: null }), want: 200 },
    { name: 'writable primary is ready even with a stale replica row', s: snapshot({ readOnly: false, replica: { ioState: 'No' } }), want: 200 },
    { name: 'clone in progress is not ready', s: snapshot({ cloneState: 'in_progress' }), want: 503 },
    { name: 'clone in progress on a writable instance is not ready', s: snapshot({ cloneState: 'in_progress', readOnly: false }), want: 503 },
    { name: 'failed clone is not ready', s: snapshot({ cloneState: 'failed' }), want: 503 },
    { name: 'completed clone does not matter', s: snapshot({ cloneState: 'completed' }), want: 200 },
    { name: 'read-only and not replicating is a 500', s: snapshot({ replica: null }), want: 500 },
    { name: 'IO thread stopped', s: snapshot({ replica: { ioState: 'No' } }), want: 503 },
    { name: 'IO thread connecting', s: snapshot({ replica: { ioState: 'Connecting' } }), want: 503 },
    { name: 'IO state empty', s: snapshot({ replica: { ioState: '' } }), want: 503 },
    { name: 'SQL thread stopped', s: snapshot({ replica: { sqlRunning: false } }), want: 503 },
    { name: 'IO error', s: snapshot({ replica: { lastIoErrno: 2003 } }), want: 503 },
    { name: 'SQL error', s: snapshot({ replica: { lastSqlErrno: 1062 } }), want: 503 },
    { name: 'delay check disabled: a huge delay is ready', s: snapshot({ delaySeconds: 10_000 }), p: policy({ maxDelayMs: 0 }), want: 200 },
    { name: 'delay check disabled: an unknown delay is ready', s: snapshot({ delaySeconds: null }), p: policy({ maxDelayMs: 0 }), want: 200 },
    {
      name: 'delay check disabled: warm-up does not apply',
      s: snapshot({ receivedAnything: false, delaySeconds: null, uptimeSeconds: 1 }), p: policy({ maxDelayMs: 0 }), want: 200,
    },
    { name: 'errors win over a disabled delay check', s: snapshot({ replica: { lastSqlErrno: 1 } }), p: policy({ maxDelayMs: 0 }), want: 503 },
    {
      name: 'warm-up: nothing received and uptime under the queueing wait',
      s: snapshot({ receivedAnything: false, delaySeconds: null, uptimeSeconds: 59 }), want: 503,
    },
    {
      name: 'warm-up over: nothing received and uptime at the queueing wait',
      s: snapshot({ receivedAnything: false, delaySeconds: null, uptimeSeconds: 60 }), want: 200,
    },
    {
      name: 'warm-up over: nothing received, uptime past the queueing wait',
      s: snapshot({ receivedAnything: false, delaySeconds: null, uptimeSeconds: 600 }), want: 200,
    },
    { name: 'something received: no warm-up wait', s: snapshot({ uptimeSeconds: 1, delaySeconds: 0 }), want: 200 },
    { name: 'delay unknown', s: snapshot({ delaySeconds: null }), want: 503 },
    { name: 'delay at the limit', s: snapshot({ delaySeconds: 60 }), want: 503 },
    { name: 'delay over the limit', s: snapshot({ delaySeconds: 61 }), want: 503 },
    { name: 'delay just under the limit', s: snapshot({ delaySeconds: 59.9 }), want: 200 },
    { name: 'no delay', s: snapshot({ delaySeconds: 0 }), want: 200 },
    { name: 'sub-second limit', s: snapshot({ delaySeconds: 0.5 }), p: policy({ maxDelayMs: 500 }), want: 503 },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const v = readinessVerdict(c.s, c.p ?? policy());
      assert.equal(v.httpStatus, c.want, v.reason);
      assert.equal(v.ready, c.want === 200);
      assert.notEqual(v.reason, '');
    });
  }

  it('the reasons tell the operator what is wrong', () => {
    assert.match(readinessVerdict(snapshot({ cloneState: 'in_progress' }), policy()).reason, /clon/);
    assert.match(readinessVerdict(snapshot({ replica: { lastSqlErrno: 1062 } }), policy()).reason, /1062/);
    assert.match(readinessVerdict(snapshot({ delaySeconds: 90 }), policy()).reason, /90/);
  });
});
