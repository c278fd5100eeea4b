// The compaction policy (s3/staging/compaction.ts): when staged segments merge, which ones,
// and what that costs over a long run of PATCHes of various sizes.
import { MAX_LIVE_SEGMENTS, planCompaction, segmentBytes } from '../src/s3/staging/compaction.js';
import type { StoredSegment } from '../src/s3/state/progress.js';

/** Contiguous segments of these sizes from offset 0. */
function segs(...sizes: number[]): StoredSegment[] {
  let offset = 0;
  return sizes.map((size) => {
    const seg = { key: `k${offset}`, offset, size, generation: 0 };
    offset += size;
    return seg;
  });
}

/**
 * Stages tails of the given sizes one after another as the cutter does; returns the most
 * live segments ever held and the bytes rewritten by merges per byte staged.
 */
function simulate(tails: number[], max = MAX_LIVE_SEGMENTS) {
  let live: StoredSegment[] = [];
  let end = 0;
  let peak = 0;
  let rewritten = 0;
  for (const tail of tails) {
    const merge = planCompaction(live, tail, max);
    if (merge) {
      const first = merge[0] as StoredSegment;
      rewritten += segmentBytes(merge);
      const merged = {
        key: first.key,
        offset: first.offset,
        size: segmentBytes(merge) + tail,
        generation: 0,
      };
      live = [...live.slice(0, live.length - merge.length), merged];
    } else {
      live = [...live, { key: `k${end}`, offset: end, size: tail, generation: 0 }];
    }
    end += tail;
    peak = Math.max(peak, live.length);
    // The segments stay contiguous from 0 and hold every byte staged.
    expect(live[0]?.offset).toBe(0);
    expect(segmentBytes(live)).toBe(end);
  }
  return { peak, amplification: rewritten / end };
}

describe('planCompaction', () => {
  it('stages a tail on its own while the count stays within the maximum', () => {
    expect(planCompaction([], 1)).toBeUndefined();
    expect(planCompaction(segs(...new Array(MAX_LIVE_SEGMENTS - 1).fill(1)), 1)).toBeUndefined();
  });

  it('merges every segment when all are as small as the tail', () => {
    const live = segs(...new Array(MAX_LIVE_SEGMENTS).fill(1));
    expect(planCompaction(live, 1)).toEqual(live);
  });

  it('leaves a large old segment alone and merges the small newer ones', () => {
    const live = segs(1000, 1, 1, 1);
    expect(planCompaction(live, 1, 4)).toEqual(live.slice(1));
  });

  it('merges from the first segment no larger than everything newer', () => {
    // 100 > 10+5+3+2, while 10 <= 5+3+2.
    const live = segs(100, 10, 5, 3);
    expect(planCompaction(live, 2, 4)).toEqual(live.slice(1));
  });

  it('merges at least the newest segment with the tail when each outweighs all newer', () => {
    const live = segs(64, 16, 4, 2);
    expect(planCompaction(live, 1, 4)).toEqual(live.slice(3));
  });

  it('refuses a maximum that leaves no room to merge', () => {
    expect(() => planCompaction(segs(1), 1, 1)).toThrow(RangeError);
  });

  it('keeps at most the maximum over 20,000 one-byte tails, rewriting each byte a few times', () => {
    const { peak, amplification } = simulate(new Array(20_000).fill(1));
    expect(peak).toBeLessThanOrEqual(MAX_LIVE_SEGMENTS);
    // A merge at least doubles what holds a byte: log2(20,000 / 16) is about 10.3.
    expect(amplification).toBeLessThan(Math.log2(20_000 / MAX_LIVE_SEGMENTS));
  });

  it('keeps at most the maximum over tails of random sizes', () => {
    let seed = 7;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const tails = Array.from({ length: 5000 }, () => 1 + Math.floor(rand() ** 3 * 64 * 1024));
    const { peak, amplification } = simulate(tails);
    expect(peak).toBeLessThanOrEqual(MAX_LIVE_SEGMENTS);
    expect(amplification).toBeLessThan(8);
  });

  it('keeps at most the maximum over growing and shrinking tails', () => {
    const tails = Array.from({ length: 3000 }, (_, i) => 2 ** (i % 20));
    const { peak } = simulate(tails);
    expect(peak).toBeLessThanOrEqual(MAX_LIVE_SEGMENTS);
  });
});
