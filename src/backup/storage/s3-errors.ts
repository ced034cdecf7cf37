/**
 * Turns AWS SDK errors into {@link MocoError}s whose messages name the bucket and the endpoint and say what to
 * fix. Messages never contain credentials: only the error's name, its HTTP status and the server's message.
 */
import { MocoError, messageOf } from '../../shared/errors.ts';

/** What the failed call was about, for the message. */
export interface S3ErrorContext {
  bucket: string;
  /** The endpoint as the user configured it (or AWS's default). */
  endpoint: string;
  /** The operation, e.g. "upload", "list". */
  operation: string;
  key?: string;
}

interface SdkErrorShape {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number; attempts?: number };
}

const credentialErrors = new Set([
  'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'AccessDenied', 'Forbidden', 'InvalidToken', 'ExpiredToken',
  'InvalidSecurity', 'AuthorizationHeaderMalformed',
]);

/** Node/SDK error codes meaning the store could not be reached at all (or stopped answering). */
const unreachableCodes = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE',
  'ECONNABORTED', 'EADDRNOTAVAIL', 'UND_ERR_SOCKET',
]);

const unreachableNames = new Set(['TimeoutError', 'RequestTimeout', 'NetworkingError']);

/** Node's codes for a server certificate that does not verify against the trusted CAs. */
const untrustedCertCodes = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_UNTRUSTED', 'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID', 'CERT_SIGNATURE_FAILURE', 'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** Error names that say nothing (a response without a body). */
const vagueNames = new Set(['Error', 'Unknown', 'UnknownError']);

/** The HTTP status of an SDK error, when the store answered at all. */
export function httpStatusOf(err: unknown): number | undefined {
  return (err as SdkErrorShape | undefined)?.$metadata?.httpStatusCode;
}

/** True for the SDK's and Node's abort errors. */
export function isAbortError(err: unknown): boolean {
  const e = err as SdkErrorShape | undefined;
  return e?.name === 'AbortError' || e?.code === 'ABORT_ERR';
}

/** True when the error says the bucket does not exist (HeadBucket answers a bare 404). */
export function isNoSuchBucket(err: unknown, operation?: string): boolean {
  const e = err as SdkErrorShape | undefined;
  if (e?.name === 'NoSuchBucket') return true;
  return operation === 'check' && httpStatusOf(err) === 404;
}

/** True when the error says the key does not exist. */
export function isNoSuchKey(err: unknown): boolean {
  const e = err as SdkErrorShape | undefined;
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || (httpStatusOf(err) === 404 && e?.name !== 'NoSuchBucket');
}

function unreachable(err: unknown): boolean {
  const e = err as SdkErrorShape | undefined;
  if (!e) return false;
  if (httpStatusOf(err) !== undefined) return false;
  if ((e.code && unreachableCodes.has(e.code)) || (e.name && (unreachableCodes.has(e.name) || unreachableNames.has(e.name)))) {
    return true;
  }
  // AggregateError from happy-eyeballs connects: look at the first inner error.
  const inner = (err as { errors?: unknown[] }).errors?.[0];
  return inner !== undefined && unreachable(inner);
}

function reason(err: unknown): string {
  const e = err as SdkErrorShape | undefined;
  const status = httpStatusOf(err);
  const parts = [e?.name && !vagueNames.has(e.name) ? e.name : undefined, status ? `HTTP ${status}` : undefined];
  const label = parts.filter(Boolean).join(', ');
  const msg = messageOf(err);
  const detail = msg && msg !== e?.name && !vagueNames.has(msg) ? msg : '';
  return [label, detail].filter(Boolean).join(': ') || 'unknown error';
}

/**
 * Maps an SDK (or network) error from `operation` to a MocoError; MocoErrors pass through unchanged.
 * NoSuchBucket (and a bare 404 from HeadBucket) → NOT_FOUND; rejected credentials or 403 → PERMISSION_DENIED;
 * no connection, DNS failure or timeout → INTERNAL "cannot reach" (retryable); an untrusted TLS certificate →
 * INTERNAL naming bucketConfig.caCert (not retryable); abort → CANCELLED;
 * 5xx and throttling → INTERNAL (retryable); anything else → INTERNAL.
 */
export function mapS3Error(err: unknown, ctx: S3ErrorContext): MocoError {
  if (err instanceof MocoError) return err;
  const details: Record<string, unknown> = { bucket: ctx.bucket, endpoint: ctx.endpoint, operation: ctx.operation };
  if (ctx.key !== undefined) details.key = ctx.key;
  const status = httpStatusOf(err);
  if (status !== undefined) details.httpStatus = status;
  const name = (err as SdkErrorShape | undefined)?.name;
  const opts = { cause: err, details };
  const what = ctx.key === undefined ? `${ctx.operation} in s3://${ctx.bucket}` : `${ctx.operation} of s3://${ctx.bucket}/${ctx.key}`;

  if (isAbortError(err)) return new MocoError('CANCELLED', `${what} was cancelled`, opts);
  if (isNoSuchBucket(err, ctx.operation)) {
    return new MocoError(
      'NOT_FOUND',
      `bucket ${ctx.bucket} does not exist at ${ctx.endpoint}; create it or fix bucketConfig.bucketName`,
      opts,
    );
  }
  if ((name && credentialErrors.has(name)) || status === 403 || status === 401) {
    return new MocoError(
      'PERMISSION_DENIED',
      `the store at ${ctx.endpoint} rejected the credentials (${reason(err)}) during ${what}; ` +
        'check AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY in jobConfig.env (and that they may use this bucket)',
      opts,
    );
  }
  const code = (err as SdkErrorShape | undefined)?.code;
  if (code && untrustedCertCodes.has(code)) {
    const fix = code === 'ERR_TLS_CERT_ALTNAME_INVALID'
      ? 'its certificate does not name this host; fix bucketConfig.endpointURL or the certificate'
      : 'set bucketConfig.caCert to the CA bundle (PEM) that signed its certificate';
    return new MocoError('INTERNAL', `the TLS certificate of the object store at ${ctx.endpoint} is not trusted (${code}: ` +
      `${messageOf(err)}); ${fix}`, { ...opts, retryable: false });
  }
  if (name === 'NoSuchKey') return new MocoError('NOT_FOUND', `object s3://${ctx.bucket}/${ctx.key ?? ''} does not exist`, opts);
  if (unreachable(err)) {
    return new MocoError(
      'INTERNAL',
      `cannot reach the object store at ${ctx.endpoint}: ${reason(err)} (during ${what}); ` +
        'check bucketConfig.endpointURL and that the store is up',
      { ...opts, retryable: true },
    );
  }
  const retryable = (status !== undefined && status >= 500) || name === 'SlowDown' || name === 'ThrottlingException';
  return new MocoError('INTERNAL', `${what} at ${ctx.endpoint} failed: ${reason(err)}`, { ...opts, retryable });
}
