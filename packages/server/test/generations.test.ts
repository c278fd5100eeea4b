// Staged objects of several lock generations: what a holder that lost its lock wrote late
// never counts against what a newer holder staged (s3/state/generations.ts, through the
// offset derivation).
import { chainSegments, splitMarks } from '../src/s3/state/generations.js';
import { deriveProgress } from '../src/s3/state/progress.js';

const ps = 10;
const part = (n: number, size = ps) => ({ partNumber: n, size, etag: `e${n}` });
const seg = (offset: number, size: number, generation: number) => ({
  key: `s${offset}.${generation}`,
  offset,
  size,
  generation,
});
const mark = (from: number, to: number, generation: number) => ({
  key: `m${from}-${to}.${generation}`,
  from,
  to,
  generation,
});

describe('chainSegments', () => {
  it('at one offset takes the newest generation, however short', () => {
    // Holder 3 staged 5 bytes at 0; holder 2 woke up and staged its 2 bytes there too.
    const late = seg(0, 2, 2);
    const newer = seg(0, 5, 3);
    const c = chainSegments([newer, late], 0);
    expect(c.live).toEqual([newer]);
    expect(c.end).toBe(5);
    expect(c.stale).toEqual([late]);
  });
  it('a late segment cannot cut the newer chain short, in any listing order', () => {
    const chain = [seg(0, 4, 5), seg(4, 3, 6)];
    const late = seg(4, 1, 4);
    for (const order of [
      [...chain, late],
      [late, ...chain],
      [chain[1], late, chain[0]],
    ]) {
      const c = chainSegments(order as typeof chain, 0);
      expect(c.end).toBe(7);
      expect(c.live.map((s) => s.generation)).toEqual([5, 6]);
    }
  });
  it('a compaction at the first segment (a newer generation) replaces the chain it combines', () => {
    const old = [seg(10, 2, 1), seg(12, 3, 1), seg(15, 1, 2)];
    const combined = seg(10, 6, 7);
    const c = chainSegments([...old, combined], 10);
    expect(c.live).toEqual([combined]);
    expect(c.end).toBe(16);
    expect(c.stale.map((s) => s.offset)).toEqual([10, 12, 15]);
    // And a segment staged after it, by the same holder, continues it.
    expect(chainSegments([...old, combined, seg(16, 4, 7)], 10).end).toBe(20);
  });
  it('generation 0 (no shared locker) behaves as before: one segment per offset', () => {
    const c = chainSegments([seg(3, 2, 0), seg(0, 3, 0), seg(9, 1, 0)], 0);
    expect(c.end).toBe(5);
    expect(c.stale.map((s) => s.offset)).toEqual([9]);
  });
  it('ignores empty segments', () => {
    expect(chainSegments([seg(0, 0, 9), seg(0, 3, 1)], 0).end).toBe(3);
  });
});

describe('splitMarks', () => {
  it('keeps a mark no newer generation got past', () => {
    // Holder 4 failed its checksum over parts 3-5; holder 5 staged a segment inside part 3.
    const m = mark(3, 5, 4);
    const s = splitMarks([m], [seg(25, 3, 5)], ps);
    expect(s.live).toEqual([m]);
    expect(s.superseded).toEqual([]);
  });
  it('supersedes a mark older than a segment staged past its parts', () => {
    // Holder 2 woke up and marked parts 2-3, which holder 3 had made count (it staged at 30).
    const late = mark(2, 3, 2);
    const s = splitMarks([late], [seg(30, 4, 3)], ps);
    expect(s.superseded).toEqual([late]);
    expect(s.live).toEqual([]);
  });
  it('supersedes a mark older than a mark from a later part, never a newer one', () => {
    const late = mark(1, 2, 2);
    const newer = mark(3, 4, 3);
    const s = splitMarks([late, newer], [], ps);
    expect(s.superseded).toEqual([late]);
    expect(s.live).toEqual([newer]);
  });
  it('a segment of the same generation past the mark supersedes nothing', () => {
    expect(splitMarks([mark(1, 1, 3)], [seg(10, 2, 3)], ps).superseded).toEqual([]);
  });
});

describe('deriveProgress across generations', () => {
  it("never falls below the newer holder's offset when a stale holder staged late", () => {
    const parts = [part(1)];
    const acked = [seg(10, 4, 8), seg(14, 2, 8)];
    expect(deriveProgress(parts, acked, ps).offset).toBe(16);
    expect(deriveProgress(parts, [...acked, seg(10, 1, 7)], ps).offset).toBe(16);
    expect(deriveProgress(parts, [seg(14, 1, 7), ...acked], ps).offset).toBe(16);
  });
  it('a late mark does not hide parts a newer holder made count', () => {
    const parts = [part(1), part(2), part(3)];
    const late = mark(2, 3, 4);
    const p = deriveProgress(parts, [seg(30, 5, 6)], ps, undefined, [late]);
    expect(p.offset).toBe(35);
    expect(p.unverified).toEqual([]);
    expect(p.supersededMarks).toEqual([late]);
    // The same mark with nothing newer past it keeps its parts out.
    expect(deriveProgress(parts, [], ps, undefined, [late]).offset).toBe(10);
  });
});
