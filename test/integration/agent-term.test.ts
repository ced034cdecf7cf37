/**
 * Term fencing on a real agent: coordinators carry their term in every call (`moco-term` metadata); once the agent
 * has seen a term, state-changing calls of lower terms are refused, reads are not, and the term survives an agent
 * restart. Two coordinators calling at once: the older one's changes all land before the newer one's first.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { AgentClient } from '../../src/shared/agent-client.ts';
import { MocoError } from '../../src/shared/errors.ts';
import { createTestCluster, type TestCluster, type TestInstance } from '../helpers/harness.ts';

let cluster: TestCluster;
let inst: TestInstance;
const clients: AgentClient[] = [];

function coordinator(term: number): AgentClient {
  const c = new AgentClient(inst.grpcAddress, cluster.pki.coordinator, { term: () => term });
  clients.push(c);
  return c;
}

async function fenced(p: Promise<unknown>, current: number, term: number): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof MocoError && e.code === 'FAILED_PRECONDITION', String(e));
    assert.match(e.message, new RegExp(`a newer coordinator \\(term ${current}\\) is in charge; this one \\(term ${term}\\) must stop`));
    return true;
  });
}

const termFile = (): string => path.join(inst.layout.root, 'moco-term');

describe('coordinator term fencing', () => {
  before(async () => {
    cluster = await createTestCluster('term');
    inst = await cluster.add();
  });
  after(async () => {
    for (const c of clients) c.close();
    await cluster?.close();
  });

  test('without a term (local clusters) everything works as before, and nothing is stored', async () => {
    await inst.client.setReadOnly();
    await inst.client.killConnections();
    await assert.rejects(fs.readFile(termFile()), { code: 'ENOENT' });
  });

  test('term 5 acts; then a change with term 4 is refused, a read with term 4 is not', async () => {
    const c5 = coordinator(5);
    const c4 = coordinator(4);
    assert.equal((await c5.setReadOnly()).changed, false);
    assert.equal(await fs.readFile(termFile(), 'utf8'), '5\n');
    await fenced(c4.setReadOnly(), 5, 4);
    await fenced(c4.configurePrimary(0), 5, 4);
    await fenced(c4.flushBinlogs(), 5, 4);
    // A caller without a term counts as 0: also refused now.
    await fenced(inst.client.killConnections(), 5, 0);
    // Reads still work for the deposed coordinator (it may observe while it steps down).
    assert.equal((await c4.getStatus()).serverId, 100);
    await new Promise<void>((resolve, reject) => {
      const stop = c4.watchStatus(() => {
        stop();
        resolve();
      }, (err) => reject(err ?? new Error('WatchStatus ended')));
    });
    assert.ok((await c4.waitForGtid('', 1000)).waitedMs >= 0);
    // The current term keeps working.
    await c5.killConnections();
  });

  test('the stored term survives an agent restart (mysqld untouched)', async () => {
    const pid = inst.supervisor.pid;
    await inst.restartAgent();
    assert.equal(inst.supervisor.pid, pid);
    await fenced(coordinator(4).setWritable(), 5, 4);
    await coordinator(5).setReadOnly();
    // A higher term raises it again, also through a read.
    assert.equal((await coordinator(6).getStatus()).serverId, 100);
    assert.equal(await fs.readFile(termFile(), 'utf8'), '6\n');
    await fenced(coordinator(5).setReadOnly(), 6, 5);
  });

  test('two coordinators at once: every change of the older one lands before the newer one\'s first', async () => {
    const old = coordinator(7);
    const next = coordinator(8);
    const events: { who: 'old' | 'new'; ok: boolean; at: bigint; code?: string }[] = [];
    const run = async (who: 'old' | 'new', c: AgentClient, n: number): Promise<void> => {
      for (let i = 0; i < n; i++) {
        try {
          await c.killConnections();
          events.push({ who, ok: true, at: process.hrtime.bigint() });
        } catch (e) {
          events.push({ who, ok: false, at: process.hrtime.bigint(), code: (e as MocoError).code });
        }
      }
    };
    // The old coordinator is busy; the new one starts while it is.
    const oldRun = run('old', old, 40);
    while (events.length < 3) await new Promise((r) => setTimeout(r, 5));
    await Promise.all([oldRun, run('new', next, 10)]);
    const oldOk = events.filter((e) => e.who === 'old' && e.ok);
    const oldRefused = events.filter((e) => e.who === 'old' && !e.ok);
    const newOk = events.filter((e) => e.who === 'new' && e.ok);
    assert.equal(newOk.length, 10, 'the newer coordinator is never refused');
    assert.ok(oldOk.length > 0, 'the old one acted before the hand-over');
    assert.ok(oldRefused.length > 0, 'and was refused after it');
    assert.ok(oldRefused.every((e) => e.code === 'FAILED_PRECONDITION'));
    const firstNew = newOk[0]!.at;
    assert.ok(oldOk.every((e) => e.at < firstNew), 'no change of the old term completes after the new term acted');
    assert.ok(oldRefused.every((e) => e.at > oldOk[oldOk.length - 1]!.at), 'once refused, the old coordinator stays refused');
    assert.equal(await fs.readFile(termFile(), 'utf8'), '8\n');
  });

  test('a malformed term is refused before anything changes', async () => {
    const bad = new AgentClient(inst.grpcAddress, cluster.pki.coordinator);
    clients.push(bad);
    const grpc = await import('@grpc/grpc-js');
    const md = new grpc.Metadata();
    md.set('moco-term', 'nine');
    const code = await new Promise<number>((resolve) => {
      (bad.raw as unknown as { SetWritable: (r: object, m: unknown, cb: (e: { code: number } | null) => void) => void })
        .SetWritable({}, md, (e) => resolve(e?.code ?? 0));
    });
    assert.equal(code, grpc.status.INVALID_ARGUMENT);
    assert.equal((await inst.client.getStatus()).readOnly, true);
  });
});
