import { planParallel } from '../src/parallel/plan.js';
import { AggregateProgress } from '../src/parallel/progress.js';
import { alignmentFor, DEFAULT_ALIGNMENT, MiB, splitAligned } from '../src/parallel/split.js';
import { type ServerCaps, unknownCaps } from '../src/protocol/caps.js';

describe('splitAligned', () => {
  test('every range but the last is a multiple of the alignment; ranges tile [0, size)', () => {
    for (const [size, n, a] of [
      [1024 * MiB, 4, 8 * MiB],
      [100 * MiB + 7, 4, 8 * MiB],
      [33, 4, 8],
      [10, 3, 1],
      [8 * MiB * 5, 4, 8 * MiB],
      [1, 4, 8],
    ] as const) {
      const r = splitAligned(size, n, a);
      expect(r[0]!.start).toBe(0);
      expect(r.at(-1)!.end).toBe(size);
      for (let i = 0; i < r.length; i++) {
        if (i > 0) expect(r[i]!.start).toBe(r[i - 1]!.end);
        expect(r[i]!.end).toBeGreaterThan(r[i]!.start);
        if (i < r.length - 1) expect((r[i]!.end - r[i]!.start) % a).toBe(0);
      }
      expect(r.length).toBeLessThanOrEqual(n);
    }
  });

  test('1 GiB in 4 at 8 MiB: four equal 256 MiB partials', () => {
    expect(splitAligned(1024 * MiB, 4, 8 * MiB)).toEqual([
      { start: 0, end: 256 * MiB },
      { start: 256 * MiB, end: 512 * MiB },
      { start: 512 * MiB, end: 768 * MiB },
      { start: 768 * MiB, end: 1024 * MiB },
    ]);
  });

  test('units dealt evenly: 5 units in 4 -> 2,1,1,1; the tail unit is the short one', () => {
    const r = splitAligned(4 * 8 + 3, 4, 8); // 35 bytes = 4 whole units + 3
    expect(r.map((x) => x.end - x.start)).toEqual([16, 8, 8, 3]);
  });

  test('fewer units than uploads: fewer ranges; empty file: none', () => {
    expect(splitAligned(20, 8, 8)).toHaveLength(3);
    expect(splitAligned(0, 4, 8)).toEqual([]);
  });

  test('alignment: the server part size, raised past 10,000 parts, 8 MiB when unknown', () => {
    expect(alignmentFor(1024 * MiB, 5 * MiB)).toBe(5 * MiB);
    expect(alignmentFor(1024 * MiB, null)).toBe(DEFAULT_ALIGNMENT);
    expect(alignmentFor(100_000 * MiB, 8 * MiB)).toBe(10 * MiB);
  });
});

describe('planParallel (fallback decision)', () => {
  const caps = (ext: string[], partSize: number | null = 8 * MiB): ServerCaps => ({
    ...unknownCaps(),
    known: true,
    extensions: new Set(ext),
    partSize,
  });
  const base = { parallel: 4, size: 100 * MiB, rereadable: true, caps: caps(['concatenation']) };

  test('parallel when the server concatenates and the file spans several parts', () => {
    const p = planParallel(base);
    expect(p.mode).toBe('parallel');
    if (p.mode === 'parallel') {
      expect(p.alignment).toBe(8 * MiB);
      expect(p.ranges).toHaveLength(4);
    }
  });

  test('no Tus-S3-Part-Size (another server): still parallel, aligned to 8 MiB', () => {
    const p = planParallel({ ...base, caps: caps(['concatenation'], null) });
    expect(p.mode === 'parallel' && p.alignment).toBe(8 * MiB);
  });

  test.each([
    [{ parallel: 1 }, null],
    [{ caps: caps(['creation']) }, /does not support the concatenation extension/],
    [{ caps: unknownCaps() }, /did not answer OPTIONS/],
    [{ size: null }, /size is unknown/],
    [{ rereadable: false }, /cannot be read at arbitrary offsets/],
    [{ size: 5 * MiB }, /fits in one part/],
  ] as const)('single upload: %o', (change, reason) => {
    const p = planParallel({ ...base, ...change });
    expect(p.mode).toBe('single');
    if (p.mode === 'single') {
      if (reason === null) expect(p.reason).toBeNull();
      else expect(p.reason).toMatch(reason);
    }
  });
});

describe('AggregateProgress', () => {
  test('sums partials, stays monotonic when one restarts, sent >= acknowledged', () => {
    const a = new AggregateProgress(3);
    expect(a.update(0, 10, 5)).toEqual({ bytesSent: 10, bytesAcknowledged: 5 });
    expect(a.update(1, 20, 20)).toEqual({ bytesSent: 30, bytesAcknowledged: 25 });
    // Partial 1 restarts from 0 after a 404: its counters report less; the sum holds.
    expect(a.update(1, 0, 0)).toEqual({ bytesSent: 30, bytesAcknowledged: 25 });
    expect(a.update(2, 0, 7)).toEqual({ bytesSent: 37, bytesAcknowledged: 32 });
  });
});
