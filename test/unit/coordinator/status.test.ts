/** statusAfter / statusStopped: the clustering fields of the status, pure. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { initialStatus, type ClusterStatus } from '../../../src/api/types.ts';
import type { Decision } from '../../../src/coordinator/decide.ts';
import { ownedChanges } from '../../../src/coordinator/platform.ts';
import { statusAfter, statusStopped } from '../../../src/coordinator/status.ts';

function decision(state: Decision['state'], o: Partial<Decision> = {}): Decision {
  return { state, primary: 0, errant: [], candidates: [], hung: [], holdSwitchover: false, syncedReplicas: 3, message: 'why', operation: { kind: 'none' }, ...o };
}
const T0 = new Date(Date.UTC(2026, 0, 1));
const T1 = new Date(Date.UTC(2026, 0, 2));
const cond = (s: ClusterStatus, type: string) => s.conditions.find((c) => c.type === type);

describe('statusAfter', () => {
  it('cloned becomes true when the cluster leaves Cloning (not Restoring), and stays true', () => {
    let s = statusAfter(initialStatus(), decision('Cloning'), T0, false);
    assert.equal(s.cloned, false);
    s = statusAfter(s, decision('Incomplete'), T1, false);
    assert.equal(s.cloned, true);
    s = statusAfter(s, decision('Healthy'), T1, false);
    assert.equal(s.cloned, true);
    assert.equal(statusAfter(initialStatus(), decision('Healthy'), T0, false).cloned, false, 'never cloning: never cloned');
  });

  it('the same decision again changes no owned field: nothing to write, no lastTransitionTime churn', () => {
    const a = statusAfter(initialStatus(), decision('Healthy'), T0, false);
    const b = statusAfter(a, decision('Healthy'), T1, false);
    assert.equal(ownedChanges('coordinator', a, b), undefined);
    assert.equal(cond(b, 'Healthy')?.lastTransitionTime, T0.toISOString());
    assert.ok(!('observedAt' in b), 'no per-observation timestamp');
  });

  it('a condition that changes status gets a new lastTransitionTime; one that only changes reason keeps it', () => {
    const a = statusAfter(initialStatus(), decision('Healthy'), T0, false);
    const b = statusAfter(a, decision('Degraded'), T1, false);
    assert.equal(cond(b, 'Healthy')?.lastTransitionTime, T1.toISOString());
    assert.equal(cond(b, 'Available')?.lastTransitionTime, T0.toISOString());
    assert.equal(cond(b, 'Available')?.reason, 'Degraded');
    assert.deepEqual(Object.keys(ownedChanges('coordinator', a, b) ?? {}).sort(), ['conditions', 'state']);
  });

  it('keeps the backup side\'s fields as they were', () => {
    const prev = { ...initialStatus(), backup: { time: 'x' }, restoredTime: 'y' };
    const s = statusAfter(prev, decision('Healthy'), T0, false);
    assert.deepEqual(s.backup, { time: 'x' });
    assert.equal(s.restoredTime, 'y');
  });
});

describe('statusStopped', () => {
  it('Available and Healthy Unknown, ClusteringActive False; Initialized kept', () => {
    const a = statusAfter(initialStatus(), decision('Healthy'), T0, false);
    const s = statusStopped(a, T1, true);
    assert.deepEqual(s.conditions.map((c) => [c.type, c.status]), [
      ['Initialized', 'True'], ['Available', 'Unknown'], ['Healthy', 'Unknown'], ['ClusteringActive', 'False'], ['ReconciliationActive', 'False'],
    ]);
    assert.equal(cond(s, 'Initialized')?.lastTransitionTime, T0.toISOString());
    assert.equal(s.state, 'Healthy', 'the last state is kept for moco status');
  });
});
