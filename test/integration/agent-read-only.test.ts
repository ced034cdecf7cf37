/**
 * `moco-agent read-only` (what `kubectl moco read-only` runs in each agent container) as a process against a real
 * mysqld: a writable instance becomes read-only for moco-writable, a second run changes nothing, a running write
 * that holds the statement up is ended (a user connection over TCP) and the statement tried once more, one that is
 * not ended (a local socket connection) is reported, and bad passwords, passwords directories and sockets give
 * messages that say what to fix.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import mysql from 'mysql2/promise';
import { createTestCluster, waitFor, type TestCluster, type TestInstance } from '../helpers/harness.ts';

const AGENT = path.resolve(import.meta.dirname, '../../bin/moco-agent.js');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `moco-agent read-only ARGS` with no password in the environment (only what the flags point at). */
function readOnly(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [AGENT, 'read-only', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

describe('moco-agent read-only', () => {
  let cluster: TestCluster;
  let inst: TestInstance;
  let passwordsDir: string;
  let variable: string;
  let flags: () => string[];

  before(async () => {
    cluster = await createTestCluster('ro');
    inst = await cluster.add();
    passwordsDir = path.join(cluster.base, 'passwords');
    variable = cluster.install.flavor === 'mariadb' ? 'read_only' : 'super_read_only';
    flags = () => ['--socket', inst.layout.socket, '--passwords-dir', passwordsDir];
    await inst.client.setWritable();
    const w = await inst.connect('moco-writable', cluster.passwords.WRITABLE_PASSWORD);
    await w.query('CREATE DATABASE ro');
    await w.query('CREATE TABLE ro.t (id INT PRIMARY KEY)');
    await w.end();
  });
  after(async () => {
    await cluster?.close();
  });

  /** Inserts `id` as moco-writable over TCP; resolves to the error number it failed with, or 0. */
  async function writableInsert(id: number): Promise<number> {
    const w = await inst.connect('moco-writable', cluster.passwords.WRITABLE_PASSWORD);
    try {
      await w.query('INSERT INTO ro.t VALUES (?)', [id]);
      return 0;
    } catch (err) {
      return (err as { errno: number }).errno;
    } finally {
      await w.end();
    }
  }

  /** Waits until a statement whose text holds `marker` runs. */
  async function waitRunning(marker: string): Promise<void> {
    const agent = await mysql.createConnection({ socketPath: inst.layout.socket, user: 'moco-agent', password: cluster.passwords.AGENT_PASSWORD });
    try {
      await waitFor(async () => {
        const [rows] = await agent.query('SELECT ID FROM information_schema.PROCESSLIST WHERE INFO LIKE ? AND ID <> CONNECTION_ID()', [`%${marker}%`]);
        return (rows as unknown[]).length > 0;
      }, 10_000, `the statement ${marker} to run`);
    } finally {
      await agent.end();
    }
  }

  test('--help describes the command and exits 0', async () => {
    const r = await readOnly(['--help']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /usage: moco-agent read-only/);
    assert.match(r.stdout, /--lock-wait-timeout/);
  });

  test('a writable instance becomes read-only for moco-writable; a second run changes nothing', async () => {
    assert.equal(await writableInsert(1), 0, 'writable before');
    const r = await readOnly(flags());
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `made read-only (${variable}=1) for every user account\n`);
    assert.equal(await writableInsert(2), 1290, 'moco-writable is refused with ER_OPTION_PREVENTS_STATEMENT');
    assert.equal((await inst.client.getStatus()).readOnly, true);
    const again = await readOnly(flags());
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stdout, `already read-only (${variable}=1); nothing changed\n`);
  });

  test('a running write that holds it up is ended with the user connections, and the second try succeeds', async () => {
    await inst.client.setWritable();
    // Over TCP as moco-writable: a user connection, which KillConnections ends.
    const blocker = await inst.connect('moco-writable', cluster.passwords.WRITABLE_PASSWORD);
    const blocked = blocker.query('INSERT INTO ro.t SELECT 100 + SLEEP(60) /* ro-blocker-tcp */').then(() => 'finished', (err: Error) => err.message);
    try {
      await waitRunning('ro-blocker-tcp');
      const t0 = Date.now();
      const r = await readOnly([...flags(), '--lock-wait-timeout', '1s']);
      assert.equal(r.code, 0, r.stderr);
      const lines = r.stdout.trim().split('\n');
      assert.equal(lines.length, 2, r.stdout);
      assert.match(lines[0] as string, new RegExp(`^SET GLOBAL ${variable}=1 waited 1 s for its lock .*; ended 1 user connection\\(s\\); trying once more$`));
      assert.equal(lines[1], `made read-only (${variable}=1) for every user account`);
      assert.ok(Date.now() - t0 < 30_000, 'well before the blocking statement would have finished');
      assert.notEqual(await blocked, 'finished', 'the blocking statement was ended');
      assert.equal(await writableInsert(3), 1290);
      const admin = await inst.connect();
      const [rows] = await admin.query('SELECT id FROM ro.t WHERE id >= 100');
      await admin.end();
      assert.deepEqual(rows, [], 'the ended statement wrote nothing');
    } finally {
      blocker.destroy();
    }
  });

  test('a blocker it does not end (a local socket connection) is reported, exit 1', async () => {
    await inst.client.setWritable();
    // Over the socket: HOST is localhost, which KillConnections leaves alone (the agent's and operators' sessions).
    const blocker = await mysql.createConnection({ socketPath: inst.layout.socket, user: 'moco-writable', password: cluster.passwords.WRITABLE_PASSWORD });
    const blocked = blocker.query('INSERT INTO ro.t SELECT 200 + SLEEP(60) /* ro-blocker-socket */').then(() => 'finished', (err: Error) => err.message);
    const agent = await mysql.createConnection({ socketPath: inst.layout.socket, user: 'moco-agent', password: cluster.passwords.AGENT_PASSWORD });
    try {
      await waitRunning('ro-blocker-socket');
      const r = await readOnly([...flags(), '--lock-wait-timeout', '1s']);
      assert.equal(r.code, 1, `${r.stdout}\n${r.stderr}`);
      assert.match(r.stdout, /waited 1 s for its lock .*ended 0 user connection\(s\); trying once more/);
      assert.match(r.stderr, /still waited 1 s for its lock after 0 user connection\(s\) were ended/);
      assert.match(r.stderr, /SHOW PROCESSLIST/);
      assert.equal((await inst.client.getStatus()).readOnly, false, 'nothing changed');
    } finally {
      await agent.query('KILL ?', [blocker.threadId]);
      await blocked;
      blocker.destroy();
      await agent.end();
    }
    await inst.client.setReadOnly();
  });

  test('a wrong passwords directory, a wrong password and a wrong socket say what to fix', async () => {
    const missing = await readOnly(['--socket', inst.layout.socket, '--passwords-dir', path.join(cluster.base, 'no-such-dir')]);
    assert.equal(missing.code, 2, missing.stderr);
    assert.match(missing.stderr, /--passwords-dir .*no-such-dir: no such directory; give the directory that holds the cluster's password files/);

    const empty = path.join(cluster.base, 'empty-passwords');
    await fs.mkdir(empty);
    const noFile = await readOnly(['--socket', inst.layout.socket, '--passwords-dir', empty]);
    assert.equal(noFile.code, 2, noFile.stderr);
    assert.match(noFile.stderr, /missing or empty password\(s\): AGENT_PASSWORD/);

    const other = path.join(cluster.base, 'other-passwords');
    await fs.mkdir(other);
    await fs.writeFile(path.join(other, 'AGENT_PASSWORD'), 'not-this-clusters-password\n');
    const wrong = await readOnly(['--socket', inst.layout.socket, '--passwords-dir', other]);
    assert.equal(wrong.code, 1, wrong.stderr);
    assert.match(wrong.stderr, /refused moco-agent with the password from .*other-passwords\/AGENT_PASSWORD: it is not this instance's agent password/);

    const noSocket = await readOnly(['--socket', path.join(cluster.base, 'nothing.sock'), '--passwords-dir', passwordsDir]);
    assert.equal(noSocket.code, 1, noSocket.stderr);
    assert.match(noSocket.stderr, /cannot reach mysqld through the socket .*nothing\.sock/);

    const badFlag = await readOnly([...flags(), '--lock-wait-timeout', '1.5s']);
    assert.equal(badFlag.code, 2, badFlag.stderr);
    assert.match(badFlag.stderr, /--lock-wait-timeout/);
  });
});
