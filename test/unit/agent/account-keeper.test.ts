import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Counter, Registry } from 'prom-client';

import { AccountKeeper } from '../../../src/agent/account-keeper.ts';
import type { AccountReassertResult } from '../../../src/agent/flavor/flavor.ts';
import { silentLogger, type Logger } from '../../../src/shared/logger.ts';

const ok = (changes: string[] = []): AccountReassertResult => ({ supported: true, changes, failures: [], definerObjects: [], mysqlWriters: [] });

/** A keeper over a fake mysqld (connection generation, a script of re-assert answers) and a fake clock, driven by tick(). */
function setup(o: { intervalMs?: number; answers?: Array<AccountReassertResult | Error> } = {}) {
  const registry = new Registry();
  const checks = new Counter({ name: 'checks', help: 'h', labelNames: ['result'], registers: [registry] });
  const repairs = new Counter({ name: 'repairs', help: 'h', registers: [registry] });
  const logs: Array<{ level: string; msg: string; fields: Record<string, unknown> }> = [];
  const base = silentLogger();
  const log = new Proxy(base, {
    get(target, prop) {
      if (['info', 'warn', 'error', 'debug'].includes(String(prop))) {
        return (fields: Record<string, unknown> | string, msg?: string) => logs.push({
          level: String(prop), msg: typeof fields === 'string' ? fields : msg ?? '', fields: typeof fields === 'string' ? {} : fields,
        });
      }
      return Reflect.get(target, prop);
    },
  }) as Logger;
  const s = {
    now: 1_000_000,
    generation: 1,
    up: true,
    runs: 0,
    answers: o.answers ?? [],
  };
  const keeper = new AccountKeeper({
    reassert: async () => {
      s.runs++;
      const a = s.answers.shift() ?? ok();
      if (a instanceof Error) throw a;
      return a;
    },
    generation: async () => {
      if (!s.up) throw new Error('mysqld does not answer');
      return s.generation;
    },
    intervalMs: o.intervalMs ?? 0,
    minBackoffMs: 2000, maxBackoffMs: 8000,
    log, metrics: { checks, repairs }, now: () => s.now,
  });
  const count = async (name: string, labels: Record<string, string> = {}): Promise<number> => {
    const m = (await registry.getMetricsAsJSON()).find((x) => x.name === name);
    const v = m?.values.find((x) => Object.entries(labels).every(([k, val]) => x.labels[k] === val));
    return Number(v?.value ?? 0);
  };
  return { s, keeper, logs, count, advance: (ms: number) => { s.now += ms; } };
}

