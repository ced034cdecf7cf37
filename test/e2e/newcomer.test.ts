/**
 * What a new user meets in the first hour, through the `moco` CLI exactly as they would type it: two commands at
 * once on one cluster, Ctrl-C / a closed terminal / SIGTERM on a foreground cluster (with and without a pipe), a
 * port already taken, the status views, the seed's read-only workflow, per-command help, logs and exit codes.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { processesReferencing } from '../../src/platform/local/procfs.ts';
import { LocalCluster, runMoco, runMocoDirFirst, waitFor } from './local-cluster.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const mocoBin = path.join(root, 'bin', 'moco.js');

/** The cluster's processes by kind, found by the state directory in their command lines. */
function processKinds(clusterRoot: string): Record<'supervisor' | 'mysqld' | 'agent' | 'coordinator' | 'endpoints' | 'other', number> {
  const n = { supervisor: 0, mysqld: 0, agent: 0, coordinator: 0, endpoints: 0, other: 0 };
  for (const p of processesReferencing(clusterRoot)) {
    const a = p.args.join(' ');
    if (a.includes(' _instance ')) n.supervisor++;
    else if (a.includes('--defaults-file=')) n.mysqld++;
    else if (a.includes('moco-agent') && a.includes(' serve ')) n.agent++;
    else if (a.includes(' _coordinator ')) n.coordinator++;
    else if (a.includes(' _endpoints ')) n.endpoints++;
    else n.other++;
  }
  return n;
}

const expected = (i: number) => ({ supervisor: i, mysqld: i, agent: i, coordinator: 1, endpoints: 1, other: 0 });
const none = { supervisor: 0, mysqld: 0, agent: 0, coordinator: 0, endpoints: 0, other: 0 };

/** `moco ARGS --dir DIR` in a process group of its own (as a terminal's job), stdout and stderr to `log`. */
function startForeground(shellCommand: string, log: string): ChildProcess {
  return spawn('bash', ['-c', `${shellCommand} > ${log} 2>&1`], { detached: true, stdio: 'ignore' });
}

async function waitForText(file: string, text: string, timeoutMs: number): Promise<string> {
  try {
    return await waitFor(async () => {
      const t = await fs.readFile(file, 'utf8').catch(() => '');
      return t.includes(text) ? t : undefined;
    }, timeoutMs, `"${text}" in ${file}`);
  } catch (err) {
    // What it printed, and what each instance's supervisor logged: enough to tell a hang from a crash.
    const root = path.dirname(file);
    const logs = [file, ...(await fs.readdir(root, { recursive: true }).catch(() => [] as string[]))
      .filter((f) => /supervisor\.log$|mysqld\.err$/.test(f)).map((f) => path.join(root, f))];
    const tails = await Promise.all(logs.map(async (f) => `--- ${f}:\n${(await fs.readFile(f, 'utf8').catch(() => '')).split('\n').slice(-25).join('\n')}`));
    throw new Error(`${(err as Error).message}\n${tails.join('\n')}`, { cause: err });
  }
}

async function waitNone(clusterRoot: string, timeoutMs = 90_000): Promise<void> {
  await waitFor(async () => JSON.stringify(processKinds(clusterRoot)) === JSON.stringify(none), timeoutMs,
    `every process of ${clusterRoot} to stop (left: ${JSON.stringify(processKinds(clusterRoot))})`);
}

