/**
 * The local controller: what the Kubernetes control plane does for a cluster, done on one machine. It gives
 * ports to instances, checks them before anything starts, starts the processes the spec wants (the kubelet's and
 * the controllers' job) and stops them, orphans included. The CLI parses arguments, waits and prints; this module
 * changes the machine, and reports each step through a callback.
 *
 * Concurrency: every command that starts or stops processes holds the cluster's command lock (`run/cli.lock`)
 * while it does, so two of them never interleave; and every long-lived process holds a lock of its own for its
 * lifetime (see lock.ts), so even a process started by other means cannot run an instance twice.
 */
import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { ClusterSpec } from '../../api/spec.ts';
import { freePort } from '../../shared/net.ts';
import { acquireLock, LockBusyError, type HeldLock } from './lock.ts';
import { describeArgs, portHolder, processesReferencing, type ProcessInfo } from './procfs.ts';
import {
  componentPid, instancePids, markers, startComponent, startInstance, SUPERVISOR_STOP_MS, terminate, type Component,
} from './processes.ts';
import { pidMatches, type ClusterDir, type ClusterFile } from './state.ts';

export type Report = (line: string) => void;

/** A command could not take the cluster's command lock: another command is starting or stopping it. */
export class ClusterBusyError extends Error {
  constructor(readonly cluster: string, readonly lock: LockBusyError) {
    const h = lock.holder;
    super(`another moco command is working on cluster "${cluster}"` +
      (h ? ` (PID ${h.pid}: ${h.command}, since ${h.since})` : '') +
      '; wait for it to finish or stop it, then try again; nothing was changed');
    this.name = 'ClusterBusyError';
  }
}

/**
 * Takes the cluster's command lock (waiting up to `waitMs`, default not at all).
 * @throws ClusterBusyError when another command holds it.
 */
export function lockCluster(cd: ClusterDir, waitMs = 0): HeldLock {
  try {
    return acquireLock(cd.cliLockFile, { waitMs });
  } catch (err) {
    if (err instanceof LockBusyError) throw new ClusterBusyError(cd.name, err);
    throw err;
  }
}

/** Port choices a user can make (`moco up --primary-port P --replica-port P --ports-from N`). */
export interface PortChoice {
  primaryPort?: number;
  replicaPort?: number;
  /** The first port to try for everything else (instances and the coordinator's /metrics). */
  portsFrom?: number;
}

/** Every port a cluster uses (its endpoints, coordinator and instances). */
export function clusterPorts(cluster: ClusterFile): number[] {
  return [cluster.primaryPort, cluster.replicaPort, cluster.coordinatorHttpPort,
    ...cluster.instances.flatMap((p) => [p.mysqlPort, p.grpcPort, p.httpPort])];
}

/** True when nothing listens on 127.0.0.1:`port` (probed by binding it). */
export function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** Hands out ports: the next free one from `from` upwards when given, else any free one. Never one in `used`. */
async function nextPort(used: number[], from: number | undefined): Promise<number> {
  if (from === undefined) return freePort(used);
  for (let p = from; p <= 65535; p++) {
    if (!used.includes(p) && await portIsFree(p)) return p;
  }
  throw new Error(`no free port from ${from} upwards; choose a lower --ports-from`);
}

/** A new cluster file: endpoint ports as chosen (or free ones), no instances yet. */
export async function newClusterFile(spec: ClusterSpec, choice: PortChoice = {}): Promise<ClusterFile> {
  const used: number[] = [choice.primaryPort, choice.replicaPort].filter((p): p is number => p !== undefined);
  const primaryPort = choice.primaryPort ?? await nextPort(used, choice.portsFrom);
  used.push(primaryPort);
  const replicaPort = choice.replicaPort ?? await nextPort(used, choice.portsFrom);
  used.push(replicaPort);
  const coordinatorHttpPort = await nextPort(used, choice.portsFrom);
  return { name: spec.name, namespace: spec.namespace, createdAt: new Date().toISOString(), primaryPort, replicaPort, coordinatorHttpPort, instances: [] };
}

/**
 * Gives ports to instances up to `replicas`: all distinct, and distinct from the ports the cluster has.
 * Returns true when it added any.
 */
export async function allocate(cluster: ClusterFile, replicas: number, portsFrom?: number): Promise<boolean> {
  let changed = false;
  for (let i = cluster.instances.length; i < replicas; i++) {
    const used = clusterPorts(cluster);
    const mysqlPort = await nextPort(used, portsFrom);
    const grpcPort = await nextPort([...used, mysqlPort], portsFrom);
    const httpPort = await nextPort([...used, mysqlPort, grpcPort], portsFrom);
    cluster.instances.push({ index: i, mysqlPort, grpcPort, httpPort });
    changed = true;
  }
  return changed;
}

/**
 * Applies port choices to an existing cluster file. Changing a port is only possible while the process that
 * listens on it is stopped; returns the problems (empty when applied).
 */
