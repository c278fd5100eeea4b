import { chooseFinalPartSize, planFinal } from '../src/s3/concat/plan.js';
import { DEFAULT_PART_SIZE, GiB, MiB, S3_MAX_PARTS, TiB } from '../src/s3/parts/arithmetic.js';

const copies = (sizes: number[], ps: number) =>
  planFinal(sizes, ps).filter((p) => p.pieces.length === 1).length;

describe('chooseFinalPartSize', () => {
  it('keeps the preferred size when the partials are multiples of it', () => {
    expect(chooseFinalPartSize([16 * MiB, 24 * MiB, 3], 8 * MiB)).toBe(8 * MiB);
    expect(chooseFinalPartSize([8 * MiB, 8 * MiB, 8 * MiB, 100])).toBe(DEFAULT_PART_SIZE);
  });
  it('finds a divisor of equal unaligned partials (tus-js-client splits 200 MiB in 4)', () => {
    const ps = chooseFinalPartSize([50 * MiB, 50 * MiB, 50 * MiB, 50 * MiB], 8 * MiB);
    expect((50 * MiB) % ps).toBe(0);
    expect(ps).toBeGreaterThanOrEqual(5 * MiB);
    expect(copies([50 * MiB, 50 * MiB, 50 * MiB, 50 * MiB], ps)).toBe(200 / (ps / MiB));
  });
  it('uses a whole odd-sized partial as the part size when nothing smaller divides it', () => {
    const odd = 7 * MiB + 1; // 7340033 = 7 * 1048576 + 1, prime factors all < 5 MiB but itself
    const ps = chooseFinalPartSize([odd, odd, 10]);
    expect(odd % ps).toBe(0);
    expect(ps).toBeGreaterThanOrEqual(5 * MiB);
  });
  it('falls back to the usual size when a partial is under the 5 MiB minimum', () => {
    expect(chooseFinalPartSize([MiB, 3 * MiB, 2 * MiB], 8 * MiB)).toBe(8 * MiB);
  });
  it('never goes over 5 GiB per part, and stays within 10,000 parts', () => {
    const big = 6 * GiB;
    const ps = chooseFinalPartSize([big, big, 1], 8 * MiB);
    expect(ps).toBeLessThanOrEqual(5 * GiB);
    expect(big % ps).toBe(0);
    const huge = 2 * TiB;
    const hps = chooseFinalPartSize([huge, huge, huge], 8 * MiB);
    expect(Math.ceil((3 * huge) / hps)).toBeLessThanOrEqual(S3_MAX_PARTS);
    expect(huge % hps).toBe(0);
  });
  it('a single partial needs no alignment', () => {
    expect(chooseFinalPartSize([123 * MiB + 5], 8 * MiB)).toBe(8 * MiB);
  });
});

describe('planFinal', () => {
  it('maps each part to partial ranges in order, covering every byte once', () => {
    const sizes = [6, 0, 3, 7];
    const plan = planFinal(sizes, 5);
    expect(plan.map((p) => p.size)).toEqual([5, 5, 5, 1]);
    expect(plan[0]?.pieces).toEqual([{ source: 0, start: 0, end: 5 }]);
    expect(plan[1]?.pieces).toEqual([
      { source: 0, start: 5, end: 6 },
      { source: 2, start: 0, end: 3 },
      { source: 3, start: 0, end: 1 },
    ]);
    expect(plan[2]?.pieces).toEqual([{ source: 3, start: 1, end: 6 }]);
    expect(plan[3]?.pieces).toEqual([{ source: 3, start: 6, end: 7 }]);
  });
  it('copies every part of aligned partials', () => {
    const plan = planFinal([10, 20, 7], 10);
    expect(plan.every((p) => p.pieces.length === 1)).toBe(true);
    expect(plan).toHaveLength(4);
  });
  it('is empty for an empty total', () => {
    expect(planFinal([0, 0], 5)).toEqual([]);
  });
});
