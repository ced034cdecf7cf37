/**
 * One error catalogue for the whole project. Every error the project raises is a {@link MocoError} with a
 * stable string code; exactly one function per transport (gRPC: `src/agent/rpc/status.ts`) maps the code
 * to a status. Messages say what is wrong and what to do about it.
 */

/** The error codes, and what each means to a caller. */
export type ErrorCode =
  /** The request itself is wrong (bad host, malformed GTID set, empty credentials); nothing was changed. */
  | 'INVALID_ARGUMENT'
  /** The instance is not in a state where this request can run (a recipient holding user data, ...). */
  | 'FAILED_PRECONDITION'
  /** An exclusive operation (clone, backup) is already running; try again later. */
  | 'BUSY'
  /** A bounded wait ran out (WaitForGtid, clone boot). */
  | 'TIMEOUT'
  /** mysqld does not answer; the agent itself is fine. */
  | 'MYSQLD_UNAVAILABLE'
  /** The caller is not allowed to call this. */
  | 'PERMISSION_DENIED'
  /** The caller gave no or a wrong certificate. */
  | 'UNAUTHENTICATED'
  /** The operation was cancelled by the caller or by shutdown. */
  | 'CANCELLED'
  /** Something that was asked for does not exist. */
  | 'NOT_FOUND'
  /** Anything else: a bug or an unexpected server answer. */
  | 'INTERNAL';

export interface MocoErrorOptions {
  cause?: unknown;
  /** True when the same call may succeed later without any change by the caller. */
  retryable?: boolean;
  /** Structured context for logs (never secrets). */
  details?: Record<string, unknown>;
}

/** The project's one error base class. */
export class MocoError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: MocoErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'MocoError';
    this.code = code;
    this.retryable = options.retryable ?? (code === 'BUSY' || code === 'TIMEOUT' || code === 'MYSQLD_UNAVAILABLE');
    this.details = options.details;
  }
}

export const invalidArgument = (message: string, options?: MocoErrorOptions): MocoError =>
  new MocoError('INVALID_ARGUMENT', message, options);
export const failedPrecondition = (message: string, options?: MocoErrorOptions): MocoError =>
  new MocoError('FAILED_PRECONDITION', message, options);
export const busy = (message: string, options?: MocoErrorOptions): MocoError => new MocoError('BUSY', message, options);

/**
 * An error that carries one of the catalogue's codes: a MocoError, or the bottom modules' own errors (src/api and
 * src/gtid import nothing of the project, so they throw plain Errors with a `code` property).
 */
export type CodedError = Error & { code: ErrorCode; retryable?: boolean };

const CODES = new Set<string>(['INVALID_ARGUMENT', 'FAILED_PRECONDITION', 'BUSY', 'TIMEOUT', 'MYSQLD_UNAVAILABLE',
  'PERMISSION_DENIED', 'UNAUTHENTICATED', 'CANCELLED', 'NOT_FOUND', 'INTERNAL']);

/** True for an Error whose `code` is one of the catalogue's. */
export function isCoded(err: unknown): err is CodedError {
  return err instanceof Error && CODES.has((err as { code?: unknown }).code as string);
}

/** True if `err` carries one of the given codes (a MocoError, or a coded error of src/api or src/gtid). */
export function hasCode(err: unknown, ...codes: ErrorCode[]): err is CodedError {
  return isCoded(err) && codes.includes(err.code);
}

/** A human-readable message for anything thrown, without assuming it is an Error. */
export function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
