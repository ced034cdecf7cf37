import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  MAX_PART_SIZE, MIN_PART_SIZE, TARGET_MAX_PARTS, UNKNOWN_SIZE_PART_SIZE, partSizeFor,
} from '../../../src/backup/storage/part-size.ts';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const TiB = 1024 * GiB;

describe('partSizeFor', () => {
  const cases: { name: string; size: number | undefined; maxParts?: number; part: number }[] = [
    { name: 'unknown size', size: undefined, part: UNKNOWN_SIZE_PART_SIZE },
    { name: 'negative size is unknown', size: -1, part: UNKNOWN_SIZE_PART_SIZE },
    { name: 'NaN is unknown', size: Number.NaN, part: UNKNOWN_SIZE_PART_SIZE },
    { name: 'infinity is unknown', size: Number.POSITIVE_INFINITY, part: UNKNOWN_SIZE_PART_SIZE },
    { name: 'empty object', size: 0, part: MIN_PART_SIZE },
    { name: 'small object', size: 1000, part: MIN_PART_SIZE },
    { name: '1 GiB stays at the minimum', size: GiB, part: MIN_PART_SIZE },
    { name: 'exactly 9000 minimum parts', size: 9000 * MIN_PART_SIZE, part: MIN_PART_SIZE },
    { name: 'one byte more rounds up to the next MiB', size: 9000 * MIN_PART_SIZE + 1, part: 9 * MiB },
    { name: '100 GiB', size: 100 * GiB, part: 12 * MiB },
    { name: '1 TiB', size: TiB, part: 117 * MiB },
    { name: '5 TiB (S3 maximum object)', size: 5 * TiB, part: 583 * MiB },
    { name: 'beyond what 9000 parts of 5 GiB hold is capped', size: 100 * TiB, part: MAX_PART_SIZE },
    { name: 'a store allowing only 1000 parts (Swift default)', size: 100 * GiB, maxParts: 1000, part: 103 * MiB },
    { name: 'maxParts below 1 counts as 1', size: 100 * MiB, maxParts: 0, part: 100 * MiB },
  ];
  for (const c of cases) {
    it(c.name, () => assert.equal(partSizeFor(c.size, c.maxParts), c.part));
  }

  it('keeps every size up to 5 TiB within the part target, in whole MiB, at least the minimum', () => {
    for (let size = 0; size <= 5 * TiB; size += 7.3 * GiB + 12345) {
      const part = partSizeFor(size);
      assert.ok(part >= MIN_PART_SIZE, `${size}: ${part}`);
      assert.equal(part % MiB, 0, `${size}: ${part}`);
      assert.ok(Math.ceil(size / part) <= TARGET_MAX_PARTS, `${size}: ${part} gives ${Math.ceil(size / part)} parts`);
      // Not wastefully large: one MiB less would exceed the target (or fall below the minimum).
      if (part > MIN_PART_SIZE) assert.ok(Math.ceil(size / (part - MiB)) > TARGET_MAX_PARTS, `${size}: ${part}`);
    }
  });

  it('is at least S3 minimum part size (5 MiB)', () => assert.ok(MIN_PART_SIZE >= 5 * MiB));
});
