import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';

import { StatusHub, type Subscriber } from '../../../src/agent/watch.ts';
import type { InstanceStatus } from '../../../src/generated/moco/agent/v1/InstanceStatus.ts';
import { MocoError, hasCode } from '../../../src/shared/errors.ts';

const INTERVAL = 5;
const HEARTBEAT = 50;
const UNREACHABLE = 40;

/** Lets the hub's awaited read and its follow-up run (setImmediate is not mocked). */
const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Moves the mocked clock forward one millisecond at a time, letting each poll finish and re-arm. */
async function advance(ms: number): Promise<void> {
  mock.timers.tick(0);
  await flush();
  for (let i = 0; i < ms; i++) {
    mock.timers.tick(1);
    await flush();
  }
}

/** A fake mysqld status source: uptime and observedAt change on every read, like the real one. */
class FakeSource {
  reads = 0;
  timeouts: number[] = [];
  status: InstanceStatus = { flavor: 'mysql', serverId: 1, readOnly: true };
  error: Error | undefined;
  read = async (timeoutMs: number): Promise<InstanceStatus> => {
    this.reads++;
    this.timeouts.push(timeoutMs);
    if (this.error) throw this.error;
    return { ...this.status, uptimeSeconds: this.reads, observedAtMs: Date.now() };
  };
}

type Event = { at: number; status: InstanceStatus; heartbeat: boolean } | { at: number; error: MocoError };

class Recorder implements Subscriber {
  events: Event[] = [];
  onStatus(status: InstanceStatus, heartbeat: boolean): void {
    this.events.push({ at: Date.now(), status, heartbeat });
  }
  onError(error: MocoError): void {
    this.events.push({ at: Date.now(), error });
  }
  get heartbeats(): boolean[] {
    return this.events.flatMap((e) => ('heartbeat' in e ? [e.heartbeat] : []));
  }
}

let source: FakeSource;
let hub: StatusHub;

beforeEach(() => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
  source = new FakeSource();
  hub = new StatusHub({ read: source.read, intervalMs: INTERVAL, heartbeatMs: HEARTBEAT, unreachableMs: UNREACHABLE });
});
afterEach(() => {
  hub.close(new MocoError('MYSQLD_UNAVAILABLE', 'test over'));
  mock.timers.reset();
});

