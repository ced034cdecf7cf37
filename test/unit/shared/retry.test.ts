/** The one retry/backoff helper, on a fake clock: growth, cap, jitter, reset after a stable run, cancellation. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Backoff, retry } from '../../../src/shared/retry.ts';
import { hasCode, MocoError } from '../../../src/shared/errors.ts';
import { FakeClock, settle } from '../../helpers/fake-clock.ts';

describe('Backoff', () => {
  it('grows by the factor up to the cap; reset starts over', () => {
    const b = new Backoff({ initialMs: 250, maxMs: 5000, factor: 2 });
    assert.deepEqual([1, 2, 3, 4, 5, 6, 7].map(() => b.next()), [250, 500, 1000, 2000, 4000, 5000, 5000]);
    assert.equal(b.attempts, 7);
    b.reset();
    assert.equal(b.attempts, 0);
    assert.equal(b.next(), 250);
  });

  it('without maxMs the delay is constant', () => {
    const b = new Backoff({ initialMs: 30_000 });
    assert.deepEqual([b.next(), b.next(), b.next()], [30_000, 30_000, 30_000]);
  });

  it('an attempt that ran at least resetAfterMs starts the delays over (a process that stayed up)', () => {
    const b = new Backoff({ initialMs: 250, maxMs: 5000, resetAfterMs: 10_000 });
    assert.deepEqual([b.next(100), b.next(100), b.next(100)], [250, 500, 1000]);
    assert.equal(b.next(10_000), 250);
    assert.equal(b.next(9_999), 500);
  });

  it('jitter spreads the delay within +/- the fraction, around the nominal one', () => {
    const low = new Backoff({ initialMs: 1000, maxMs: 8000, jitter: 0.2, random: () => 0 });
    const high = new Backoff({ initialMs: 1000, maxMs: 8000, jitter: 0.2, random: () => 0.999999 });
    const mid = new Backoff({ initialMs: 1000, maxMs: 8000, jitter: 0.2, random: () => 0.5 });
    assert.deepEqual([low.next(), low.next()], [800, 1600]);
    assert.deepEqual([high.next(), high.next()], [1200, 2400]);
    assert.deepEqual([mid.next(), mid.next()], [1000, 2000]);
  });

  it('refuses a negative initial delay', () => {
    assert.throws(() => new Backoff({ initialMs: -1 }), RangeError);
  });
});

describe('retry', () => {
  it('retries retryable errors after the backoff delays, then returns', async () => {
    const clock = new FakeClock();
    const calls: number[] = [];
    const p = retry(async (attempt) => {
      calls.push(clock.now());
      if (attempt < 3) throw new MocoError('BUSY', 'busy');
      return 'ok';
    }, { backoff: { initialMs: 100, maxMs: 1000 }, clock });
    await settle();
    assert.equal(calls.length, 1);
    await clock.advance(99);
    assert.equal(calls.length, 1, 'not before the delay');
    await clock.advance(1);
    assert.equal(calls.length, 2);
    await clock.advance(200);
    assert.equal(await p, 'ok');
    assert.deepEqual(calls.map((t) => t - (calls[0] ?? 0)), [0, 100, 300]);
  });

  it('a non-retryable error is thrown at once', async () => {
    const clock = new FakeClock();
    let n = 0;
    await assert.rejects(retry(async () => {
      n++;
      throw new MocoError('INVALID_ARGUMENT', 'bad');
    }, { backoff: { initialMs: 10 }, clock }), /bad/);
    assert.equal(n, 1);
  });

  it('gives up after `attempts` with the last error', async () => {
    const clock = new FakeClock();
    let n = 0;
    const p = retry(async () => {
      n++;
      throw new MocoError('TIMEOUT', `attempt ${n}`);
    }, { backoff: { initialMs: 10 }, attempts: 3, clock });
    const caught = p.catch((e: unknown) => e);
    await clock.advance(100);
    const err = await caught;
    assert.ok(hasCode(err, 'TIMEOUT'));
    assert.equal(err.message, 'attempt 3');
  });

  it('aborting the signal while waiting cancels at once', async () => {
    const clock = new FakeClock();
    const ac = new AbortController();
    let n = 0;
    const p = retry(async () => {
      n++;
      throw new MocoError('BUSY', 'busy');
    }, { backoff: { initialMs: 60_000 }, clock, signal: ac.signal }).catch((e: unknown) => e);
    await settle();
    ac.abort();
    const err = await p;
    assert.ok(hasCode(err, 'CANCELLED'), String(err));
    assert.equal(n, 1);
    assert.equal(clock.pending, 0, 'the timer was cancelled');
  });

  it('onRetry hears of every wait; a custom predicate decides what is retried', async () => {
    const clock = new FakeClock();
    const waits: number[] = [];
    const p = retry(async (attempt) => {
      if (attempt < 3) throw new Error('plain error');
      return attempt;
    }, { backoff: { initialMs: 5, factor: 3, maxMs: 100 }, clock, retryable: () => true, onRetry: (_e, _a, ms) => waits.push(ms) });
    await clock.advance(100);
    assert.equal(await p, 3);
    assert.deepEqual(waits, [5, 15]);
  });
});
