/**
 * The coordinator's writes of its own status fields (platform.ts STATUS_FIELDS). Changes are written only when a
 * field differs from the stored status, one patch at a time and in order, against the version last read. A
 * change computed before an operation (the state Failed) is held back briefly and merged with the operation's
 * own write (the new primary's index), so that the commit point of a failover costs one write, not two; it is
 * written on its own after `deferMs`, at the end of the cycle, or with the next write that cannot wait.
 *
 * Conflicts: when another writer moved the version, the status is read again; if only the other writer's fields
 * moved (a backup result), the same patch is retried on top; if the coordinator's own fields moved (another
 * coordinator), the write fails, and so does every later write of the cycle (they assumed it was stored).
 */
import { initialStatus, type ClusterStatus } from '../api/types.ts';
import type { Clock, Timer } from '../shared/clock.ts';
import { MocoError } from '../shared/errors.ts';
import { retry } from '../shared/retry.ts';
import { applyStatusPatch, isStatusConflict, ownedChanges, sameOwnedFields, type StatusPatch, type StatusStore } from './platform.ts';

type Patch = StatusPatch<'coordinator'>;

interface Batch {
  patch: Patch;
  done: Promise<boolean>;
  resolve: (stored: boolean) => void;
}

export class CoordinatorStatusWriter {
  private current: ClusterStatus = initialStatus();
  private version = '';
  private pending: Batch | undefined;
  private timer: Timer | undefined;
  private chain: Promise<void> = Promise.resolve();
  private failure: unknown;

  constructor(private readonly store: StatusStore, private readonly clock: Clock, private readonly deferMs = 300) {}

  /** The status as last read or written (the coordinator's changes not yet written excluded). */
  get stored(): ClusterStatus {
    return this.current;
  }

  /** Reads the status again (at the start of every cycle, after the previous cycle's writes). */
  async refresh(): Promise<void> {
    const { status, version } = await this.store.readStatus();
    this.current = status;
    this.version = version;
  }

  /** A new cycle: the previous cycle's failure no longer blocks writes. */
  beginCycle(): void {
    this.failure = undefined;
  }

  /**
   * Writes the coordinator's fields of `next` that differ from the status (soon: see the file comment). Resolves
   * with whether they are stored (a failure also surfaces in settle()).
   */
  update(next: ClusterStatus): Promise<boolean> {
    const base = this.pending ? applyStatusPatch(this.current, this.pending.patch) : this.current;
    const changes = ownedChanges('coordinator', base, next);
    if (!changes) return this.pending ? this.pending.done : this.chain.then(() => this.failure === undefined);
    const batch = this.merge(changes);
    this.timer ??= this.clock.setTimer(() => {
      this.timer = undefined;
      void this.flush();
    }, this.deferMs);
    return batch.done;
  }

  /** Writes `patch` now, with any change held back; throws when it could not be stored. */
  async write(patch: Patch): Promise<void> {
    this.merge(patch);
    if (!await this.flush()) throw this.failure;
  }

  /** Writes what is held back and waits for every write; throws the cycle's first failure. */
  async settle(): Promise<void> {
    await this.flush();
    await this.chain;
    if (this.failure !== undefined) throw this.failure;
  }

  private merge(patch: Patch): Batch {
    if (!this.pending) {
      let resolve!: (stored: boolean) => void;
      const done = new Promise<boolean>((r) => { resolve = r; });
      this.pending = { patch: {}, done, resolve };
    }
    Object.assign(this.pending.patch, patch);
    return this.pending;
  }

  private flush(): Promise<boolean> {
    this.timer?.cancel();
    this.timer = undefined;
    const batch = this.pending;
    this.pending = undefined;
    if (!batch) return this.chain.then(() => this.failure === undefined);
    const run = async (): Promise<void> => {
      if (this.failure !== undefined) throw this.failure;
      try {
        await this.patchWithRetry(batch.patch);
      } catch (err) {
        this.failure ??= err;
        throw err;
      }
    };
    const p = this.chain.then(run);
    this.chain = p.catch(() => undefined);
    p.then(() => batch.resolve(true), () => batch.resolve(false));
    return batch.done;
  }

  private async patchWithRetry(patch: Patch): Promise<void> {
    const basis = this.current;
    await retry(async () => {
      try {
        this.version = await this.store.patchStatus('coordinator', patch, this.version);
        this.current = applyStatusPatch(this.current, patch);
      } catch (err) {
        if (!isStatusConflict(err)) throw err;
        await this.refresh();
        if (!sameOwnedFields('coordinator', this.current, basis)) {
          throw new MocoError('FAILED_PRECONDITION', 'another writer changed the clustering fields of the status; observing again', { cause: err, retryable: false });
        }
        throw err;
      }
    }, { backoff: { initialMs: 5, maxMs: 100, jitter: 0.5 }, attempts: 10, retryable: isStatusConflict, clock: this.clock });
  }
}
