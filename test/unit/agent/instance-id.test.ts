import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';

import { INSTANCE_ID_FILE, InstanceIdReader, readInstanceId, writeNewInstanceId } from '../../../src/agent/instance-id.ts';

const dirs: string[] = [];
async function dataDir(): Promise<string> {
  const d = await fs.mkdtemp(path.join(os.tmpdir(), 'moco-id-'));
  dirs.push(d);
  return d;
}
after(async () => { for (const d of dirs) await fs.rm(d, { recursive: true, force: true }); });

describe('instance id', () => {
  it('is created once and kept', async () => {
    const d = await dataDir();
    const id = await readInstanceId(d);
    assert.match(id, /^[0-9a-f-]{36}$/);
    assert.equal(await readInstanceId(d), id);
    assert.notEqual(await writeNewInstanceId(d), id);
  });

  it('is empty when the data directory is absent', async () => {
    assert.equal(await readInstanceId(path.join(await dataDir(), 'gone')), '');
  });
});

describe('InstanceIdReader', () => {
  it('reads the file again when mysqld restarted (uptime went down), not on every call', async () => {
    const d = await dataDir();
    let now = 1000;
    const r = new InstanceIdReader(d, 1000, () => now);
    const first = await r.read(50);
    const second = await writeNewInstanceId(d); // a new directory swapped in: mysqld restarts on it
    now += 10;
    assert.equal(await r.read(51), first, 'cached while mysqld keeps running');
    now += 10;
    assert.equal(await r.read(2), second, 'uptime went down: read again');
  });

  it('reads the file again after maxAgeMs even when the uptime did not go down', async () => {
    const d = await dataDir();
    let now = 0;
    const r = new InstanceIdReader(d, 1000, () => now);
    const first = await r.read(0);
    const second = await writeNewInstanceId(d);
    now = 999;
    assert.equal(await r.read(0), first);
    now = 1000;
    assert.equal(await r.read(0), second);
  });

  it('does not cache an absent directory', async () => {
    const d = path.join(await dataDir(), 'later');
    const r = new InstanceIdReader(d, 60_000);
    assert.equal(await r.read(5), '');
    await fs.mkdir(d);
    await fs.writeFile(path.join(d, INSTANCE_ID_FILE), 'abc\n');
    assert.equal(await r.read(6), 'abc');
  });
});
