/**
 * Keys, temporary names and error wording for the directory bucket ({@link FileBucket}): pure functions, so
 * that what may be written where is decided in one place.
 */
import { randomBytes } from 'node:crypto';
import { invalidArgument, MocoError, messageOf } from '../../shared/errors.ts';

/** `.<base>.partial-<12 hex>`: a write in progress (or left by a crash); never listed, never a valid key. */
const TEMP_NAME = /^\..+\.partial-[0-9a-f]{12}$/;

/** The temporary name an upload of `base` is written under before it is renamed to `base`. */
export function tempName(base: string): string {
  return `.${base}.partial-${randomBytes(6).toString('hex')}`;
}

/** True for names made by {@link tempName}. */
export function isTempName(name: string): boolean {
  return TEMP_NAME.test(name);
}

function badKey(key: string, why: string): MocoError {
  return invalidArgument(
    `object key "${key}" ${why}; keys for a directory bucket are relative paths of non-empty segments without ` +
      '"." or ".." (for example moco/ns/cluster/20240101-000000/dump.tar)',
  );
}

/**
 * The path segments of `key`. INVALID_ARGUMENT for an empty or absolute key, a trailing slash, empty, "." or
 * ".." segments, backslashes, NUL bytes or a segment that looks like a temporary name.
 */
export function checkKey(key: string): string[] {
  if (key === '') throw badKey(key, 'is empty');
  if (key.startsWith('/')) throw badKey(key, 'is absolute');
  if (key.includes('\0') || key.includes('\\')) throw badKey(key, 'contains a NUL byte or a backslash');
  const segments = key.split('/');
  for (const s of segments) {
    if (s === '') throw badKey(key, 'has an empty segment (a double or trailing slash)');
    if (s === '.' || s === '..') throw badKey(key, `has a "${s}" segment`);
    if (isTempName(s)) throw badKey(key, 'looks like a temporary upload name');
  }
  return segments;
}

/**
 * Validates a list prefix and returns the deepest directory (relative, "/"-separated, "" for the top) that
 * holds every key starting with it.
 */
export function checkPrefix(prefix: string): string {
  if (prefix.startsWith('/') || prefix.includes('\0') || prefix.includes('\\')) {
    throw invalidArgument(`list prefix "${prefix}" must be a relative key prefix (for example moco/ns/cluster/)`);
  }
  const dir = prefix.slice(0, Math.max(0, prefix.lastIndexOf('/')));
  if (dir !== '') {
    for (const s of dir.split('/')) {
      if (s === '' || s === '.' || s === '..') {
        throw invalidArgument(`list prefix "${prefix}" has an empty, "." or ".." segment`);
      }
    }
  }
  return dir;
}

/**
 * A file-system error as a MocoError naming the directory bucket: ENOENT of the directory → NOT_FOUND,
 * EACCES/EPERM/EROFS → PERMISSION_DENIED, ENOSPC/EDQUOT → INTERNAL "no space"; MocoErrors pass through.
 */
export function mapFsError(err: unknown, what: string, dir: string): MocoError {
  if (err instanceof MocoError) return err;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const name = (err as Error | undefined)?.name;
  const options = { cause: err, details: { directory: dir, code } };
  if (name === 'AbortError' || code === 'ABORT_ERR') return new MocoError('CANCELLED', `${what} was cancelled`, options);
  const path = (err as NodeJS.ErrnoException | undefined)?.path;
  if (code === 'ENOENT' && (path === undefined || path === dir)) {
    return new MocoError('NOT_FOUND', `backup directory ${dir} does not exist; create it or fix bucketConfig.bucketName`, options);
  }
  if (code === 'EACCES' || code === 'EPERM') {
    const uid = typeof process.getuid === 'function' ? ` (uid ${process.getuid()})` : '';
    return new MocoError(
      'PERMISSION_DENIED',
      `${what} failed: permission denied; make backup directory ${dir} readable and writable by this process${uid}`,
      options,
    );
  }
  if (code === 'EROFS') {
    return new MocoError('PERMISSION_DENIED', `${what} failed: backup directory ${dir} is on a read-only file system`, options);
  }
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new MocoError('INTERNAL', `${what} failed: no space left for backup directory ${dir}; free space or use a larger volume`, options);
  }
  return new MocoError('INTERNAL', `${what} failed: ${messageOf(err)}`, options);
}
