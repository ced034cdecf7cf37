// The generated MariaDB my.cnf is accepted by a real mariadbd 10.11 (which refuses unknown variables):
// `--help --verbose` for both profiles (with a made-up variable as the negative control), then a real
// install, start, ping and variable check for the small profile. Every server is stopped by PID, even on
// failure.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { freePort } from '../../src/shared/net.ts';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { generateMyCnf, type MyCnfInput, type Profile } from '../../src/shared/mycnf.ts';

const run = promisify(execFile);

/** An executable on PATH (or in the sbin directories a non-root PATH often lacks); fails the test if absent. */
function binary(name: string): string {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin'];
  for (const dir of dirs.filter((d) => d !== '')) {
    try {
      accessSync(join(dir, name), fsConstants.X_OK);
      return join(dir, name);
    } catch {
      // not in this directory
    }
  }
  throw new Error(`${name} not found on PATH or in /usr/sbin: install MariaDB 10.11 (mariadb-server, mariadb-client)`);
}


const dirs: string[] = [];
const children = new Set<ChildProcess>();
// A runner that exits before `after` must not leave a server behind.
process.on('exit', () => {
  for (const child of children) if (child.exitCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
});
after(async () => {
  for (const child of children) await stop(child, 'SIGKILL');
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

/** A fresh instance directory (short, for the 107-byte socket limit) and its cnf. */
async function instance(profile: Profile, userConf?: Record<string, string>): Promise<{ dir: string; cnf: string }> {
  const dir = await mkdtemp('/tmp/mycnf-');
  dirs.push(dir);
  await mkdir(join(dir, 'data'));
  await mkdir(join(dir, 'tmp'));
  const input: MyCnfInput = {
    flavor: 'mariadb',
    profile,
    userConf,
    paths: {
      dataDir: join(dir, 'data'),
      socket: join(dir, 'mysqld.sock'),
      pidFile: join(dir, 'mysqld.pid'),
      errorLog: join(dir, 'error.log'),
      slowLog: join(dir, 'slow.log'),
      tmpDir: join(dir, 'tmp'),
    },
    port: await freePort(),
    bindAddress: '127.0.0.1',
    serverId: 1,
    reportHost: '127.0.0.1',
    osUser: process.getuid?.() === 0 ? 'root' : undefined,
  };
  const cnf = join(dir, 'my.cnf');
  await writeFile(cnf, generateMyCnf(input));
  return { dir, cnf };
}

/** `mariadbd --help --verbose`: exit code and stderr. `--defaults-file` must come first. */
async function helpCheck(cnf: string): Promise<{ code: number; stderr: string }> {
  try {
    const { stderr } = await run(binary('mariadbd'), [`--defaults-file=${cnf}`, '--help', '--verbose'], { maxBuffer: 16 << 20 });
    return { code: 0, stderr };
  } catch (err) {
    const e = err as { code?: number; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stderr: e.stderr ?? '' };
  }
}

/** Lines that mean a setting was not taken: errors, and warnings about unknown (even loose_) variables. */
function rejected(log: string): string[] {
  return log.split('\n').filter((line) => line.includes('[ERROR]') || /unknown (variable|option)/i.test(line));
}

async function stop(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  process.kill(child.pid, signal);
  await exited;
  children.delete(child);
}

describe('generated MariaDB my.cnf against mariadbd', { timeout: 60_000 }, () => {
  it('the check itself fails on a made-up variable', async () => {
    const { cnf } = await instance('small', { made_up_variable_xyz: '1' });
    const { code, stderr } = await helpCheck(cnf);
    assert.notEqual(code, 0);
    assert.match(stderr, /unknown variable 'made_up_variable_xyz=1'/);
  });

  for (const profile of ['production', 'small'] as const) {
    it(`mariadbd --help accepts every ${profile} setting`, async () => {
      const { cnf } = await instance(profile);
      const { code, stderr } = await helpCheck(cnf);
      assert.deepEqual(rejected(stderr), []);
      assert.equal(code, 0, stderr);
    });
  }

  it('a small instance installs, starts with the settings applied, and stops', async () => {
    const { dir, cnf } = await instance('small');
    const client = (tool: string, ...args: string[]) =>
      run(binary(tool), [`--defaults-file=${cnf}`, '--user=root', ...args], { timeout: 10_000 });
    await run(binary('mariadb-install-db'), [`--defaults-file=${cnf}`, '--skip-test-db', '--auth-root-authentication-method=normal'], {
      timeout: 30_000,
    });

    const server = spawn(binary('mariadbd'), [`--defaults-file=${cnf}`], { stdio: ['ignore', 'ignore', 'pipe'] });
    children.add(server);
    let stderr = '';
    server.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    try {
      const deadline = Date.now() + 20_000;
      for (;;) {
        assert.equal(server.exitCode, null, `mariadbd exited early: ${stderr}`);
        try {
          await client('mariadb-admin', 'ping');
          break;
        } catch (err) {
          if (Date.now() > deadline) throw err;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }

      const { stdout } = await client(
        'mariadb',
        '-N',
        '-B',
        '-e',
        'SELECT @@tx_isolation, @@innodb_flush_method, @@read_only, @@gtid_strict_mode, @@rpl_semi_sync_master_wait_point,' +
          ' @@rpl_semi_sync_slave_enabled, @@innodb_buffer_pool_size, @@performance_schema, @@aria_pagecache_buffer_size,' +
          ' @@log_bin, @@log_bin_basename, @@sync_binlog, @@report_host, @@log_slave_updates',
      );
      assert.deepEqual(stdout.trim().split('\t'), [
        'READ-COMMITTED', 'fsync', '1', '1', 'AFTER_SYNC', '1', '134217728', '0', '1048576', '1', join(dir, 'data', 'binlog'), '1',
        '127.0.0.1', '1',
      ]);

      // Stop by the PID the server wrote, then wait for the exit.
      const pid = Number((await readFile(join(dir, 'mysqld.pid'), 'utf8')).trim());
      assert.equal(pid, server.pid);
      await stop(server, 'SIGTERM');
      assert.equal(server.exitCode, 0);
    } finally {
      await stop(server, 'SIGKILL');
    }
    assert.deepEqual(rejected(await readFile(join(dir, 'error.log'), 'utf8')), []);
  });
});
