/**
 * The API module's one error: input that does not follow the MySQLCluster / BackupPolicy rules. It carries the
 * same string code the rest of the project uses for bad arguments, so callers map it without importing this module.
 */
export class ApiError extends Error {
  readonly code = 'INVALID_ARGUMENT';
  constructor(message: string) {
    super(message);
    this.name = 'ApiError';
  }
}

/** An ApiError with `message`. */
export const invalid = (message: string): ApiError => new ApiError(message);