describe('two commands at once', () => {
  let dir: string | undefined;
  after(async () => {
    if (!dir) return;
    await runMoco(dir, ['down', 'race', '--purge']).catch(() => undefined);
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('never run two sets of processes for one cluster; down stops orphans too', async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'moco-e2e-race-'));
    const clusterRoot = path.join(dir, 'race');
    const d = dir;
    // A new cluster, two `up -d` at once.
    const [a, b] = await Promise.all([runMoco(d, ['up', '-d', '--name', 'race']), runMoco(d, ['up', '-d', '--name', 'race'])]);
    const [ok, refused] = a.code === 0 ? [a, b] : [b, a];
    assert.equal(ok.code, 0, `one moco up succeeds:\n${ok.stdout}\n${ok.stderr}`);
    assert.equal(refused.code, 1, `the other is refused:\n${refused.stdout}\n${refused.stderr}`);
    assert.match(refused.stderr, /another moco command is working on cluster "race" \(PID \d+: moco up -d/);
    assert.match(refused.stderr, /nothing was changed/);
    assert.deepEqual(processKinds(clusterRoot), expected(3));

    // A supervisor started by other means refuses to run an instance that is already running.
    const extra = spawn(process.execPath, [mocoBin, '_instance', clusterRoot, '0'], { stdio: 'ignore' });
    const code = await new Promise<number | null>((r) => extra.on('exit', r));
    assert.equal(code, 75, 'a second supervisor of instance 0 exits with 75');
    assert.deepEqual(processKinds(clusterRoot), expected(3));

    // Resuming a stopped cluster, two at once.
    assert.equal((await runMoco(d, ['down', 'race'])).code, 0);
    assert.deepEqual(processKinds(clusterRoot), none);
    const [c, e] = await Promise.all([runMoco(d, ['up', '-d', '--name', 'race']), runMoco(d, ['up', '-d', '--name', 'race'])]);
    assert.deepEqual([c.code, e.code].sort(), [0, 1], `${c.stdout}${c.stderr}\n${e.stdout}${e.stderr}`);
    assert.deepEqual(processKinds(clusterRoot), expected(3));

    // A supervisor killed with SIGKILL leaves its mysqld and agent behind: down finds and stops them.
    const st = JSON.parse((await runMoco(d, ['status', 'race', '-o', 'json'])).stdout) as { instances: Array<{ pids: { supervisor: number } }> };
    process.kill(st.instances[1]?.pids.supervisor as number, 'SIGKILL');
    await waitFor(async () => processKinds(clusterRoot).supervisor === 2, 10_000, 'the supervisor to die');
    const down = await runMoco(d, ['down', 'race']);
    assert.equal(down.code, 0, down.stderr);
    assert.match(down.stdout, /stopped instance 1 \(mysqld \d+, agent \d+\)/);
    assert.deepEqual(processKinds(clusterRoot), none);
  });
});

describe('Ctrl-C, a closed terminal and SIGTERM', () => {
  let dir: string | undefined;
  after(async () => {
    if (!dir) return;
    await runMoco(dir, ['down', 'sig', '--purge']).catch(() => undefined);
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('stop the whole foreground cluster, with or without a pipe, and say what was stopped', async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'moco-e2e-sig-'));
    const clusterRoot = path.join(dir, 'sig');
    const up = `${process.execPath} ${mocoBin} up --dir ${dir} --name sig --replicas 1`;

    // Interrupted while it starts: what it started is stopped again.
    const early = path.join(dir, 'early.log');
    const e = startForeground(up, early);
    await waitForText(early, 'instance 0: starting', 60_000);
    await waitFor(async () => processKinds(clusterRoot).mysqld === 1 || undefined, 60_000, 'mysqld to run');
    process.kill(-(e.pid as number), 'SIGINT');
    const earlyText = await waitForText(early, 'data kept', 90_000);
    assert.match(earlyText, /interrupted; stopping what this command started/);
    assert.match(earlyText, /stopped instance 0/);
    await waitNone(clusterRoot);

    // Through a pipe whose reader dies with the same Ctrl-C (npm start 2>&1 | tee).
    const piped = path.join(dir, 'piped.log');
    const p = startForeground(`${up} 2>&1 | tee ${piped}.tee`, piped);
    await waitForText(piped, 'Running in the foreground', 120_000);
    assert.deepEqual(processKinds(clusterRoot), expected(1));
    process.kill(-(p.pid as number), 'SIGINT');
    await waitNone(clusterRoot);

    // A closed terminal (SIGHUP), output to a file: everything stops, and the output says what.
    const hup = path.join(dir, 'hup.log');
    const h = startForeground(up, hup);
    await waitForText(hup, 'Running in the foreground', 120_000);
    process.kill(-(h.pid as number), 'SIGHUP');
    const hupText = await waitForText(hup, 'stopped cluster sig', 90_000);
    assert.match(hupText, /SIGHUP \(terminal closed\): stopping cluster sig/);
    assert.match(hupText, /stopped the coordinator \(PID \d+\)/);
    assert.match(hupText, /stopped instance 0 \(supervisor \d+, mysqld \d+, agent \d+\)/);
    assert.match(hupText, /stopped the endpoints \(PID \d+\)/);
    await waitNone(clusterRoot);

    // SIGTERM to the moco process alone.
    const term = path.join(dir, 'term.log');
    const t = startForeground(`exec ${up}`, term);
    await waitForText(term, 'Running in the foreground', 120_000);
    process.kill(t.pid as number, 'SIGTERM');
    await waitForText(term, 'stopped cluster sig', 90_000);
    await waitNone(clusterRoot);
  });
});

