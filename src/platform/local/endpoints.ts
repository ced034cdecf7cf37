/**
 * The endpoints process: the local equivalent of the Services `moco-<name>-primary` and `moco-<name>-replica`
 * (kube-proxy's job). Two TCP listeners pipe each client to mysqld of an instance that holds the endpoint's role
 * in the roles file (roles.ts) and whose agent answers GET /readyz with 200. It only reads the roles file, so it
 * keeps serving while the coordinator is away. Connections to an instance that loses the role are cut at once;
 * readiness flips only affect new connections. A client that finds no target is held (MySQL servers speak
 * first, so nothing is read from it) until one appears or connectHoldMs passes.
 */
import { watch, type FSWatcher } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { probeReady } from '../../shared/net.ts';
import { readRoles, type RoleEntry } from './roles.ts';
import { writeJsonAtomic } from './state.ts';

export interface EndpointsOptions {
  rolesFile: string;
  /** Listen address; default 127.0.0.1. */
  host?: string;
  /** 0 = pick a free port. */
  primaryPort: number;
  replicaPort: number;
  /** How often each instance's /readyz is polled (timeout twice that); default 250. */
  readinessIntervalMs?: number;
  /** How often the roles file is re-read (besides fs.watch on its directory); default 200. */
  rolesPollMs?: number;
  /** How long a new client with no target waits for one before it is closed; default 2000. */
  connectHoldMs?: number;
  log?: { info(o: object, m?: string): void; warn(o: object, m?: string): void };
}

type Kind = 'primary' | 'replica';
interface Conn { kind: Kind; index: number; mysqlPort: number; client: net.Socket; upstream: net.Socket }
interface Waiter { kind: Kind; client: net.Socket; timer: NodeJS.Timeout }

const noLog = { info() {}, warn() {} };

export class EndpointsProxy {
  private readonly log: NonNullable<EndpointsOptions['log']>;
  private readonly servers: Record<Kind, net.Server>;
  /** The routing view: empty while the roles file is missing or unparsable. */
  private roles: RoleEntry[] = [];
  private rolesKey: string | undefined;
  private rolesProblem: string | undefined;
  private readonly ready = new Map<number, { httpPort: number; ok: boolean }>();
  private readonly probing = new Set<number>();
  private readonly probes = new Set<() => void>();
  private readonly conns = new Set<Conn>();
  private readonly waiters = new Set<Waiter>();
  private rr = 0;
  private reloading = false;
  private reloadAgain = false;
  private stopped = false;
  private rolesTimer: NodeJS.Timeout | undefined;
  private probeTimer: NodeJS.Timeout | undefined;
  private watcher: FSWatcher | undefined;

  constructor(private readonly o: EndpointsOptions) {
    this.log = o.log ?? noLog;
    const server = (kind: Kind) =>
      net
        .createServer({ pauseOnConnect: true }, (client) => this.accept(kind, client))
        .on('error', (err) => this.log.warn({ err, kind }, 'endpoint listener error'));
    this.servers = { primary: server('primary'), replica: server('replica') };
  }

