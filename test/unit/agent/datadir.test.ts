import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';

import { STAGED_MARKER, markStagedComplete, stagedDirOf, swapStagedData } from '../../../src/agent/datadir.ts';

let root = '';
let data = '';
const staged = (): string => stagedDirOf(data);
const old = (): string => `${data}.old`;

/** Creates `dir` holding one file per name, each containing its own name. */
async function dirWith(dir: string, ...files: string[]): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  for (const f of files) await fs.writeFile(path.join(dir, f), f);
}

/** The sorted entries of `dir`, or undefined when it does not exist. */
async function ls(dir: string): Promise<string[] | undefined> {
  try {
    return (await fs.readdir(dir)).sort();
  } catch {
    return undefined;
  }
}

beforeEach(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'moco-datadir-'));
  data = path.join(root, 'data');
});
afterEach(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

describe('stagedDirOf', () => {
  it('is <data>.staged beside the data directory', () => assert.equal(stagedDirOf('/var/lib/mysql/data'), '/var/lib/mysql/data.staged'));
});

describe('markStagedComplete', () => {
  it('creates the marker inside the staging directory', async () => {
    await dirWith(staged(), 'ibdata1');
    await markStagedComplete(data);
    assert.deepEqual(await ls(staged()), [STAGED_MARKER, 'ibdata1'].sort());
  });
  it('fails when there is no staging directory', async () => {
    await assert.rejects(markStagedComplete(data), { code: 'ENOENT' });
  });
});

describe('swapStagedData', () => {
  it('no staged directory: no change', async () => {
    await dirWith(data, 'ibdata1');
    assert.equal(await swapStagedData(data), false);
    assert.deepEqual(await ls(data), ['ibdata1']);
  });

  it('an incomplete staged directory (no marker) is not swapped and is left alone', async () => {
    await dirWith(data, 'old-ibdata1');
    await dirWith(staged(), 'new-ibdata1');
    assert.equal(await swapStagedData(data), false);
    assert.deepEqual(await ls(data), ['old-ibdata1']);
    assert.deepEqual(await ls(staged()), ['new-ibdata1']);
  });

  it('a complete staged directory is swapped in: old data gone, marker removed', async () => {
    await dirWith(data, 'old-ibdata1', 'old-table.ibd');
    await dirWith(staged(), 'new-ibdata1');
    await markStagedComplete(data);
    assert.equal(await swapStagedData(data), true);
    assert.deepEqual(await ls(data), ['new-ibdata1']);
    assert.equal(await fs.readFile(path.join(data, 'new-ibdata1'), 'utf8'), 'new-ibdata1');
    assert.equal(await ls(staged()), undefined);
    assert.equal(await ls(old()), undefined);
  });

  it('a complete staged directory and no data directory yet: moved in', async () => {
    await dirWith(staged(), 'new-ibdata1');
    await markStagedComplete(data);
    assert.equal(await swapStagedData(data), true);
    assert.deepEqual(await ls(data), ['new-ibdata1']);
  });

  it('crash after the first rename (data moved to .old, staged complete, no data): finished', async () => {
    await dirWith(old(), 'old-ibdata1');
    await dirWith(staged(), 'new-ibdata1');
    await markStagedComplete(data);
    assert.equal(await swapStagedData(data), true);
    assert.deepEqual(await ls(data), ['new-ibdata1']);
    assert.equal(await ls(old()), undefined);
    assert.equal(await ls(staged()), undefined);
  });

  it('crash after the second rename (marker inside data, .old still there): marker and old removed', async () => {
    await dirWith(old(), 'old-ibdata1');
    await dirWith(data, 'new-ibdata1', STAGED_MARKER);
    assert.equal(await swapStagedData(data), true);
    assert.deepEqual(await ls(data), ['new-ibdata1']);
    assert.equal(await ls(old()), undefined);
  });

  it('a leftover .old from an earlier swap is removed without touching data', async () => {
    await dirWith(old(), 'old-ibdata1');
    await dirWith(data, 'ibdata1');
    assert.equal(await swapStagedData(data), false);
    assert.deepEqual(await ls(data), ['ibdata1']);
    assert.equal(await ls(old()), undefined);
  });

  it('is idempotent: a second start after a swap changes nothing', async () => {
    await dirWith(data, 'old-ibdata1');
    await dirWith(staged(), 'new-ibdata1');
    await markStagedComplete(data);
    assert.equal(await swapStagedData(data), true);
    assert.equal(await swapStagedData(data), false);
    assert.deepEqual(await ls(data), ['new-ibdata1']);
  });
});
