/**
 * Stopping a mysqld that is still starting. MariaDB 10.11 hangs for good when SIGTERM arrives in the instant
 * between opening its sockets and starting its replication threads (the main thread waits in init_slave() for a
 * thread that saw the shutdown and never started); a Ctrl-C right after `moco up` started mysqld then took two
 * minutes. The supervisor waits until mysqld says it is ready before asking it to stop.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { requireMysqld } from '../../src/agent/mysqld.ts';
import { initDataDir } from '../../src/agent/init.ts';
import { MysqldSupervisor } from '../../src/platform/local/supervisor.ts';
import { ensurePasswords, instanceLayout, writeInstanceConfig } from '../../src/platform/local/instance.ts';
import { freePort, testLogger } from '../helpers/harness.ts';

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('MysqldSupervisor.stop while mysqld starts', () => {
  let base: string | undefined;
  const pids: number[] = [];
  after(async () => {
    for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
    if (base) await fs.rm(base, { recursive: true, force: true });
  });

  it('stops a mysqld asked to stop at each moment of its startup, cleanly and without hanging', async () => {
    const install = requireMysqld();
    base = await fs.mkdtemp(path.join(os.tmpdir(), 'moco-supstop-'));
    const layout = instanceLayout(path.join(base, '0'));
    const passwords = await ensurePasswords(path.join(base, 'passwords'));
    await writeInstanceConfig({ install, layout, port: await freePort(), serverId: 1 });
    const log = testLogger();
    await initDataDir({ install, myCnfPath: layout.myCnf, dataDir: layout.dataDir, passwords, log });
    // The moments: as soon as it runs, when it has opened its sockets (the window that hangs), and a little later.
    const moments: Array<{ what: string; ready: (text: string) => boolean }> = [
      { what: 'right after it started', ready: () => true },
      ...Array.from({ length: 4 }, () => ({ what: 'when its sockets are open', ready: (t: string) => /Server socket created|port: \d+/.test(t) })),
      { what: 'once ready', ready: (t: string) => t.includes('ready for connections') },
    ];
    for (const m of moments) {
      const logStart = await fs.stat(layout.errorLog).then((s) => s.size, () => 0);
      const sup = new MysqldSupervisor({
        mysqld: install.mysqld, myCnfPath: layout.myCnf, dataDir: layout.dataDir, logFile: layout.mysqldLog,
        errorLog: layout.errorLog, log,
      });
      const exits: Array<[number | null, string | null]> = [];
      sup.on('exited', (code: number | null, signal: string | null) => exits.push([code, signal]));
      await sup.start();
      const pid = sup.pid as number;
      pids.push(pid);
      for (;;) {
        const text = readFileSync(layout.errorLog, 'utf8').slice(logStart);
        if (m.ready(text) || !alive(pid)) break;
        await new Promise((r) => setTimeout(r, 5));
      }
      // A hang is what this catches: the bound is generous (a clean start and stop takes about two seconds).
      let timer: NodeJS.Timeout | undefined;
      const stopped = await Promise.race([
        sup.stop(120_000).then(() => true),
        new Promise<false>((r) => { timer = setTimeout(() => r(false), 45_000); }),
      ]);
      clearTimeout(timer);
      assert.ok(stopped, `mysqld asked to stop ${m.what} did not stop within 45 s`);
      assert.equal(alive(pid), false);
      assert.deepEqual(exits, [[0, null]], `mysqld asked to stop ${m.what} shut down cleanly (exit code 0)`);
    }
  });
});
