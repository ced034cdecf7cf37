import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TermStore, termFileFor } from '../../../src/agent/term.ts';
import { hasCode, type ErrorCode } from '../../../src/shared/errors.ts';
import { termFromMetadata } from '../../../src/shared/term.ts';

let tmp: string;
let n = 0;
const fresh = (): string => path.join(tmp, `term-${n++}`);
/** Lets every pending promise callback (and the file writes they wait for) run. */
const settle = async (): Promise<void> => {
  for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r));
};

async function rejectsWith(p: Promise<unknown>, code: ErrorCode, message: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(hasCode(err, code), `want ${code}, got ${String(err)}`);
    assert.match(err.message, message);
    return true;
  });
}

before(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), 'moco-term-unit-'));
});
after(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('termFileFor', () => {
  it('is beside the data directory, so a swapped-in data directory keeps it', () => {
    assert.equal(termFileFor('/var/lib/mysql/data'), '/var/lib/mysql/moco-term');
    assert.equal(termFileFor('/var/lib/mysql/data/'), '/var/lib/mysql/moco-term');
  });
});

describe('TermStore', () => {
  it('starts at 0 without a file and writes nothing for term 0', async () => {
    const file = fresh();
    const s = await TermStore.open(file);
    assert.equal(s.current, 0);
    (await s.admit(0))();
    await s.observe(0);
    await assert.rejects(readFile(file), { code: 'ENOENT' });
  });

  it('is monotonic: a higher term is stored, a lower one refused for changes but not for reads', async () => {
    const file = fresh();
    const raised: [number, number][] = [];
    const s = await TermStore.open(file, { onRaise: (from, to) => raised.push([from, to]) });
    (await s.admit(5))();
    assert.equal(await readFile(file, 'utf8'), '5\n');
    await rejectsWith(s.admit(4), 'FAILED_PRECONDITION', /^a newer coordinator \(term 5\) is in charge; this one \(term 4\) must stop$/);
    await s.observe(4); // a read with an older term still works
    (await s.admit(5))(); // the same term again is fine
    await s.observe(7); // a read with a higher term raises it too
    assert.equal(s.current, 7);
    assert.equal(await readFile(file, 'utf8'), '7\n');
    await rejectsWith(s.admit(5), 'FAILED_PRECONDITION', /term 7.*term 5/);
    assert.deepEqual(raised, [[0, 5], [5, 7]]);
  });

  it('survives a restart: a new store reads the stored term', async () => {
    const file = fresh();
    (await (await TermStore.open(file)).admit(12))();
    const again = await TermStore.open(file);
    assert.equal(again.current, 12);
    await rejectsWith(again.admit(11), 'FAILED_PRECONDITION', /term 12/);
  });

  it('refuses to start on a file that holds no term', async () => {
    for (const text of ['', 'x\n', '-1\n', '1.5', '99999999999999999\n']) {
      const file = fresh();
      await writeFile(file, text);
      await rejectsWith(TermStore.open(file), 'FAILED_PRECONDITION', /should hold the highest coordinator term seen.*remove it/);
    }
  });

  it('two calls at once: the older term is refused whichever arrives first, and the newer is on disk', async () => {
    for (const order of [[4, 5], [5, 4]]) {
      const file = fresh();
      const s = await TermStore.open(file);
      const results = await Promise.allSettled(order.map((t) => s.admit(t)));
      const byTerm = new Map(order.map((t, i) => [t, results[i]]));
      assert.equal(byTerm.get(5)?.status, 'fulfilled', `order ${order}`);
      assert.equal(byTerm.get(4)?.status, 'rejected', `order ${order}`);
      assert.equal(await readFile(file, 'utf8'), '5\n');
    }
  });

  it('many calls at once: only the highest term acts, and it is what is stored', async () => {
    const file = fresh();
    const s = await TermStore.open(file);
    const terms = [3, 9, 1, 9, 4, 8, 2, 7, 9, 5, 6, 0];
    const results = await Promise.allSettled(terms.map((t) => s.admit(t)));
    const admitted = terms.filter((_, i) => results[i]?.status === 'fulfilled');
    assert.deepEqual(admitted, [9, 9, 9]);
    assert.equal(await readFile(file, 'utf8'), '9\n');
    assert.equal((await TermStore.open(file)).current, 9);
  });

  it('a newer term waits until the older term\'s running change has finished, and then refuses the older term', async () => {
    const s = await TermStore.open(fresh());
    const releaseOld = await s.admit(4);
    // The new coordinator's first read raises the term (on disk once it returns): what admit(5) waits for next is
    // only the running term-4 call, no I/O.
    await s.observe(5);
    let newAdmitted = false;
    const newer = s.admit(5).then((release) => {
      newAdmitted = true;
      return release;
    });
    await settle();
    assert.equal(newAdmitted, false, 'term 5 must wait for the running term-4 call');
    await rejectsWith(s.admit(4), 'FAILED_PRECONDITION', /term 5.*term 4/); // no new term-4 call meanwhile
    let secondAdmitted = false;
    const second = s.admit(5).then((release) => { // a second term-5 call waits too
      secondAdmitted = true;
      return release;
    });
    await settle();
    assert.equal(secondAdmitted, false);
    releaseOld();
    (await newer)();
    (await second)();
    assert.equal(newAdmitted && secondAdmitted, true);
  });

  it('a wait for older calls ends when the caller gives up', async () => {
    const s = await TermStore.open(fresh());
    const releaseOld = await s.admit(1);
    await s.observe(2);
    const ac = new AbortController();
    const waiting = s.admit(2, ac.signal);
    await settle();
    ac.abort();
    await rejectsWith(waiting, 'CANCELLED', /cancelled/);
    releaseOld();
    (await s.admit(2))();
  });

  it('a term it cannot write is refused, and older terms stay refused', async () => {
    const s = await TermStore.open(path.join(tmp, 'no-such-dir', 'moco-term'));
    await rejectsWith(s.admit(3), 'INTERNAL', /cannot write/);
    await rejectsWith(s.admit(2), 'FAILED_PRECONDITION', /term 3/);
    await rejectsWith(s.admit(3), 'INTERNAL', /cannot write/); // retried, never acted on without being on disk
  });
});

describe('termFromMetadata', () => {
  it('none is 0; one decimal is the term', () => {
    assert.equal(termFromMetadata([]), 0);
    assert.equal(termFromMetadata(['17']), 17);
    assert.equal(termFromMetadata([Buffer.from('3')]), 3);
  });
  for (const bad of [['-1'], ['1.0'], ['x'], ['1', '2'], [''], ['99999999999999999']]) {
    it(`refuses ${JSON.stringify(bad)}`, () => {
      assert.throws(() => termFromMetadata(bad), (err: unknown) => hasCode(err, 'INVALID_ARGUMENT'));
    });
  }
});
