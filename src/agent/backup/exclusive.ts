/** One heavy data operation at a time per instance: a backup, a restore or a clone. */
import { busy } from '../../shared/errors.ts';
import type { Agent } from '../agent.ts';

const running = new WeakMap<Agent, string>();

/** Marks `what` as running on this agent; BUSY when a backup, restore or clone already runs. */
export function acquireExclusive(agent: Agent, what: string): () => void {
  const current = running.get(agent);
  if (current !== undefined) throw busy(`${current} is running on this instance; try again when it has finished`);
  running.set(agent, what);
  return () => {
    if (running.get(agent) === what) running.delete(agent);
  };
}
