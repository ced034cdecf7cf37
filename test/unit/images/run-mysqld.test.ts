/**
 * The mysqld container's data-directory swap on Kubernetes (images/scripts/moco-run-mysqld.sh, POSIX sh) keeps the
 * run-mysqld contract of src/agent/datadir.ts: killed at any step of a swap, the next start finishes it, and an
 * incomplete staged directory is never swapped in. Runs the script with /bin/sh (dash on Debian), as the mysqld
 * image would.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { STAGED_MARKER } from '../../../src/agent/datadir.ts';

const script = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../images/scripts/moco-run-mysqld.sh');

let root: string;
let data: string;
beforeEach(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'moco-run-mysqld-'));
  data = path.join(root, 'data');
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const dirWith = (dir: string, ...files: string[]): void => {
  mkdirSync(dir, { recursive: true });
  for (const f of files) writeFileSync(path.join(dir, f), f);
};
const ls = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir).sort() : []);

/** Runs the script without exec'ing mysqld; `crashAt` makes it kill itself at that step. */
function run(crashAt?: string): { status: number | null; signal: NodeJS.Signals | null; stderr: string } {
  const r = spawnSync('/bin/sh', [script, '--defaults-file=/dev/null'], {
    env: { PATH: process.env.PATH, MOCO_DATA_DIR: data, MOCO_TEST_NO_EXEC: '1', ...(crashAt ? { MOCO_TEST_CRASH_AT: crashAt } : {}) },
    encoding: 'utf8',
  });
  return { status: r.status, signal: r.signal, stderr: r.stderr };
}

describe('moco-run-mysqld.sh', () => {
  it('without a staged directory changes nothing', () => {
    dirWith(data, 'ibdata1');
    assert.equal(run().status, 0);
    assert.deepEqual(ls(data), ['ibdata1']);
  });

  it('leaves an incomplete staged directory (no marker) alone', () => {
    dirWith(data, 'ibdata1');
    dirWith(`${data}.staged`, 'new-ibdata1');
    assert.equal(run().status, 0);
    assert.deepEqual(ls(data), ['ibdata1']);
    assert.deepEqual(ls(`${data}.staged`), ['new-ibdata1']);
  });

  it('swaps in a complete staged directory, with or without a current one', () => {
    dirWith(data, 'ibdata1');
    dirWith(`${data}.staged`, 'new-ibdata1', STAGED_MARKER);
    const r = run();
    assert.equal(r.status, 0);
    assert.match(r.stderr, /swapped in the staged data directory/);
    assert.deepEqual([ls(data), existsSync(`${data}.staged`), existsSync(`${data}.old`)], [['new-ibdata1'], false, false]);
    rmSync(data, { recursive: true });
    dirWith(`${data}.staged`, 'newer', STAGED_MARKER);
    assert.equal(run().status, 0);
    assert.deepEqual(ls(data), ['newer']);
  });

  for (const step of ['after-remove-old', 'after-move-data', 'after-move-staged', 'after-remove-marker', 'after-cleanup']) {
    it(`killed ${step}, the next start finishes the swap`, () => {
      dirWith(data, 'ibdata1');
      dirWith(`${data}.old`, 'leftover-of-an-earlier-swap');
      dirWith(`${data}.staged`, 'new-ibdata1', STAGED_MARKER);
      const crashed = run(step);
      assert.equal(crashed.signal, 'SIGKILL', `the script was killed at ${step}`);
      assert.equal(run().status, 0);
      assert.deepEqual(ls(data), ['new-ibdata1'], 'the staged data is in place, without its marker');
      assert.equal(existsSync(`${data}.staged`), false);
      assert.equal(existsSync(`${data}.old`), false);
    });
  }

  it('execs the server it finds, with the arguments it was given', () => {
    dirWith(data, 'ibdata1');
    const fake = path.join(root, 'fake-mysqld');
    writeFileSync(fake, '#!/bin/sh\necho "ran with $*"\n', { mode: 0o755 });
    const r = spawnSync('/bin/sh', [script, '--defaults-file=/etc/mysql/my.cnf', '--skip-name-resolve'], {
      env: { PATH: process.env.PATH, MOCO_DATA_DIR: data, MOCO_MYSQLD: fake }, encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'ran with --defaults-file=/etc/mysql/my.cnf --skip-name-resolve');
  });
});