describe('StatusHub', () => {
  it('a first subscriber gets a status at once, read with the unreachable timeout', async () => {
    const a = new Recorder();
    hub.subscribe(a);
    await advance(0);
    assert.equal(a.events.length, 1);
    assert.deepEqual(a.heartbeats, [false]);
    assert.equal(a.events[0]?.at, 0);
    assert.deepEqual(source.timeouts, [UNREACHABLE]);
  });

  it('identical reads (only uptime and observedAt change) send heartbeats only every heartbeat interval', async () => {
    const a = new Recorder();
    hub.subscribe(a);
    await advance(HEARTBEAT - 1);
    assert.equal(a.events.length, 1, 'nothing new before the heartbeat is due');
    assert.ok(source.reads >= 9, `polled every ${INTERVAL} ms (${source.reads} reads)`);
    await advance(1);
    assert.deepEqual(a.heartbeats, [false, true]);
    assert.equal(a.events[1]?.at, HEARTBEAT);
    await advance(HEARTBEAT);
    assert.deepEqual(a.heartbeats, [false, true, true]);
  });

  it('a changed read is sent at the next poll as a change, not a heartbeat', async () => {
    const a = new Recorder();
    hub.subscribe(a);
    await advance(12);
    source.status = { ...source.status, readOnly: false };
    await advance(INTERVAL);
    assert.deepEqual(a.heartbeats, [false, false]);
    const last = a.events.at(-1);
    assert.ok(last && 'status' in last && last.status.readOnly === false);
    assert.ok(last.at <= 12 + INTERVAL);
  });

  it('a replica\'s time since it last received changes every read without counting as a change; going silent does', async () => {
    const a = new Recorder();
    const replica = { sourceHost: 'p', ioConnected: true, heartbeatPeriodMs: 10, sourceSilent: false };
    source.status = { ...source.status, replica: { ...replica, receivedAgoMs: 0 } };
    hub.subscribe(a);
    await advance(12);
    source.status = { ...source.status, replica: { ...replica, receivedAgoMs: 12 } };
    await advance(INTERVAL * 2);
    assert.deepEqual(a.heartbeats, [false], 'a longer silence alone is no change');
    source.status = { ...source.status, replica: { ...replica, receivedAgoMs: 25, sourceSilent: true } };
    await advance(INTERVAL);
    assert.deepEqual(a.heartbeats, [false, false], 'silent is sent at the next poll');
    const last = a.events.at(-1);
    assert.ok(last && 'status' in last && last.status.replica?.sourceSilent === true);
  });

  it('a late subscriber gets the current status at the next poll; the others get nothing extra', async () => {
    const a = new Recorder();
    const b = new Recorder();
    hub.subscribe(a);
    await advance(12);
    hub.subscribe(b);
    await advance(INTERVAL);
    assert.deepEqual(b.heartbeats, [false]);
    assert.ok((b.events[0]?.at ?? Infinity) <= 12 + INTERVAL);
    assert.equal(a.events.length, 1);
  });

  it('a failing read ends every subscriber with MYSQLD_UNAVAILABLE and stops polling', async () => {
    const a = new Recorder();
    const b = new Recorder();
    hub.subscribe(a);
    hub.subscribe(b);
    await advance(INTERVAL);
    source.error = Object.assign(new Error('connect ECONNREFUSED /run/mysqld.sock'), { code: 'ECONNREFUSED' });
    await advance(INTERVAL);
    for (const r of [a, b]) {
      const last = r.events.at(-1);
      assert.ok(last && 'error' in last, 'ended with an error');
      assert.ok(hasCode(last.error, 'MYSQLD_UNAVAILABLE'));
      assert.equal(last.error.cause, source.error);
    }
    assert.equal(hub.subscribers, 0);
    const reads = source.reads;
    await advance(HEARTBEAT * 2);
    assert.equal(source.reads, reads, 'no more reads');
    assert.equal(a.events.length, 2);
  });

  it('a MYSQLD_UNAVAILABLE from the read is passed on as it is', async () => {
    const a = new Recorder();
    source.error = new MocoError('MYSQLD_UNAVAILABLE', 'mysqld does not answer');
    hub.subscribe(a);
    await advance(0);
    assert.deepEqual(a.events.map((e) => ('error' in e ? e.error : undefined)), [source.error]);
  });

  it('unsubscribing the last subscriber stops polling', async () => {
    const a = new Recorder();
    const unsubscribe = hub.subscribe(a);
    await advance(12);
    unsubscribe();
    const reads = source.reads;
    await advance(HEARTBEAT * 2);
    assert.equal(source.reads, reads, 'the read is not called any more');
    assert.equal(a.events.length, 1);
    assert.equal(hub.subscribers, 0);
  });

  it('unsubscribing one of two keeps polling for the other', async () => {
    const a = new Recorder();
    const b = new Recorder();
    const unsubscribeA = hub.subscribe(a);
    hub.subscribe(b);
    await advance(1);
    unsubscribeA();
    await advance(HEARTBEAT);
    assert.equal(a.events.length, 1);
    assert.deepEqual(b.heartbeats, [false, true]);
  });

  it('subscribing again after polling stopped starts it again with a fresh status', async () => {
    const unsubscribe = hub.subscribe(new Recorder());
    await advance(12);
    unsubscribe();
    await advance(20);
    const b = new Recorder();
    hub.subscribe(b);
    await advance(0);
    assert.deepEqual(b.heartbeats, [false]);
    const reads = source.reads;
    await advance(INTERVAL * 2);
    assert.ok(source.reads > reads, 'polling again');
  });

  it('close ends every stream with the given error and stops polling', async () => {
    const a = new Recorder();
    hub.subscribe(a);
    await advance(INTERVAL);
    const shutdown = new MocoError('MYSQLD_UNAVAILABLE', 'the agent is shutting down');
    hub.close(shutdown);
    const reads = source.reads;
    await advance(HEARTBEAT * 2);
    assert.equal(source.reads, reads);
    const last = a.events.at(-1);
    assert.ok(last && 'error' in last);
    assert.equal(last.error, shutdown);
  });
});
