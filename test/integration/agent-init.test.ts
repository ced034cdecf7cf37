/**
 * init against the real bootstrap (mariadb-install-db / mysqld --initialize), and the agent command line:
 * bad flags exit 2 naming the flag; SIGTERM stops the agent gracefully; run-mysqld swaps staged data.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { initDataDir } from '../../src/agent/init.ts';
import { MocoError } from '../../src/shared/errors.ts';
import { instanceLayout, writeInstanceConfig } from '../../src/platform/local/instance.ts';
import { createTestCluster, freePort, testLogger, waitFor, type TestCluster } from '../helpers/harness.ts';

const AGENT = path.resolve(import.meta.dirname, '../../bin/moco-agent.js');
let cluster: TestCluster;

async function treeDigest(dir: string): Promise<string> {
  const h = createHash('sha256');
  for (const name of (await fs.readdir(dir, { recursive: true })).sort()) {
    const p = path.join(dir, String(name));
    const st = await fs.stat(p);
    h.update(`${String(name)}:${st.size}:${st.mtimeMs}\n`);
  }
  return h.digest('hex');
}

describe('init and the agent command', () => {
  before(async () => {
    cluster = await createTestCluster('init');
  });
  after(async () => {
    await cluster?.close();
  });

  test('init twice changes nothing; the accounts exist and the GTID state is clean', async () => {
    const inst = await cluster.add();
    await inst.supervisor.stop();
    const before = await treeDigest(inst.layout.dataDir);
    const again = await initDataDir({ install: cluster.install, myCnfPath: inst.layout.myCnf, dataDir: inst.layout.dataDir, passwords: cluster.passwords, log: testLogger() });
    assert.equal(again, false);
    assert.equal(await treeDigest(inst.layout.dataDir), before);
    await inst.supervisor.start();
    await waitFor(() => inst.daemon.agent.healthy(), 20_000, 'mysqld');
  });

  test('every account logs in with its password; root is gone; nothing is executed yet', async () => {
    const inst = cluster.instances[0] ?? (await cluster.add());
    const accounts = [
      ['moco-admin', 'ADMIN_PASSWORD'], ['moco-agent', 'AGENT_PASSWORD'], ['moco-repl', 'REPLICATION_PASSWORD'],
      ['moco-clone-donor', 'CLONE_DONOR_PASSWORD'], ['moco-exporter', 'EXPORTER_PASSWORD'], ['moco-backup', 'BACKUP_PASSWORD'],
      ['moco-readonly', 'READONLY_PASSWORD'], ['moco-writable', 'WRITABLE_PASSWORD'],
    ] as const;
    for (const [user, key] of accounts) {
      const c = await inst.connect(user, cluster.passwords[key]);
      await c.end();
    }
    const admin = await inst.connect();
    const [rows] = await admin.query("SELECT COUNT(*) AS n FROM mysql.user WHERE user = 'root'");
    assert.equal(Number((rows as { n: number }[])[0]?.n), 0);
    await admin.end();
    const st = await inst.client.getStatus();
    assert.equal(st.executed?.text, '', 'bootstrap wrote no transactions');
    assert.equal(st.readOnly, true, 'a new instance starts read-only');
  });

  test('a non-empty data directory that moco did not initialise is refused and left untouched', async () => {
    const layout = instanceLayout(path.join(cluster.base, 'foreign'));
    await writeInstanceConfig({ install: cluster.install, layout, port: await freePort(), serverId: 900 });
    await fs.mkdir(layout.dataDir, { recursive: true });
    await fs.writeFile(path.join(layout.dataDir, 'precious.ibd'), 'data');
    await assert.rejects(
      initDataDir({ install: cluster.install, myCnfPath: layout.myCnf, dataDir: layout.dataDir, passwords: cluster.passwords, log: testLogger() }),
      (e: unknown) => e instanceof MocoError && e.code === 'FAILED_PRECONDITION' && /not empty/.test(e.message),
    );
    assert.equal(await fs.readFile(path.join(layout.dataDir, 'precious.ibd'), 'utf8'), 'data');
  });

  test('bad flags exit 2 and name the flag', () => {
    const cases: [string[], RegExp][] = [
      [['serve', '--cluster-name', 'c', '--index', '0', '--max-delay', 'soon'], /--max-delay/],
      [['serve', '--cluster-name', 'c', '--index', 'x'], /--index/],
      [['serve', '--index', '0', '--cluster-name', 'Bad_Name'], /--cluster-name/],
      [['serve', '--cluster-name', 'c', '--index', '0', '--bogus'], /bogus/],
      [['serve', '--cluster-name', 'c', '--index', '0', '--grpc-address', 'nowhere'], /--grpc-address/],
    ];
    for (const [args, pattern] of cases) {
      const r = spawnSync(process.execPath, [AGENT, ...args], { encoding: 'utf8', env: { ...process.env, CLUSTER_NAME: '', POD_NAME: '' } });
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, pattern);
    }
    const noPw = spawnSync(process.execPath, [AGENT, 'serve', '--cluster-name', 'c', '--index', '0'], { encoding: 'utf8', env: { PATH: process.env.PATH } });
    assert.equal(noPw.status, 2);
    assert.match(noPw.stderr, /AGENT_PASSWORD/);
  });

  test('the agent process serves, and stops gracefully on SIGTERM', async () => {
    const inst = cluster.instances[0] ?? (await cluster.add());
    const httpPort = await freePort();
    const child = spawn(process.execPath, [AGENT, 'serve', '--cluster-name', 'init', '--index', '0',
      '--socket', inst.layout.socket, '--data-dir', inst.layout.dataDir, '--mycnf', inst.layout.myCnf,
      '--grpc-address', '127.0.0.1:0', '--http-address', `127.0.0.1:${httpPort}`,
      '--tls-ca', cluster.pki.agent.caCert, '--tls-cert', cluster.pki.agent.cert, '--tls-key', cluster.pki.agent.key,
      '--passwords-dir', path.join(cluster.base, 'passwords'), '--log-level', 'warn'], { stdio: ['ignore', 'ignore', 'pipe'] });
    try {
      await waitFor(async () => (await fetch(`http://127.0.0.1:${httpPort}/healthz`)).status === 200, 20_000, 'the agent to answer /healthz');
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      child.kill('SIGTERM');
      assert.equal(await exited, 0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  test('run-mysqld swaps a complete staged directory in before starting the command', async () => {
    const dataDir = path.join(cluster.base, 'swap', 'data');
    await fs.mkdir(dataDir, { recursive: true });
    await fs.writeFile(path.join(dataDir, 'old'), '');
    await fs.mkdir(`${dataDir}.staged`);
    await fs.writeFile(path.join(`${dataDir}.staged`, 'new'), '');
    await fs.writeFile(path.join(`${dataDir}.staged`, 'moco-staged-complete'), '');
    const r = spawnSync(process.execPath, [AGENT, 'run-mysqld', '--data-dir', dataDir, '--', 'ls', dataDir], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), ['new']);
  });
});
