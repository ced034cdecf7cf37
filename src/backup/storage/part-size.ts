/**
 * Multipart part sizes: a pure function of the expected object size. S3 allows at most 10,000 parts of at most
 * 5 GiB each; every part is buffered in memory (times the upload's queue size), so parts are as small as the
 * part limit allows, never below {@link MIN_PART_SIZE}.
 */

const MiB = 1024 * 1024;

/** The smallest part size used (S3's own minimum is 5 MiB). */
export const MIN_PART_SIZE = 8 * MiB;

/** S3's largest part (5 GiB). */
export const MAX_PART_SIZE = 5 * 1024 * MiB;

/**
 * The part count the size is chosen for: S3 allows 10,000; the rest is headroom for a body that turns out
 * larger than expected (a dump's size is an estimate).
 */
export const TARGET_MAX_PARTS = 9000;

/**
 * The part size when the size is not known: 32 MiB allows objects up to 312 GiB at 10,000 parts while
 * buffering about 100 MiB with three parts in flight.
 */
export const UNKNOWN_SIZE_PART_SIZE = 32 * MiB;

/**
 * The part size, in bytes, for an object of about `expectedSize` bytes: the smallest multiple of 1 MiB, at
 * least {@link MIN_PART_SIZE}, that keeps the object within `maxParts` parts, capped at {@link MAX_PART_SIZE}.
 * `expectedSize` undefined, not finite or negative means unknown ({@link UNKNOWN_SIZE_PART_SIZE}).
 */
export function partSizeFor(expectedSize: number | undefined, maxParts: number = TARGET_MAX_PARTS): number {
  if (expectedSize === undefined || !Number.isFinite(expectedSize) || expectedSize < 0) return UNKNOWN_SIZE_PART_SIZE;
  const parts = Math.max(1, Math.floor(maxParts));
  const needed = Math.ceil(Math.ceil(expectedSize / parts) / MiB) * MiB;
  return Math.min(MAX_PART_SIZE, Math.max(MIN_PART_SIZE, needed));
}