describe('AccountKeeper', () => {
  it('re-asserts on first contact, then not again while mysqld keeps running (interval 0)', async () => {
    const t = setup();
    await t.keeper.tick();
    assert.equal(t.s.runs, 1);
    for (let i = 0; i < 10; i++) {
      t.advance(2000);
      await t.keeper.tick();
    }
    assert.equal(t.s.runs, 1);
    assert.equal(await t.count('checks', { result: 'unchanged' }), 1);
  });

  it('re-asserts again after mysqld restarted (its connection had to be opened anew)', async () => {
    const t = setup();
    await t.keeper.tick();
    t.advance(2000);
    t.s.up = false; // mysqld down: nothing happens, nothing is thrown
    await t.keeper.tick();
    assert.equal(t.s.runs, 1);
    t.advance(2000);
    t.s.up = true;
    t.s.generation++;
    await t.keeper.tick();
    assert.equal(t.s.runs, 2);
    assert.ok(t.logs.some((l) => l.fields.reason === 'mysqld restarted or the connection to it broke'));
    t.advance(2000);
    await t.keeper.tick();
    assert.equal(t.s.runs, 2, 'once per generation');
  });

  it('a restart during a failed run is retried as a restart', async () => {
    const t = setup({ answers: [ok(), new Error('lost connection')] });
    await t.keeper.tick();
    t.s.generation++;
    t.advance(2000);
    await t.keeper.tick();
    assert.equal(t.s.runs, 2);
    t.advance(2000);
    await t.keeper.tick();
    assert.equal(t.s.runs, 3);
    t.advance(2000);
    await t.keeper.tick();
    assert.equal(t.s.runs, 3);
  });

  it('re-asserts periodically when an interval is set', async () => {
    const t = setup({ intervalMs: 60_000 });
    await t.keeper.tick();
    t.advance(30_000);
    await t.keeper.tick();
    assert.equal(t.s.runs, 1);
    t.advance(30_000);
    await t.keeper.tick();
    assert.equal(t.s.runs, 2);
  });

  it('waits while mysqld does not answer, and re-asserts once it does', async () => {
    const t = setup();
    t.s.up = false;
    await t.keeper.tick();
    assert.equal(t.s.runs, 0);
    t.s.up = true;
    await t.keeper.tick();
    assert.equal(t.s.runs, 1);
  });

  it('a failure (thrown or partial) is logged, counted and retried with backoff; it never throws', async () => {
    const t = setup({
      answers: [new Error('mysqld went away'), { ...ok(['a: x']), failures: [{ change: 'b: y', error: 'denied' }] }, ok()],
    });
    await t.keeper.tick();
    assert.equal(t.s.runs, 1);
    t.advance(1000);
    await t.keeper.tick();
    assert.equal(t.s.runs, 1, 'first retry after 2 s');
    t.advance(1000);
    await t.keeper.tick();
    assert.equal(t.s.runs, 2);
    t.advance(2000);
    await t.keeper.tick();
    assert.equal(t.s.runs, 2, 'second retry after 4 s');
    t.advance(2000);
    await t.keeper.tick();
    assert.equal(t.s.runs, 3);
    t.advance(60_000);
    await t.keeper.tick();
    assert.equal(t.s.runs, 3, 'settled: no more runs');
    assert.equal(await t.count('checks', { result: 'failed' }), 2);
    assert.equal(await t.count('checks', { result: 'unchanged' }), 1);
    assert.equal(await t.count('repairs'), 1, 'the change that was made counts');
    assert.equal(t.logs.filter((l) => l.level === 'error').length, 2);
    assert.deepEqual(t.logs.find((l) => l.msg === 'account repaired')?.fields, { reason: 'agent start', change: 'a: x' });
  });

  it('logs every change, counts them, and says when something was repaired', async () => {
    const t = setup({ answers: [ok(['moco-admin: password reset', 'app@%: revoked SUPER on *.*'])] });
    await t.keeper.tick();
    assert.deepEqual(t.logs.filter((l) => l.msg === 'account repaired').map((l) => l.fields.change), ['moco-admin: password reset', 'app@%: revoked SUPER on *.*']);
    assert.ok(t.logs.some((l) => l.msg === 'accounts re-asserted' && l.fields.changes === 2));
    assert.equal(await t.count('repairs'), 2);
    assert.equal(await t.count('checks', { result: 'repaired' }), 1);
  });

  it('warns about what it reports but does not change, once until it changes', async () => {
    const report = { ...ok(), definerObjects: ['procedure app.p'], mysqlWriters: ["'app'@'%'"] };
    const t = setup({ intervalMs: 1000, answers: [report, report, { ...report, mysqlWriters: [] }] });
    for (let i = 0; i < 3; i++) {
      await t.keeper.tick();
      t.advance(1000);
    }
    const warns = t.logs.filter((l) => l.level === 'warn').map((l) => JSON.stringify(l.fields));
    assert.deepEqual(warns, ['{"objects":["procedure app.p"]}', '{"accounts":["\'app\'@\'%\'"]}', '{"objects":["procedure app.p"]}']);
  });

  it('a flavor that does not re-assert (MySQL) is asked once', async () => {
    const t = setup({ intervalMs: 1000, answers: [{ ...ok(), supported: false }] });
    await t.keeper.tick();
    t.advance(5000);
    await t.keeper.tick();
    assert.equal(t.s.runs, 1);
    assert.equal(await t.count('checks', { result: 'skipped' }), 1);
  });

  it('start() and stop(): the loop runs in the background and stops', async () => {
    const t = setup();
    t.keeper.start();
    await new Promise((r) => setImmediate(r));
    await t.keeper.stop();
    assert.equal(t.s.runs, 1);
  });
});
