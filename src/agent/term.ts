/**
 * Term fencing: the highest coordinator term this agent has seen (`src/shared/term.ts`), kept on disk so that it
 * survives restarts of the agent and of mysqld, and clones and restores (which swap the data directory, not its
 * parent). A state-changing call from a coordinator whose term is lower is refused, so a deposed leader that is
 * still mid-failover stops at its next call once its successor has reached this agent.
 *
 * The check and the raise are one step: JavaScript runs them without yielding in between, so of two calls with
 * terms 4 and 5 arriving together, whichever order they run in, 4 is refused once 5 has been admitted. A call
 * that raises the term waits until the new term is on disk before it acts, and until the state-changing calls of
 * older terms that were already running have finished: their effects land before its own, never after.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../shared/atomic-file.ts';
import { failedPrecondition, MocoError } from '../shared/errors.ts';
import { checkTerm, MAX_TERM } from '../shared/term.ts';

/** Where the term is kept: beside the data directory, `<dataDir>/../moco-term`. */
export function termFileFor(dataDir: string): string {
  return path.join(path.dirname(path.resolve(dataDir)), 'moco-term');
}

/** The refusal of a call from an older coordinator (FAILED_PRECONDITION: it must not retry, it must stop). */
export function staleTermError(current: number, term: number): MocoError {
  return failedPrecondition(`a newer coordinator (term ${current}) is in charge; this one (term ${term}) must stop`,
    { details: { currentTerm: current, callTerm: term } });
}

export interface TermStoreOptions {
  /** Called after a higher term is on disk (for the log and the metric). */
  onRaise?: (from: number, to: number) => void;
}

export class TermStore {
  /** The highest term admitted; raised synchronously, before it is on disk. */
  private highest: number;
  /** The highest term known to be on disk. */
  private durable: number;
  private writing: Promise<void> | undefined;
  /** State-changing calls running now, per term. */
  private readonly running = new Map<number, number>();
  private readonly drainWaiters = new Set<() => void>();

  private constructor(readonly file: string, initial: number, private readonly o: TermStoreOptions) {
    this.highest = initial;
    this.durable = initial;
  }

  /**
   * Reads the stored term (none: 0).
   *
   * @throws MocoError FAILED_PRECONDITION when the file holds anything but a term: the agent must not guess
   *   (restore the file, or remove it to accept any coordinator's term again); INTERNAL when it cannot be read.
   */
  static async open(file: string, o: TermStoreOptions = {}): Promise<TermStore> {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new TermStore(file, 0, o);
      throw new MocoError('INTERNAL', `cannot read the coordinator term from ${file}`, { cause: err });
    }
    const m = /^(\d{1,16})\n?$/.exec(text);
    if (!m || Number(m[1]) > MAX_TERM) {
      throw failedPrecondition(`${file} should hold the highest coordinator term seen, but holds ${JSON.stringify(text.slice(0, 40))}; ` +
        'restore it, or remove it to accept any coordinator\'s term again');
    }
    return new TermStore(file, Number(m[1]), o);
  }

  /** The highest term admitted so far. */
  get current(): number {
    return this.highest;
  }

  /**
   * For calls that change nothing: raises the stored term when `term` is higher (and waits until it is on disk),
   * never refuses.
   */
  async observe(term: number): Promise<void> {
    checkTerm(term);
    if (term > this.highest) this.highest = term;
    await this.makeDurable(term);
  }

  /**
   * For a state-changing call: refuses a term lower than the highest seen, raises the stored term to `term` (on
   * disk before it returns), then waits for running calls of older terms to finish. Returns the release to call
   * when the call's work is done.
   *
   * @throws MocoError FAILED_PRECONDITION ({@link staleTermError}) for an older term, also when a newer one arrived
   *   while this call waited; CANCELLED when `signal` aborts the wait; INTERNAL when the term cannot be written.
   */
  async admit(term: number, signal?: AbortSignal): Promise<() => void> {
    checkTerm(term);
    if (term < this.highest) throw staleTermError(this.highest, term);
    this.highest = term;
    await this.makeDurable(term);
    while (this.olderRunning(term)) await this.drained(signal);
    // A newer term may have been admitted while this call waited.
    if (term < this.highest) throw staleTermError(this.highest, term);
    this.running.set(term, (this.running.get(term) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const n = (this.running.get(term) ?? 1) - 1;
      if (n === 0) this.running.delete(term);
      else this.running.set(term, n);
      for (const wake of [...this.drainWaiters]) wake();
    };
  }

  private olderRunning(term: number): boolean {
    for (const t of this.running.keys()) if (t < term) return true;
    return false;
  }

  private drained(signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(new MocoError('CANCELLED', 'the call was cancelled while older coordinators\' calls finished'));
        return;
      }
      const done = (): void => {
        this.drainWaiters.delete(done);
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = (): void => {
        this.drainWaiters.delete(done);
        reject(new MocoError('CANCELLED', 'the call was cancelled while older coordinators\' calls finished'));
      };
      this.drainWaiters.add(done);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Returns once a term of at least `term` is on disk. Writes one at a time, each the highest term at its start. */
  private async makeDurable(term: number): Promise<void> {
    while (this.durable < term) {
      this.writing ??= (async () => {
        const value = this.highest;
        const from = this.durable;
        try {
          await writeFileAtomic(this.file, `${value}\n`, 0o644, true);
        } finally {
          this.writing = undefined;
        }
        if (value > this.durable) this.durable = value;
        this.o.onRaise?.(from, value);
      })();
      await this.writing;
    }
  }
}
