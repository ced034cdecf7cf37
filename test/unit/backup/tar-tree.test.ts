/**
 * The tar of a whole directory tree (a MySQL clone): packed with relative paths and directories, unpacked
 * byte for byte; entries that would leave the target directory, links and the like are refused.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { randomBytes } from 'node:crypto';
import tar from 'tar-stream';
import { packTree, safeTreePath, unpackTree } from '../../../src/backup/tar.ts';

let dir: string;

async function listTree(root: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of (await fs.readdir(path.join(root, rel), { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
    const name = rel === '' ? e.name : `${rel}/${e.name}`;
    if (e.isDirectory()) out.push(`${name}/`, ...(await listTree(root, name)));
    else out.push(name);
  }
  return out;
}

/** A tar archive with the given raw entries, for unpacker tests. */
function rawArchive(entries: { name: string; type?: 'file' | 'directory' | 'symlink'; body?: string; linkname?: string }[]): Readable {
  const pack = tar.pack();
  for (const e of entries) {
    if (e.type === 'directory' || e.type === 'symlink') pack.entry({ name: e.name, type: e.type, linkname: e.linkname });
    else pack.entry({ name: e.name }, e.body ?? '');
  }
  pack.finalize();
  return Readable.from(pack, { objectMode: false });
}

describe('tar of a directory tree', () => {
  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'moco-tree-'));
  });
  after(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('round-trips files in subdirectories, empty files and empty directories, long names included', async () => {
    const src = path.join(dir, 'clone');
    const long = `${'t'.repeat(120)}.ibd`;
    const files: Record<string, Buffer> = {
      'mysql.ibd': randomBytes(200_000),
      'undo_001': Buffer.alloc(70_000, 1),
      '#innodb_redo/#ib_redo0': randomBytes(1000),
      '#clone/#view_status': Buffer.from('2 1\n'),
      'app/t.ibd': randomBytes(50_000),
      [`app/${long}`]: Buffer.from('long name'),
      'ibdata1': Buffer.alloc(0),
    };
    for (const [name, data] of Object.entries(files)) {
      await fs.mkdir(path.dirname(path.join(src, name)), { recursive: true });
      await fs.writeFile(path.join(src, name), data);
    }
    await fs.mkdir(path.join(src, 'empty_schema'));

    const dst = path.join(dir, 'staged');
    await fs.mkdir(dst);
    const unpack = unpackTree(dst);
    await pipeline(packTree(src, AbortSignal.timeout(10_000)).stream, unpack.sink);
    const written = await unpack.done;

    assert.deepEqual(written.sort(), Object.keys(files).sort());
    assert.deepEqual(await listTree(dst), await listTree(src));
    for (const [name, data] of Object.entries(files)) assert.ok((await fs.readFile(path.join(dst, name))).equals(data), name);
  });

  it('refuses to pack what is neither a file nor a directory', async () => {
    const src = path.join(dir, 'with-link');
    await fs.mkdir(src);
    await fs.writeFile(path.join(src, 'a'), 'a');
    await fs.symlink('/etc/passwd', path.join(src, 'link'));
    const p = packTree(src, AbortSignal.timeout(10_000));
    const drained = pipeline(p.stream, new Writable({ write: (_c, _e, cb) => cb() }));
    await assert.rejects(p.done, /neither a file nor a directory/);
    await drained.catch(() => undefined);
  });

  for (const [what, entries] of [
    ['a parent-directory entry', [{ name: '../escape', body: 'x' }]],
    ['a nested parent-directory entry', [{ name: 'app/../../escape', body: 'x' }]],
    ['an absolute entry', [{ name: '/tmp/escape', body: 'x' }]],
    ['a symlink', [{ name: 'link', type: 'symlink', linkname: '/etc/passwd' }]],
  ] as const) {
    it(`refuses ${what} and writes nothing outside`, async () => {
      const dst = await fs.mkdtemp(path.join(dir, 'bad-'));
      const unpack = unpackTree(dst);
      const piped = pipeline(rawArchive([...entries]), unpack.sink).catch(() => undefined);
      await assert.rejects(unpack.done, /unexpected entry/);
      await piped;
      await assert.rejects(fs.access(path.join(dir, 'escape')));
      assert.deepEqual(await fs.readdir(dst), []);
    });
  }

  it('safeTreePath', () => {
    for (const ok of ['a', 'a/b', '#clone/#view_status', 'dir/']) assert.equal(safeTreePath(ok), true, ok);
    for (const bad of ['', '/', '/a', '..', 'a/..', 'a/../b', './a', 'a//b', 'a\\b']) assert.equal(safeTreePath(bad), false, bad);
  });
});
