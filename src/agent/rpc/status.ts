/** The one place that maps project errors to gRPC status codes. */
import * as grpc from '@grpc/grpc-js';
import { isCoded, type ErrorCode } from '../../shared/errors.ts';

const CODES: Record<ErrorCode, grpc.status> = {
  INVALID_ARGUMENT: grpc.status.INVALID_ARGUMENT,
  FAILED_PRECONDITION: grpc.status.FAILED_PRECONDITION,
  BUSY: grpc.status.RESOURCE_EXHAUSTED,
  TIMEOUT: grpc.status.DEADLINE_EXCEEDED,
  MYSQLD_UNAVAILABLE: grpc.status.UNAVAILABLE,
  PERMISSION_DENIED: grpc.status.PERMISSION_DENIED,
  UNAUTHENTICATED: grpc.status.UNAUTHENTICATED,
  CANCELLED: grpc.status.CANCELLED,
  NOT_FOUND: grpc.status.NOT_FOUND,
  INTERNAL: grpc.status.INTERNAL,
};

/** A gRPC error object for `err`. Unknown errors become INTERNAL with a generic message (details are logged). */
export function toGrpcError(err: unknown): Partial<grpc.StatusObject> & Error {
  if (isCoded(err)) {
    return Object.assign(new Error(err.message), { code: CODES[err.code], details: err.message });
  }
  return Object.assign(new Error('internal error in the agent; see its log'), {
    code: grpc.status.INTERNAL, details: 'internal error in the agent; see its log',
  });
}

/** The gRPC status code name for metrics labels. */
export function codeName(code: grpc.status | undefined): string {
  return code === undefined ? 'OK' : (grpc.status[code] ?? String(code));
}