  async start(): Promise<{ primaryPort: number; replicaPort: number }> {
    this.stopped = false;
    const host = this.o.host ?? '127.0.0.1';
    const listen = (s: net.Server, port: number) =>
      new Promise<number>((resolve, reject) => {
        s.once('error', reject).listen(port, host, () => {
          s.off('error', reject);
          resolve((s.address() as net.AddressInfo).port);
        });
      });
    let ports: { primaryPort: number; replicaPort: number };
    try {
      const [primaryPort, replicaPort] = await Promise.all([
        listen(this.servers.primary, this.o.primaryPort),
        listen(this.servers.replica, this.o.replicaPort),
      ]);
      ports = { primaryPort, replicaPort };
    } catch (err) {
      await this.stop();
      throw err;
    }
    await this.reload();
    const base = path.basename(this.o.rolesFile);
    try {
      this.watcher = watch(path.dirname(this.o.rolesFile), (_ev, f) => {
        if (!f || f.startsWith(base)) void this.reload();
      }).on('error', (err) => this.log.warn({ err }, 'watching the roles directory failed; polling only'));
    } catch (err) {
      this.log.warn({ err }, 'cannot watch the roles directory; polling only');
    }
    this.rolesTimer = setInterval(() => void this.reload(), this.o.rolesPollMs ?? 200);
    this.probeTimer = setInterval(() => this.roles.forEach((e) => this.probe(e)), this.interval);
    this.log.info({ ...ports, rolesFile: this.o.rolesFile }, 'endpoints listening');
    return ports;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.rolesTimer);
    clearInterval(this.probeTimer);
    this.watcher?.close();
    this.watcher = undefined;
    for (const cancel of this.probes) cancel();
    for (const w of this.waiters) {
      clearTimeout(w.timer);
      w.client.destroy();
    }
    this.waiters.clear();
    for (const c of this.conns) this.cut(c);
    await Promise.all(
      Object.values(this.servers).map((s) => new Promise<void>((resolve) => (s.listening ? s.close(() => resolve()) : resolve()))),
    );
  }

  snapshot(): { primary: number | undefined; replicas: number[]; connections: { primary: number; replica: number } } {
    const connections = { primary: 0, replica: 0 };
    for (const c of this.conns) connections[c.kind]++;
    return { primary: this.targets('primary')[0]?.index, replicas: this.targets('replica').map((e) => e.index), connections };
  }

  private get interval(): number {
    return this.o.readinessIntervalMs ?? 250;
  }

  /** Instances holding the role and ready, by index. */
  private targets(kind: Kind): RoleEntry[] {
    return this.roles
      .filter((e) => {
        const r = this.ready.get(e.index);
        return e.role === kind && r?.ok === true && r.httpPort === e.httpPort;
      })
      .sort((a, b) => a.index - b.index);
  }

  private pick(kind: Kind): RoleEntry | undefined {
    const t = this.targets(kind);
    return kind === 'primary' || t.length === 0 ? t[0] : t[this.rr++ % t.length];
  }

  private accept(kind: Kind, client: net.Socket): void {
    client.on('error', () => client.destroy());
    if (this.stopped) return void client.destroy();
    const target = this.pick(kind);
    if (target) return this.route(kind, client, target);
    const w: Waiter = {
      kind,
      client,
      timer: setTimeout(() => {
        this.waiters.delete(w);
        this.log.info({ kind }, 'no target within connectHoldMs; closing client');
        client.destroy();
      }, this.o.connectHoldMs ?? 2000),
    };
    this.waiters.add(w);
    client.once('close', () => {
      clearTimeout(w.timer);
      this.waiters.delete(w);
    });
  }

  /** Hands held clients to targets that appeared. */
  private drain(): void {
    for (const w of this.waiters) {
      const target = this.pick(w.kind);
      if (!target) continue;
      clearTimeout(w.timer);
      this.waiters.delete(w);
      this.route(w.kind, w.client, target);
    }
  }

  private route(kind: Kind, client: net.Socket, e: RoleEntry): void {
    const upstream = net.connect({ host: '127.0.0.1', port: e.mysqlPort });
    const c: Conn = { kind, index: e.index, mysqlPort: e.mysqlPort, client, upstream };
    this.conns.add(c);
    const end = (err?: Error) => {
      if (err && this.conns.has(c)) this.log.warn({ err, kind, index: e.index }, 'proxied connection failed');
      this.conns.delete(c);
      this.cut(c);
    };
    for (const s of [client, upstream]) s.on('error', end).on('close', () => end());
    client.pipe(upstream);
    upstream.pipe(client);
    client.resume();
  }

  private cut(c: Conn): void {
    c.client.destroy();
    c.upstream.destroy();
  }

  /** Re-reads the roles file; calls that arrive while a read runs fold into one more read. Never throws. */
  private async reload(): Promise<void> {
    if (this.reloading) {
      this.reloadAgain = true;
      return;
    }
    this.reloading = true;
    try {
      do {
        this.reloadAgain = false;
        let next: RoleEntry[] | undefined;
        let problem: string | undefined;
        let err: unknown;
        try {
          const rf = await readRoles(this.o.rolesFile);
          if (!rf) problem = 'missing';
          else if (!Array.isArray(rf.instances)) problem = 'unparsable';
          else next = rf.instances;
        } catch (e) {
          [problem, err] = ['unparsable', e];
        }
        if (this.stopped) return;
        if (problem !== this.rolesProblem) {
          if (problem) this.log.warn({ err, rolesFile: this.o.rolesFile }, `roles file ${problem}; no targets`);
          else this.log.info({ rolesFile: this.o.rolesFile }, 'roles file readable again');
          this.rolesProblem = problem;
        }
        this.apply(next);
      } while (this.reloadAgain);
    } catch (err) {
      this.log.warn({ err }, 'applying the roles file failed');
    } finally {
      this.reloading = false;
    }
  }

  private apply(next: RoleEntry[] | undefined): void {
    const key = JSON.stringify(next ?? null);
    if (key === this.rolesKey) return;
    this.rolesKey = key;
    this.roles = next ?? [];
    if (next) {
      this.log.info({ roles: next.map((e) => `${e.index}:${e.role || '-'}`).join(' ') }, 'roles changed');
      // Only a readable file can take a role away: a missing one stops new routing but cuts nothing.
      for (const c of this.conns) {
        const e = next.find((x) => x.index === c.index);
        if (e?.role === c.kind && e.mysqlPort === c.mysqlPort) continue;
        this.log.info({ kind: c.kind, index: c.index }, 'instance lost the role; closing its connection');
        this.conns.delete(c);
        this.cut(c);
      }
      for (const i of this.ready.keys()) if (!next.some((e) => e.index === i)) this.ready.delete(i);
      next.forEach((e) => this.probe(e));
    }
    this.drain();
  }

  private probe(e: RoleEntry): void {
    if (this.stopped || this.probing.has(e.index)) return;
    this.probing.add(e.index);
    const probe = probeReady(e.httpPort, this.interval * 2);
    this.probes.add(probe.cancel);
    void probe.result.then((ok) => {
      this.probing.delete(e.index);
      this.probes.delete(probe.cancel);
      if (this.stopped || !this.roles.some((x) => x.index === e.index && x.httpPort === e.httpPort)) return;
      const prev = this.ready.get(e.index);
      this.ready.set(e.index, { httpPort: e.httpPort, ok });
      if (prev?.ok === ok && prev.httpPort === e.httpPort) return;
      this.log.info({ index: e.index, ready: ok }, 'readiness changed');
      this.drain();
    });
  }
}

/** Starts the endpoints, publishes their ports, and stops them on SIGTERM/SIGINT. */
export async function runEndpoints(o: EndpointsOptions & { portsFile?: string }): Promise<EndpointsProxy> {
  const proxy = new EndpointsProxy(o);
  const { primaryPort, replicaPort } = await proxy.start();
  if (o.portsFile) await writeJsonAtomic(o.portsFile, { primary: primaryPort, replica: replicaPort, pid: process.pid });
  const onSignal = (signal: NodeJS.Signals) => {
    o.log?.info({ signal }, 'stopping endpoints');
    void proxy.stop().finally(() => process.exit(0));
  };
  process.once('SIGTERM', onSignal).once('SIGINT', onSignal);
  return proxy;
}