describe('a port already in use', () => {
  const servers: net.Server[] = [];
  let dir: string | undefined;
  after(async () => {
    for (const s of servers) s.close();
    if (!dir) return;
    await runMoco(dir, ['down', 'ports', '--purge']).catch(() => undefined);
    await fs.rm(dir, { recursive: true, force: true });
  });

  const occupy = async (port = 0): Promise<number> => {
    const s = net.createServer();
    servers.push(s);
    await new Promise<void>((r) => s.listen(port, '127.0.0.1', r));
    return (s.address() as net.AddressInfo).port;
  };

  it('is reported at once with its holder, nothing is started, and other ports can be chosen', async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'moco-e2e-ports-'));
    const clusterRoot = path.join(dir, 'ports');
    const taken = await occupy();
    const t0 = Date.now();
    const r = await runMoco(dir, ['up', '-d', '--name', 'ports', '--replicas', '1', '--primary-port', String(taken)]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.ok(Date.now() - t0 < 15_000, `refused in ${Date.now() - t0} ms`);
    assert.match(r.stderr, new RegExp(`port ${taken} \\(the primary endpoint\\) is in use by PID ${process.pid} `));
    assert.match(r.stderr, /--primary-port P --replica-port P .* --ports-from N .*nothing was started/s);
    assert.deepEqual(processKinds(clusterRoot), none);
    await assert.rejects(fs.access(path.join(clusterRoot, 'cluster.json')), 'no cluster was created');

    // Created on chosen ports, stopped, then one of its instance ports is taken by someone else.
    const from = 20000 + (process.pid % 20000);
    const ok = await runMoco(dir, ['up', '-d', '--name', 'ports', '--replicas', '1', '--ports-from', String(from)]);
    assert.equal(ok.code, 0, ok.stderr);
    const st = JSON.parse((await runMoco(dir, ['status', 'ports', '-o', 'json'])).stdout) as { instances: Array<{ port: number }> };
    const mysqldPort = st.instances[0]?.port as number;
    assert.ok(mysqldPort >= from, `the instance port ${mysqldPort} is taken from ${from} upwards`);
    assert.equal((await runMoco(dir, ['down', 'ports'])).code, 0);
    await occupy(mysqldPort);
    const again = await runMoco(dir, ['up', '-d', '--name', 'ports']);
    assert.equal(again.code, 1);
    assert.match(again.stderr, new RegExp(`port ${mysqldPort} \\(instance 0's mysqld\\) is in use by PID ${process.pid}`));
    assert.deepEqual(processKinds(clusterRoot), none);
    const moved = await runMoco(dir, ['up', '-d', '--name', 'ports', '--ports-from', String(from + 100)]);
    assert.equal(moved.code, 0, moved.stderr);
  });
});

