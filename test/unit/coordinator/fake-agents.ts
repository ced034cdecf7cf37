/**
 * Fake agents at the coordinator's own interface (AgentApi, and the status stream of the port's InstanceAgent),
 * shared by the operations and manager tests. Every call is recorded as `index.method`; statuses are whatever the
 * test set; behaviours override single methods. Time (a hung instance's deadline) follows the World's clock.
 */
import type { AgentApi, Executor, OperationEffects, OperationTimings } from '../../../src/coordinator/operations.ts';
import type { InstanceAgent } from '../../../src/coordinator/platform.ts';
import type { InstanceStatus } from '../../../src/coordinator/types.ts';
import type { StatusEvent } from '../../../src/shared/agent-client.ts';
import { systemClock, type Clock } from '../../../src/shared/clock.ts';
import { MocoError } from '../../../src/shared/errors.ts';
import { addressOf } from './builders.ts';

type Method = keyof AgentApi;

export interface Call {
  /** Agent index, or -1 for the platform. */
  index: number;
  method: string;
  args: unknown[];
}

export interface Event {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

/** Per-instance behaviour overrides; anything not given answers at once with "nothing changed". */
export type Behaviour = Partial<{ [M in Method]: (...args: Parameters<AgentApi[M]>) => ReturnType<AgentApi[M]> }>;

interface Stream {
  onEvent: (e: StatusEvent) => void;
  onEnd: (err: MocoError | undefined) => void;
  open: boolean;
}

export class World {
  readonly calls: Call[] = [];
  readonly events: Event[] = [];
  readonly writable: number[] = [];
  primaryIndex: number | undefined;
  readonly statuses = new Map<number, InstanceStatus>();
  readonly behaviour = new Map<number, Behaviour>();
  /** Open status streams, by instance. */
  readonly streams = new Map<number, Stream>();
  /** How many times each instance's status stream was opened. */
  readonly watchOpens = new Map<number, number>();
  clock: Clock = systemClock;

  constructor(readonly timings: OperationTimings = { readOnlyWaitMs: 50, gtidWaitMs: 777, fenceSettleMs: 5, cloneBootSeconds: 42 }) {}

  /** Calls recorded as `index.method` (agents) or `platform.method`. */
  log(): string[] {
    return this.calls.map((c) => `${c.index < 0 ? 'platform' : c.index}.${c.method}`);
  }

  on(index: number, b: Behaviour): this {
    this.behaviour.set(index, { ...this.behaviour.get(index), ...b });
    return this;
  }

  /** Instance `index`'s mysqld hangs: status reads get no answer and fail at their deadline (TIMEOUT), on the clock. */
  hang(index: number): this {
    return this.on(index, {
      getStatus: (o) => new Promise((_, reject) => {
        this.clock.setTimer(() => reject(new MocoError('TIMEOUT', `GetStatus on instance ${index}: deadline exceeded`)), o?.timeoutMs ?? 10_000);
      }),
    });
  }

  /** Sends a status event on instance `index`'s stream (its current status unless given). */
  emit(index: number, st: InstanceStatus | null = this.statuses.get(index) ?? null): void {
    const s = this.streams.get(index);
    if (s?.open) s.onEvent({ status: st } as StatusEvent);
  }

  /** Ends instance `index`'s status stream, as a dead agent's would end. */
  endStream(index: number, err: MocoError | undefined = new MocoError('MYSQLD_UNAVAILABLE', 'stream closed')): void {
    const s = this.streams.get(index);
    if (!s?.open) return;
    s.open = false;
    s.onEnd(err);
  }

  callsOf(index: number, method?: string): Call[] {
    return this.calls.filter((c) => c.index === index && (method === undefined || c.method === method));
  }

  reasons(): string[] {
    return this.events.map((e) => e.reason);
  }

  agent(index: number): InstanceAgent {
    const record = (method: string, args: unknown[]): void => {
      this.calls.push({ index, method, args });
    };
    const b = (): Behaviour => this.behaviour.get(index) ?? {};
    return {
      getStatus: async (o) => {
        record('getStatus', [o]);
        if (b().getStatus) return b().getStatus!(o);
        const s = this.statuses.get(index);
        if (!s) throw new MocoError('MYSQLD_UNAVAILABLE', `instance ${index} does not answer`);
        return s;
      },
      configurePrimary: async (n) => {
        record('configurePrimary', [n]);
        return b().configurePrimary?.(n) ?? { changed: true, effectiveWaitCount: n };
      },
      configureReplica: async (req) => {
        record('configureReplica', [req]);
        return b().configureReplica?.(req) ?? { changed: true };
      },
      stopReplicaIO: async () => {
        record('stopReplicaIO', []);
        return b().stopReplicaIO?.() ?? { changed: true };
      },
      waitForGtid: async (set, ms) => {
        record('waitForGtid', [set, ms]);
        return b().waitForGtid?.(set, ms) ?? { waitedMs: 1 };
      },
      setReadOnly: async (o) => {
        record('setReadOnly', [o]);
        return b().setReadOnly?.(o) ?? { changed: true };
      },
      setWritable: async () => {
        record('setWritable', []);
        return b().setWritable?.() ?? { changed: true };
      },
      killConnections: async () => {
        record('killConnections', []);
        return b().killConnections?.() ?? { killed: 0 };
      },
      clone: async (req) => {
        record('clone', [req]);
        return b().clone?.(req) ?? { durationMs: 5 };
      },
      watchStatus: (onEvent, onEnd) => {
        const s: Stream = { onEvent, onEnd, open: true };
        this.streams.set(index, s);
        this.watchOpens.set(index, (this.watchOpens.get(index) ?? 0) + 1);
        return () => {
          s.open = false;
        };
      },
    };
  }

  platform(): OperationEffects {
    const record = (method: string, args: unknown[]): void => {
      this.calls.push({ index: -1, method, args });
    };
    return {
      publishRoles: async (roles) => record('publishRoles', [roles]),
      setPrimaryIndex: async (index, why) => {
        record('setPrimaryIndex', [index, why]);
        this.primaryIndex = index;
      },
      clearSwitchoverRequest: async () => record('clearSwitchoverRequest', []),
      event: (type, reason, message) => {
        record('event', [reason]);
        this.events.push({ type, reason, message });
      },
      recordSemiSyncAcks: async (acks) => record('recordSemiSyncAcks', [acks]),
    };
  }

  executor(): Executor {
    return {
      agents: (i) => this.agent(i), addresses: (i) => addressOf(i), platform: this.platform(), timings: this.timings,
      onWritable: (i) => this.writable.push(i), external: () => undefined, passwords: async () => ({}),
    };
  }
}
