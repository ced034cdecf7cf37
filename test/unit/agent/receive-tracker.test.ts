import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ReceiveTracker, sourceSilent } from '../../../src/agent/agent.ts';

describe('ReceiveTracker', () => {
  it('counts from the last change of the marker; the first read counts as just received', () => {
    const t = new ReceiveTracker();
    assert.equal(t.observe('5/bin.1/100', 1000), 0);
    assert.equal(t.observe('5/bin.1/100', 1400), 400);
    assert.equal(t.observe('6/bin.1/100', 1500), 0, 'a heartbeat arrived');
    assert.equal(t.observe('6/bin.1/180', 1700), 0, 'an event arrived');
    assert.equal(t.observe('6/bin.1/180', 3900), 2200);
  });

  it('no marker (the server does not say, or no replication): unknown, and the next marker starts afresh', () => {
    const t = new ReceiveTracker();
    assert.equal(t.observe('1/b/1', 0), 0);
    assert.equal(t.observe(undefined, 5000), undefined);
    assert.equal(t.observe('1/b/1', 9000), 0);
  });
});

describe('sourceSilent', () => {
  it('connected and nothing for more than two heartbeat periods', () => {
    assert.equal(sourceSilent(true, 2001, 1000), true);
    assert.equal(sourceSilent(true, 2000, 1000), false, 'two periods exactly: a heartbeat may be on its way');
    assert.equal(sourceSilent(true, 500, 1000), false);
  });

  it('never silent when it cannot be judged: not connected, unknown, heartbeats off', () => {
    assert.equal(sourceSilent(false, 60_000, 1000), false);
    assert.equal(sourceSilent(true, undefined, 1000), false);
    assert.equal(sourceSilent(true, 60_000, 0), false);
  });
});
