import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';

import { pipeTools, writeClientOptions } from '../../../src/shared/tools.ts';
import { hasCode } from '../../../src/shared/errors.ts';

const sh = (script: string, what: string) => ({ cmd: '/bin/sh', args: ['-c', script], what });

describe('pipeTools', () => {
  it('pipes the reader into the writer after the prefix, through `via`', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'moco-pipe-'));
    const out = path.join(dir, 'out');
    const via = new PassThrough();
    let seen = 0;
    via.on('data', (b: Buffer) => { seen += b.length; });
    await pipeTools(sh('printf "b\\nc\\n"', 'reader'), sh(`cat > ${out}`, 'writer'), { signal: new AbortController().signal, prefix: 'a\n', via });
    assert.equal(await fs.readFile(out, 'utf8'), 'a\nb\nc\n');
    assert.equal(seen, 4);
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('a writer that fails early stops an endless reader and is the error reported', async () => {
    await assert.rejects(pipeTools(sh('exec yes', 'the reader'), sh('echo broken >&2; exit 3', 'the writer'), { signal: new AbortController().signal }),
      /the writer failed \(exit 3\): broken/);
  });

  it('a writer that fails early also stops what the reader started (a child holding the pipe)', async () => {
    // The shell forks `yes` (it is not the last command) and dies of SIGTERM; `yes` must not block on the pipe.
    await assert.rejects(pipeTools(sh('yes; true', 'the reader'), sh('exit 3', 'the writer'), { signal: new AbortController().signal }),
      /the writer failed \(exit 3\)/);
  });

  it('a failing reader is reported with its stderr', async () => {
    await assert.rejects(pipeTools(sh('echo no such file >&2; exit 2', 'the reader'), sh('cat > /dev/null', 'the writer'), { signal: new AbortController().signal }),
      /the reader failed \(exit 2\): no such file/);
  });

  it('abort stops both and says CANCELLED', async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    await assert.rejects(pipeTools(sh('exec sleep 30', 'r'), sh('exec sleep 30', 'the writer'), { signal: ac.signal }), (e: unknown) => hasCode(e, 'CANCELLED'));
  });
});

describe('writeClientOptions', () => {
  it('writes mode 0600 and quotes only what needs quoting', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'moco-opt-'));
    const file = path.join(dir, 'c.cnf');
    await writeClientOptions(file, { user: 'my user', password: 'p"w', host: 'db.example', port: 3307 });
    assert.equal(await fs.readFile(file, 'utf8'), '[client]\nuser="my user"\npassword="p\\"w"\nhost=db.example\nport=3307\n');
    assert.equal((await fs.stat(file)).mode & 0o777, 0o600);
    // A socket under a directory whose name has a space (a state directory the user chose) is quoted.
    await writeClientOptions(file, { user: 'moco-agent', password: 'x', socket: '/tmp/my state/mysqld.sock' });
    assert.equal(await fs.readFile(file, 'utf8'), '[client]\nuser=moco-agent\npassword="x"\nsocket="/tmp/my state/mysqld.sock"\n');
    await fs.rm(dir, { recursive: true, force: true });
  });
});
