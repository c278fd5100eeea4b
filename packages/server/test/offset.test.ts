import { deriveProgress } from '../src/s3/state/progress.js';

const ps = 10;
const part = (n: number, size = ps) => ({ partNumber: n, size, etag: `e${n}` });
const seg = (offset: number, size: number) => ({ key: `s${offset}`, offset, size, generation: 0 });

describe('deriveProgress', () => {
  it('is zero for nothing stored', () => {
    expect(deriveProgress([], [], ps).offset).toBe(0);
  });
  it('counts contiguous whole parts only', () => {
    const p = deriveProgress([part(1), part(2), part(4)], [], ps);
    expect(p.offset).toBe(20);
    expect(p.parts.map((x) => x.partNumber)).toEqual([1, 2]);
  });
  it('stops at a part of the wrong size', () => {
    expect(deriveProgress([part(1), part(2, 7), part(3)], [], ps).offset).toBe(10);
  });
  it('accepts a short last part only when it ends the declared size', () => {
    expect(deriveProgress([part(1), part(2, 5)], [], ps, 15).offset).toBe(15);
    expect(deriveProgress([part(1), part(2, 5)], [], ps, 25).offset).toBe(10);
    expect(deriveProgress([part(1), part(2, 5)], [], ps).offset).toBe(10);
  });
  it('adds segments that continue the parts', () => {
    const p = deriveProgress([part(1)], [seg(13, 4), seg(10, 3)], ps);
    expect(p.offset).toBe(17);
    expect(p.liveSegments.map((s) => s.offset)).toEqual([10, 13]);
    expect(p.staleSegments).toEqual([]);
  });
  it('marks segments folded into a part as stale', () => {
    const p = deriveProgress([part(1), part(2)], [seg(10, 3), seg(13, 4), seg(20, 2)], ps);
    expect(p.offset).toBe(22);
    expect(p.staleSegments.map((s) => s.offset)).toEqual([10, 13]);
    expect(p.liveSegments.map((s) => s.offset)).toEqual([20]);
  });
  it('never counts a segment past a gap', () => {
    const p = deriveProgress([part(1)], [seg(10, 2), seg(15, 3)], ps);
    expect(p.offset).toBe(12);
    expect(p.staleSegments.map((s) => s.offset)).toEqual([15]);
  });
  it('ignores segments while part 1 is missing but counts segments from 0', () => {
    expect(deriveProgress([part(2)], [seg(0, 4)], ps).offset).toBe(4);
  });
});

describe('deriveProgress with unverified marks', () => {
  const mark = (from: number, to: number) => ({ key: `m${from}`, from, to, generation: 0 });
  it('stops counting at the first marked part, segments continue the counted parts', () => {
    const p = deriveProgress([part(1), part(2), part(3)], [seg(10, 4)], ps, undefined, [
      mark(2, 3),
    ]);
    expect(p.offset).toBe(14);
    expect(p.parts.map((x) => x.partNumber)).toEqual([1]);
    expect(p.liveSegments.map((s) => s.offset)).toEqual([10]);
    expect(p.unverified).toEqual([mark(2, 3)]);
  });
  it('ignores marks past the stored parts', () => {
    expect(deriveProgress([part(1), part(2)], [], ps, undefined, [mark(3, 9)]).offset).toBe(20);
  });
  it('a mark over part 1 leaves only segments from 0', () => {
    expect(deriveProgress([part(1)], [seg(0, 3)], ps, undefined, [mark(1, 1)]).offset).toBe(3);
  });
});