describe('status, read-only, help, logs and exit codes', () => {
  let c: LocalCluster | undefined;
  after(async () => { await c?.destroy(); });

  it('show what matters and do what the seed documents say', async () => {
    c = await LocalCluster.up('view', { replicas: 3, timeoutSeconds: 120 });
    await c.waitHealthy(60_000, 3);
    const cl = c;

    // The plain status: state with since when, last switchover, events.
    assert.equal((await cl.moco(['switchover', 'view'])).code, 0);
    await cl.waitHealthy(60_000, 3);
    const plain = await cl.moco(['status', 'view']);
    assert.match(plain.stdout, /^state +Healthy since \S+ \(\d+ s ago\)$/m);
    assert.match(plain.stdout, /^switchover +last at \S+ \(\d+ s ago\): instance 0 -> 1, writes unavailable \d+\.\d+ s$/m);
    assert.match(plain.stdout, /recent events[^]*SwitchOver/);
    assert.match(plain.stdout, /^coordinator +running \(PID \d+\)/m);

    // Stopped clustering shows, and a replica that is not ready says why.
    assert.equal((await cl.moco(['stop', 'clustering', 'view'])).code, 0);
    const agent = await cl.connectAsAgent(2);
    await agent.query('STOP SLAVE');
    await agent.end();
    const stopped = await waitFor(async () => {
      const s = await cl.moco(['status', 'view']);
      return /^2 +replica +no .*replication threads not running/m.test(s.stdout) ? s.stdout : undefined;
    }, 20_000, 'instance 2 to show why it is not ready');
    assert.match(stopped, /^state +clustering stopped \(moco start clustering view resumes it\)/m);
    assert.match(stopped, /clustering STOPPED/);
    const list = await cl.moco(['get']);
    assert.match(list.stdout, /^NAME +AVAILABLE +HEALTHY +PRIMARY +SYNCED REPLICAS +ERRANT REPLICAS +CLUSTERING ACTIVE +RECONCILE ACTIVE +LAST BACKUP/m);
    assert.match(list.stdout, /^view +Unknown +Unknown +1 +\d +0 +False +True +<no value>/m);

    // The seed's "Set to Read Only", on either flavor.
    const ro = await cl.moco(['read-only', 'view']);
    assert.equal(ro.code, 0, ro.stderr);
    assert.match(ro.stdout, /SELECT @@(super_)?read_only/);
    const variable = /SELECT @@(\w+)/.exec(ro.stdout)?.[1] as string;
    const check = await runMocoDirFirst(cl.dir, ['mysql', '-it', 'view', '--', '-N', '-e', `SELECT @@${variable}`]);
    assert.equal(check.code, 0, check.stderr);
    assert.equal(check.stdout.trim(), '1');
    for (const user of ['moco-writable', 'moco-admin'] as const) {
      const conn = await cl.connect(1, user);
      await assert.rejects(conn.query('CREATE DATABASE ro_test'), /read.only|READ.ONLY|super-read-only/i, `${user} cannot write`);
      await conn.end();
    }
    assert.equal((await cl.moco(['start', 'clustering', 'view'])).code, 0);
    await cl.waitHealthy(60_000, 3);
    const w = await cl.connect('primary', 'moco-writable');
    await w.query('CREATE DATABASE IF NOT EXISTS ro_test');
    await w.end();

    // The coordinator away: status says the state may be stale.
    const st = await cl.status();
    process.kill(st.coordinator.pid as number, 'SIGKILL');
    const stale = await cl.moco(['status', 'view']);
    assert.match(stale.stdout, /the coordinator is NOT running, so this is as of \S+ and may be stale/);
    assert.equal((await cl.moco(['up', '-d', '--name', 'view'])).code, 0);

    // Help, logs, mysql -it, exit codes.
    const help = await cl.moco(['up', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^usage: moco up \[-f manifest\.yaml\]/);
    assert.match((await cl.moco(['mysql', '-h'])).stdout, /^usage: moco mysql \[-it\]/);
    const logs = await cl.moco(['logs', 'view', '--tail', '20']);
    assert.equal(logs.code, 0, logs.stderr);
    assert.match(logs.stdout, /\[Note\]/);
    const agentLog = await cl.moco(['logs', 'view', 'agent', '--index', '2', '--tail', '1']);
    assert.match(agentLog.stdout, /"name":"moco-agent"/);
    assert.equal((await cl.moco(['status', 'nosuch'])).code, 2, 'an unknown cluster is a usage error');
    assert.equal((await cl.moco(['reinit', 'view', '--index', '1'])).code, 2, 'reinit of the primary is refused as usage');
    assert.equal((await cl.moco(['up', '-d', '--name', 'Bad_Name'])).code, 2);
    const unknown = await cl.moco(['status', '--bogus']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /status: unknown option --bogus \(see moco status --help\)/);
    assert.doesNotMatch(unknown.stderr, /'-- "/, 'no unbalanced quote in the hint');

    // down --purge says once what it did.
    const down = await cl.moco(['down', 'view', '--purge']);
    assert.doesNotMatch(down.stdout, /data kept/);
    assert.match(down.stdout, /stopped and purged cluster default\/view/);
    c = undefined;
    await fs.rm(cl.dir, { recursive: true, force: true });
  });

  it('prints notes only for what the user wrote, and names the mysqld that runs instead of the image', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'moco-e2e-notes-'));
    try {
      const plain = await runMoco(dir, ['up', '-d', '--name', 'notes', '--replicas', '1']);
      assert.equal(plain.code, 0, plain.stderr);
      assert.doesNotMatch(plain.stdout, /note:/, 'the default manifest brings no notes');
      const manifest = path.join(dir, 'm.yaml');
      await fs.writeFile(manifest, (await fs.readFile(path.join(dir, 'notes', 'manifest.yaml'), 'utf8')).replace('replicas: 1', 'replicas: 1\n  maxDelaySeconds: 30'));
      const applied = await runMoco(dir, ['up', '-d', '-f', manifest]);
      assert.equal(applied.code, 0, applied.stderr);
      assert.match(applied.stdout, /note: spec\.podTemplate\.spec\.containers\[0\]\.image \(ghcr\.io\/cybozu-go\/moco\/mysql:8\.4\.4\): the image is not used locally; instances run \/\S+ \((MariaDB|MySQL) [\d.]+\)/);
    } finally {
      await runMoco(dir, ['down', 'notes', '--purge']).catch(() => undefined);
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
