/** Clone progress as status and metrics report it; one clone at a time. */
import { busy } from '../../shared/errors.ts';
import type { AgentMetrics } from '../metrics.ts';

export type CloneState = '' | 'in_progress' | 'completed' | 'failed';

export interface CloneSnapshot {
  state: CloneState;
  phase: string;
  bytesTransferred: string;
  startedAtMs: number;
  finishedAtMs: number;
  error: string;
  donor: string;
}

export class CloneTracker {
  private s: CloneSnapshot = { state: '', phase: '', bytesTransferred: '0', startedAtMs: 0, finishedAtMs: 0, error: '', donor: '' };
  private bytes = 0;

  constructor(private readonly metrics: AgentMetrics) {}

  snapshot(): CloneSnapshot {
    return { ...this.s, bytesTransferred: String(this.bytes) };
  }

  /** Marks a clone as started; BUSY when one is already running. */
  begin(donor: string): void {
    if (this.s.state === 'in_progress') throw busy('another clone is in progress on this instance; try again when it has finished');
    this.bytes = 0;
    this.s = { state: 'in_progress', phase: 'starting', bytesTransferred: '0', startedAtMs: Date.now(), finishedAtMs: 0, error: '', donor };
    this.metrics.cloneCount.inc();
    this.metrics.cloneInProgress.set(1);
    this.metrics.cloneBytes.set(0);
  }

  phase(phase: string): void {
    this.s.phase = phase;
  }

  addBytes(n: number): void {
    this.bytes += n;
    this.metrics.cloneBytes.set(this.bytes);
  }

  get bytesTransferred(): number {
    return this.bytes;
  }

  succeed(): number {
    const now = Date.now();
    this.s = { ...this.s, state: 'completed', phase: 'done', finishedAtMs: now };
    this.metrics.cloneInProgress.set(0);
    this.metrics.cloneDuration.observe((now - this.s.startedAtMs) / 1000);
    return now - this.s.startedAtMs;
  }

  fail(err: unknown): void {
    this.s = { ...this.s, state: 'failed', finishedAtMs: Date.now(), error: err instanceof Error ? err.message : String(err) };
    this.metrics.cloneInProgress.set(0);
    this.metrics.cloneFailureCount.inc();
  }
}
