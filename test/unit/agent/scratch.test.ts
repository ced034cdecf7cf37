import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makeScratchDir, scratchRoot, sweepScratch } from '../../../src/agent/scratch.ts';

let tmp: string;
before(async () => {
  tmp = await fs.mkdtemp(path.join(tmpdir(), 'moco-scratch-unit-'));
});
after(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

describe('scratch space', () => {
  it('is beside the data directory (the instance\'s own volume), not in /tmp', () => {
    assert.equal(scratchRoot('/var/lib/mysql/data'), '/var/lib/mysql/moco-tmp');
    assert.equal(scratchRoot('/var/lib/mysql/data/'), '/var/lib/mysql/moco-tmp');
  });

  it('makes private directories, and a sweep removes every one of them and nothing beside it', async () => {
    const dataDir = path.join(tmp, 'i0', 'data');
    await fs.mkdir(dataDir, { recursive: true });
    await fs.writeFile(path.join(dataDir, 'ibdata1'), 'data');
    const a = await makeScratchDir(dataDir, 'donor-');
    const b = await makeScratchDir(dataDir, 'donor-');
    assert.notEqual(a, b);
    assert.equal(path.dirname(a), scratchRoot(dataDir));
    assert.equal((await fs.stat(scratchRoot(dataDir))).mode & 0o777, 0o700);
    assert.equal((await fs.stat(a)).mode & 0o777, 0o700);
    await fs.writeFile(path.join(a, 'backup.cnf'), 'password=x', { mode: 0o600 });
    assert.equal(await sweepScratch(dataDir), 2);
    assert.deepEqual(await fs.readdir(scratchRoot(dataDir)), []);
    assert.equal(await fs.readFile(path.join(dataDir, 'ibdata1'), 'utf8'), 'data');
    assert.equal(await sweepScratch(dataDir), 0, 'a second sweep finds nothing');
  });

  it('a sweep of an instance that never had a scratch space does nothing', async () => {
    assert.equal(await sweepScratch(path.join(tmp, 'never', 'data')), 0);
  });

  it('a scratch space made by a looser umask is made private again', async () => {
    const dataDir = path.join(tmp, 'i1', 'data');
    await fs.mkdir(scratchRoot(dataDir), { recursive: true, mode: 0o755 });
    await fs.chmod(scratchRoot(dataDir), 0o755);
    await makeScratchDir(dataDir, 'init-');
    assert.equal((await fs.stat(scratchRoot(dataDir))).mode & 0o777, 0o700);
  });
});
