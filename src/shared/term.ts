/**
 * The coordinator's term: which coordinator is in charge. On Kubernetes it is the controller's leader Lease's
 * `leaseTransitions`, which grows with every hand-over; local clusters have one coordinator and use 0. Every call
 * a coordinator makes carries its term as gRPC metadata, and an agent refuses a state-changing call whose term is
 * lower than the highest it has seen (`src/agent/term.ts`): a deposed leader that is still mid-failover cannot act
 * any more once its successor has called the agent.
 */
import { invalidArgument } from './errors.ts';

/** The gRPC metadata key that carries the term (decimal text). A call without it counts as term 0. */
export const TERM_METADATA_KEY = 'moco-term';

/** The largest term: integers above it lose precision in a JavaScript number. */
export const MAX_TERM = Number.MAX_SAFE_INTEGER;

/** Throws unless `term` is an integer 0 ... {@link MAX_TERM}. */
export function checkTerm(term: number, what = 'a term'): number {
  if (!Number.isSafeInteger(term) || term < 0) {
    throw invalidArgument(`${what} must be an integer from 0 to ${MAX_TERM}, got ${String(term)}`);
  }
  return term;
}

/**
 * The term of a call from its metadata values for {@link TERM_METADATA_KEY} (`metadata.get(key)`): none is 0.
 *
 * @throws MocoError INVALID_ARGUMENT for more than one value or anything but decimal digits within {@link MAX_TERM}.
 */
export function termFromMetadata(values: readonly (string | Buffer)[]): number {
  if (values.length === 0) return 0;
  const text = values.length === 1 ? String(values[0]) : '';
  if (!/^\d{1,16}$/.test(text) || Number(text) > MAX_TERM) {
    throw invalidArgument(`the ${TERM_METADATA_KEY} metadata must be one decimal integer from 0 to ${MAX_TERM}, ` +
      `got ${values.map((v) => JSON.stringify(String(v))).join(', ')}`);
  }
  return Number(text);
}
