/** A tiny async mutex, and a single-flight flag that fails fast instead of queueing. */
import { busy } from './errors.ts';

export class Mutex {
  private tail: Promise<void> = Promise.resolve();

  /** Runs `fn` after every earlier holder has finished. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    const prev = this.tail;
    let release!: () => void;
    this.tail = new Promise<void>((r) => (release = r));
    await prev;
    try {
      return await fn();
    } finally {
      release();
    }
  }
}

export class SingleFlight {
  private running = false;
  constructor(private readonly what: string) {}

  get busy(): boolean {
    return this.running;
  }

  /** Runs `fn` unless another run is in progress, in which case it throws BUSY at once. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.running) throw busy(`another ${this.what} is in progress; try again when it has finished`);
    this.running = true;
    try {
      return await fn();
    } finally {
      this.running = false;
    }
  }
}
