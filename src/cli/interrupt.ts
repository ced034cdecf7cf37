/**
 * Ctrl-C, a closed terminal and `kill`: SIGINT, SIGHUP and SIGTERM all mean "stop" to a long-running command. The
 * first one aborts `signal`; the command then cleans up (stops what it started) and exits. Further signals while
 * it does only say that it is still stopping: leaving half a cluster running is worse than waiting a little.
 */
import type { Io } from './common.ts';

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

export interface Interrupt {
  readonly signal: AbortSignal;
  readonly interrupted: boolean;
  /** What interrupted, for messages ("SIGINT (Ctrl-C)"). */
  readonly reason: string | undefined;
  /** Throws an InterruptedError when interrupted. */
  throwIfInterrupted(): void;
  /** Removes the handlers (the default behaviour of the signals returns). */
  dispose(): void;
}

export class InterruptedError extends Error {
  constructor(readonly why: string) {
    super(`interrupted by ${why}`);
    this.name = 'InterruptedError';
  }
}

const names: Record<string, string> = { SIGINT: 'SIGINT (Ctrl-C)', SIGHUP: 'SIGHUP (terminal closed)', SIGTERM: 'SIGTERM' };

export function interruptSignal(io: Io): Interrupt {
  const ac = new AbortController();
  let reason: string | undefined;
  let lastNotice = 0;
  const handler = (sig: NodeJS.Signals): void => {
    if (!ac.signal.aborted) {
      reason = names[sig] ?? sig;
      ac.abort(new InterruptedError(reason));
      return;
    }
    // npm forwards the terminal's SIGINT to its child, so one Ctrl-C may arrive twice: say it once a second at most.
    if (Date.now() - lastNotice > 1000) {
      lastNotice = Date.now();
      io.out('still stopping; please wait (mysqld shuts down cleanly, which can take up to a minute)');
    }
  };
  for (const s of SIGNALS) process.on(s, handler);
  return {
    signal: ac.signal,
    get interrupted() { return ac.signal.aborted; },
    get reason() { return reason; },
    throwIfInterrupted() {
      if (ac.signal.aborted) throw ac.signal.reason as Error;
    },
    dispose() {
      for (const s of SIGNALS) process.removeListener(s, handler);
    },
  };
}
