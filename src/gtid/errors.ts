/**
 * The GTID module's one error. src/gtid imports nothing of the project, so it does not use MocoError; its errors
 * carry the catalogue's code INVALID_ARGUMENT (src/shared/errors.ts) and map to gRPC like any coded error.
 */
export class GtidError extends Error {
  readonly code = 'INVALID_ARGUMENT';
  readonly details: Record<string, unknown> | undefined;
  constructor(message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GtidError';
    this.details = options.details;
  }
}

/** A GtidError: the text or the operation is not valid for the flavor. */
export const invalidArgument = (message: string, options?: { cause?: unknown; details?: Record<string, unknown> }): GtidError =>
  new GtidError(message, options);
