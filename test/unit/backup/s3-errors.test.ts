import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { MocoError, type ErrorCode } from '../../../src/shared/errors.ts';
import { isNoSuchKey, mapS3Error } from '../../../src/backup/storage/s3-errors.ts';

const endpoint = 'http://127.0.0.1:8089';
const ctx = { bucket: 'backups', endpoint, operation: 'list' };

/** An error shaped like the SDK's: a name, a message and the HTTP status when the store answered. */
function sdkError(name: string, status?: number, message = ''): Error {
  return Object.assign(new Error(message || name), { name }, status === undefined ? {} : { $metadata: { httpStatusCode: status } });
}

function netError(code: string, message = `connect ${code} 127.0.0.1:8089`): Error {
  return Object.assign(new Error(message), { code });
}

describe('mapS3Error', () => {
  const cases: { name: string; err: unknown; operation?: string; code: ErrorCode; retryable: boolean; message: RegExp }[] = [
    {
      name: 'NoSuchBucket', err: sdkError('NoSuchBucket', 404), code: 'NOT_FOUND', retryable: false,
      message: /^bucket backups does not exist at http:\/\/127\.0\.0\.1:8089; create it or fix bucketConfig\.bucketName$/,
    },
    {
      name: 'HeadBucket of a missing bucket (a bare 404)', err: sdkError('NotFound', 404), operation: 'check',
      code: 'NOT_FOUND', retryable: false, message: /^bucket backups does not exist/,
    },
    {
      name: 'InvalidAccessKeyId', err: sdkError('InvalidAccessKeyId', 403, 'The AWS Access Key Id you provided does not exist'),
      code: 'PERMISSION_DENIED', retryable: false,
      message: /^the store at http:\/\/127\.0\.0\.1:8089 rejected the credentials \(InvalidAccessKeyId, HTTP 403: .*AWS_ACCESS_KEY_ID\/AWS_SECRET_ACCESS_KEY in jobConfig\.env/,
    },
    {
      name: 'SignatureDoesNotMatch', err: sdkError('SignatureDoesNotMatch', 403), code: 'PERMISSION_DENIED', retryable: false,
      message: /rejected the credentials \(SignatureDoesNotMatch, HTTP 403\)/,
    },
    {
      name: 'AccessDenied', err: sdkError('AccessDenied', 403), code: 'PERMISSION_DENIED', retryable: false,
      message: /rejected the credentials/,
    },
    {
      name: 'a bare 403 (HEAD has no body)', err: sdkError('Unknown', 403, 'UnknownError'), operation: 'check',
      code: 'PERMISSION_DENIED', retryable: false, message: /rejected the credentials \(HTTP 403\) during check in s3:\/\/backups/,
    },
    {
      name: 'connection refused', err: netError('ECONNREFUSED'), code: 'INTERNAL', retryable: true,
      message: /^cannot reach the object store at http:\/\/127\.0\.0\.1:8089: connect ECONNREFUSED/,
    },
    {
      name: 'unknown host', err: netError('ENOTFOUND', 'getaddrinfo ENOTFOUND s3.example'), code: 'INTERNAL', retryable: true,
      message: /^cannot reach the object store at .*ENOTFOUND s3\.example/,
    },
    {
      name: 'connect timeout', err: sdkError('TimeoutError', undefined, 'the request socket did not establish a connection'),
      code: 'INTERNAL', retryable: true, message: /^cannot reach the object store/,
    },
    {
      name: 'happy-eyeballs AggregateError', err: new AggregateError([netError('ECONNREFUSED')], ''),
      code: 'INTERNAL', retryable: true, message: /^cannot reach the object store/,
    },
    {
      name: 'untrusted certificate', err: netError('SELF_SIGNED_CERT_IN_CHAIN', 'self-signed certificate in certificate chain'),
      code: 'INTERNAL', retryable: false, message: /TLS certificate .* is not trusted .*bucketConfig\.caCert/,
    },
    {
      name: 'certificate for another host', err: netError('ERR_TLS_CERT_ALTNAME_INVALID', "Hostname/IP does not match"),
      code: 'INTERNAL', retryable: false, message: /does not name this host; fix bucketConfig\.endpointURL/,
    },
    {
      name: 'abort', err: sdkError('AbortError', undefined, 'Request aborted'), code: 'CANCELLED', retryable: false,
      message: /^list in s3:\/\/backups was cancelled$/,
    },
    {
      name: 'throttling', err: sdkError('SlowDown', 503), code: 'INTERNAL', retryable: true,
      message: /^list in s3:\/\/backups at http:\/\/127\.0\.0\.1:8089 failed: SlowDown, HTTP 503/,
    },
    { name: 'a server error', err: sdkError('InternalError', 500), code: 'INTERNAL', retryable: true, message: /HTTP 500/ },
    { name: 'a client error', err: sdkError('InvalidArgument', 400), code: 'INTERNAL', retryable: false, message: /InvalidArgument, HTTP 400/ },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const mapped = mapS3Error(c.err, { ...ctx, operation: c.operation ?? ctx.operation });
      assert.equal(mapped.code, c.code, mapped.message);
      assert.equal(mapped.retryable, c.retryable, mapped.message);
      assert.match(mapped.message, c.message);
      assert.equal(mapped.cause, c.err);
      assert.equal(mapped.details?.bucket, 'backups');
    });
  }

  it('passes MocoErrors through', () => {
    const own = new MocoError('FAILED_PRECONDITION', 'x');
    assert.equal(mapS3Error(own, ctx), own);
  });

  it('names the key for object operations', () => {
    const mapped = mapS3Error(sdkError('InternalError', 500), { ...ctx, operation: 'upload', key: 'a/b' });
    assert.match(mapped.message, /^upload of s3:\/\/backups\/a\/b at /);
    assert.equal(mapped.details?.key, 'a/b');
  });

  it('tells a missing key from a missing bucket', () => {
    assert.ok(isNoSuchKey(sdkError('NoSuchKey', 404)));
    assert.ok(isNoSuchKey(sdkError('NotFound', 404)));
    assert.ok(!isNoSuchKey(sdkError('NoSuchBucket', 404)));
    assert.ok(!isNoSuchKey(sdkError('AccessDenied', 403)));
  });
});
