import {
  capacityOf,
  choosePartSize,
  expectedPartLength,
  GiB,
  MiB,
  partCount,
  partEndAt,
  partNumberAt,
  partStart,
  S3_MAX_PARTS,
  S3_MIN_PART_SIZE,
} from '../src/s3/parts/arithmetic.js';

describe('choosePartSize', () => {
  it('uses the preferred size when the upload fits in 10,000 parts', () => {
    expect(choosePartSize(1 * GiB, 8 * MiB)).toBe(8 * MiB);
    expect(choosePartSize(undefined, 16 * MiB)).toBe(16 * MiB);
  });
  it('never goes under the S3 minimum', () => {
    expect(choosePartSize(10, 1 * MiB)).toBe(S3_MIN_PART_SIZE);
  });
  it('raises the size so the upload fits in 10,000 parts', () => {
    const size = 200 * GiB;
    const ps = choosePartSize(size, 8 * MiB);
    expect(ps).toBeGreaterThan(8 * MiB);
    expect(Math.ceil(size / ps)).toBeLessThanOrEqual(S3_MAX_PARTS);
    expect(ps % MiB).toBe(0);
  });
  it('caps at 5 GiB for the largest objects', () => {
    expect(choosePartSize(5 * 1024 * GiB, 8 * MiB)).toBeLessThanOrEqual(5 * GiB);
    expect(Math.ceil((5 * 1024 * GiB) / choosePartSize(5 * 1024 * GiB))).toBeLessThanOrEqual(
      S3_MAX_PARTS,
    );
  });
});

describe('part arithmetic', () => {
  const ps = 8 * MiB;
  it('maps offsets to 1-based part numbers', () => {
    expect(partNumberAt(0, ps)).toBe(1);
    expect(partNumberAt(ps - 1, ps)).toBe(1);
    expect(partNumberAt(ps, ps)).toBe(2);
    expect(partStart(3, ps)).toBe(2 * ps);
  });
  it('counts parts and sizes the last one', () => {
    expect(partCount(0, ps)).toBe(0);
    expect(partCount(ps, ps)).toBe(1);
    expect(partCount(ps + 1, ps)).toBe(2);
    expect(expectedPartLength(2, ps, ps + 1)).toBe(1);
    expect(expectedPartLength(1, ps, ps + 1)).toBe(ps);
    expect(expectedPartLength(5, ps)).toBe(ps);
  });
  it('finds the end of the current part, bounded by the size', () => {
    expect(partEndAt(3 * MiB, ps)).toBe(ps);
    expect(partEndAt(ps, ps)).toBe(2 * ps);
    expect(partEndAt(3 * MiB, ps, 5 * MiB)).toBe(5 * MiB);
  });
  it('bounds capacity by 10,000 parts', () => {
    expect(capacityOf(ps)).toBe(ps * S3_MAX_PARTS);
  });
});