export async function changePorts(cd: ClusterDir, cluster: ClusterFile, choice: PortChoice): Promise<string[]> {
  const problems: string[] = [];
  const endpointsUp = componentPid(cd, 'endpoints') !== null;
  for (const key of ['primaryPort', 'replicaPort'] as const) {
    const want = choice[key];
    if (want === undefined || want === cluster[key]) continue;
    if (endpointsUp) {
      problems.push(`the ${key === 'primaryPort' ? 'primary' : 'replica'} endpoint listens on ${cluster[key]} now; stop the cluster ` +
        `(moco down ${cluster.name}) to move it to ${want}`);
    } else {
      cluster[key] = want;
    }
  }
  if (choice.portsFrom !== undefined) {
    const running = cluster.instances.filter((p) => instancePids(cd, p.index).supervisor !== null).map((p) => p.index);
    if (running.length > 0 || componentPid(cd, 'coordinator') !== null) {
      problems.push(`--ports-from moves every instance's ports, but the cluster is running; stop it first (moco down ${cluster.name})`);
    } else {
      const n = cluster.instances.length;
      cluster.instances = [];
      const fixed = [cluster.primaryPort, cluster.replicaPort];
      cluster.coordinatorHttpPort = await nextPort(fixed, choice.portsFrom);
      await allocate(cluster, n, choice.portsFrom);
    }
  }
  return problems;
}

/** One process a command would start, with the ports it listens on. */
interface Needed {
  what: string;
  ports: Array<{ port: number; use: string }>;
}

/** The processes the spec wants that are not running now. */
function missingProcesses(cd: ClusterDir, cluster: ClusterFile, spec: ClusterSpec): Needed[] {
  const out: Needed[] = [];
  if (!spec.offline) {
    for (let i = 0; i < spec.replicas; i++) {
      const p = cluster.instances[i];
      if (!p || instancePids(cd, i).supervisor !== null) continue;
      out.push({ what: `instance ${i}`, ports: [
        { port: p.mysqlPort, use: `instance ${i}'s mysqld` }, { port: p.grpcPort, use: `instance ${i}'s agent (gRPC)` },
        { port: p.httpPort, use: `instance ${i}'s agent (HTTP)` },
      ] });
    }
  }
  if (componentPid(cd, 'endpoints') === null) {
    out.push({ what: 'endpoints', ports: [
      { port: cluster.primaryPort, use: 'the primary endpoint' }, { port: cluster.replicaPort, use: 'the replica endpoint' },
    ] });
  }
  if (componentPid(cd, 'coordinator') === null) {
    out.push({ what: 'coordinator', ports: [{ port: cluster.coordinatorHttpPort, use: "the coordinator's /metrics" }] });
  }
  return out;
}

/**
 * Checks that every port the missing processes will listen on is free. Returns one problem per taken port,
 * naming the port, what it is for and which process holds it.
 */
export async function checkPorts(cd: ClusterDir, cluster: ClusterFile, spec: ClusterSpec): Promise<string[]> {
  const problems: string[] = [];
  for (const n of missingProcesses(cd, cluster, spec)) {
    for (const { port, use } of n.ports) {
      if (await portIsFree(port)) continue;
      const h = portHolder(port);
      const who = h?.pid ? `PID ${h.pid} (${describeArgs(h.args ?? [])})` : 'a process this user cannot see';
      problems.push(`port ${port} (${use}) is in use by ${who}`);
    }
  }
  return problems;
}

/** What a command started, so that it can stop exactly that when it fails or is interrupted. */
export interface Started {
  instances: number[];
  components: Component[];
  /** The processes it spawned (a supervisor or a component), stopped too should their PID files be gone. */
  spawned: Array<{ pid: number; marker: string }>;
}

const tail = (file: string, lines = 5): string => {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).map((l) => `    ${l}`).join('\n');
  } catch {
    return '    (no log)';
  }
};

/**
 * Waits until a process we spawned writes its PID file, or fails with the end of its log when it exits first
 * (a lock held elsewhere, a port taken meanwhile, a broken state directory).
 */
async function awaitStart(pid: number, pidFile: () => number | null, what: string, log: string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    signal?.throwIfAborted();
    if (pidFile() !== null) return;
    if (!pidMatches(pid, '')) {
      // Ctrl-C reaches a child forked in the instant before it leaves our session: let our own handler run first,
      // so that an interruption is reported as one, not as a process that failed to start.
      await new Promise((r) => setTimeout(r, 100));
      signal?.throwIfAborted();
      throw new Error(`${what} exited at start; the end of ${log}:\n${tail(log)}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${what} did not start within ${timeoutMs / 1000} s; see ${log}`);
}

/**
 * Makes the processes match the spec: every declared instance runs (its orphans, if any, are stopped first), plus
 * the endpoints and the coordinator. Returns what it started; on failure, stops that before throwing.
 */
export async function startProcesses(cd: ClusterDir, spec: ClusterSpec, report: Report,
  o: { signal?: AbortSignal; started?: Started } = {}): Promise<Started> {
  const { signal } = o;
  // A caller that passes `started` stops what was started itself, should this fail; else this does.
  const started: Started = o.started ?? { instances: [], components: [], spawned: [] };
  try {
    if (spec.offline) {
      for (let i = 0; i < spec.replicas; i++) await stopInstanceReported(cd, i, report);
    } else {
      for (let i = 0; i < spec.replicas; i++) {
        const pids = instancePids(cd, i);
        if (pids.supervisor !== null) continue;
        if (pids.agent !== null || pids.mysqld !== null) {
          report(`instance ${i}: stopping processes left without their supervisor`);
          await stopInstanceReported(cd, i, report);
        }
        signal?.throwIfAborted();
        report(`instance ${i}: starting`);
        const pid = startInstance(cd, i);
        started.instances.push(i);
        started.spawned.push({ pid, marker: markers.supervisor(cd, i) });
        await awaitStart(pid, () => instancePids(cd, i).supervisor, `instance ${i}'s supervisor`,
          path.join(cd.instance(i).root, 'supervisor.log'), 30_000, signal);
      }
    }
    for (const c of ['endpoints', 'coordinator'] as const) {
      if (componentPid(cd, c) !== null) continue;
      signal?.throwIfAborted();
      const pid = startComponent(cd, c);
      started.components.push(c);
      started.spawned.push({ pid, marker: markers.component(cd, c) });
      await awaitStart(pid, () => componentPid(cd, c), `the ${c} process`, path.join(cd.logsDir, `${c}.log`), 30_000, signal);
    }
  } catch (err) {
    if (!o.started) await stopStarted(cd, started, report);
    throw err;
  }
  return started;
}

/** Stops what one command started (the coordinator first, so nothing fails over). */
export async function stopStarted(cd: ClusterDir, started: Started, report: Report): Promise<void> {
  if (started.components.includes('coordinator')) await stopComponentReported(cd, 'coordinator', report);
  await Promise.all(started.instances.map((i) => stopInstanceReported(cd, i, report)));
  if (started.components.includes('endpoints')) await stopComponentReported(cd, 'endpoints', report);
  // Whatever it spawned and is still alive (its PID file was never written, or is gone).
  await Promise.all(started.spawned.filter((p) => pidMatches(p.pid, p.marker)).map(async (p) => {
    await terminate(p.pid, p.marker, 60_000);
    report(`stopped PID ${p.pid}`);
  }));
}

async function stopComponentReported(cd: ClusterDir, c: Component, report: Report): Promise<void> {
  const pid = componentPid(cd, c);
  if (pid === null) return;
  await terminate(pid, markers.component(cd, c), 15_000);
  report(`stopped the ${c} (PID ${pid})`);
}

/**
 * Stops one instance: its supervisor stops the agent and mysqld; what is left (orphans) is stopped directly.
 * The supervisor is given the time its own stop may take (the agent, mysqld finishing its startup, mysqld's
 * shutdown; instance-process.ts) before it is killed.
 */
export async function stopInstanceReported(cd: ClusterDir, i: number, report: Report, graceMs = 60_000): Promise<void> {
  const pids = instancePids(cd, i);
  const names = (['supervisor', 'mysqld', 'agent'] as const).filter((k) => pids[k] !== null).map((k) => `${k} ${pids[k]}`);
  if (names.length === 0) return;
  await terminate(pids.supervisor, markers.supervisor(cd, i), SUPERVISOR_STOP_MS + 5_000);
  const left = instancePids(cd, i);
  await Promise.all([
    terminate(left.agent, markers.agent(cd, i), 10_000),
    terminate(left.mysqld, markers.mysqld(cd, i), graceMs),
  ]);
  report(`stopped instance ${i} (${names.join(', ')})`);
}

/**
 * Stops every process of the cluster: the coordinator first (so nothing fails over), then the instances, then
 * the endpoints, then anything else whose command line names the cluster's directory (orphans of earlier runs,
 * whatever their PID files say). Returns how many processes it stopped.
 */
export async function stopCluster(cd: ClusterDir, cluster: ClusterFile, report: Report): Promise<void> {
  await stopComponentReported(cd, 'coordinator', report);
  await Promise.all(cluster.instances.map((p) => stopInstanceReported(cd, p.index, report)));
  await stopComponentReported(cd, 'endpoints', report);
  await stopOrphans(cd, report);
}

/** Stops processes that reference the cluster's directory but no PID file names (left by a crash or a race). */
export async function stopOrphans(cd: ClusterDir, report: Report): Promise<ProcessInfo[]> {
  const orphans = processesReferencing(cd.root);
  await Promise.all(orphans.map(async (o) => {
    const marker = o.args[0] ?? '';
    // mysqld gets time to shut down cleanly; everything else is quick.
    const mysqld = o.args.some((a) => a.startsWith('--defaults-file='));
    await terminate(o.pid, marker, mysqld ? 60_000 : 10_000);
    report(`stopped PID ${o.pid} (${describeArgs(o.args)}), which was left running`);
  }));
  return orphans;
}
