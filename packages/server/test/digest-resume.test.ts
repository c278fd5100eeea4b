// Where a hashed upload resumes (s3/digest/resume.ts): never past a durable hash state.
import { progressAt, resumeHashed } from '../src/s3/digest/resume.js';
import { deriveProgress, type HashState, type StoredSegment } from '../src/s3/state/progress.js';

const PS = 100;
const part = (n: number, size = PS) => ({ partNumber: n, size, etag: `e${n}` });
const seg = (offset: number, size: number, generation = 0): StoredSegment => ({
  key: `s.${offset}.${generation}`,
  offset,
  size,
  generation,
});
const hashAt = (offset: number, generation = 0): HashState => ({
  key: `h.${offset}.${generation}`,
  offset,
  generation,
  state: new Uint8Array([offset % 256, generation]),
});

async function resume(
  parts: ReturnType<typeof part>[],
  segments: StoredSegment[],
  hashes: HashState[],
  withState: (s: StoredSegment) => boolean = () => true,
) {
  const derived = deriveProgress(parts, segments, PS);
  const asked: string[] = [];
  const progress = await resumeHashed({
    derived,
    segments,
    hashes,
    segmentState: async (s) => {
      asked.push(s.key);
      return withState(s) ? new Uint8Array([s.offset + s.size, s.generation]) : undefined;
    },
  });
  return { progress, asked };
}

describe('resumeHashed', () => {
  it('keeps the derived offset when its state is there: a segment (one HEAD) or a state object (none)', async () => {
    const a = await resume([part(1)], [seg(100, 30)], [hashAt(100)]);
    expect(a.progress.offset).toBe(130);
    expect(a.progress.cutFrom).toBeUndefined();
    expect(a.asked).toEqual(['s.100.0']);
    const b = await resume([part(1), part(2)], [], [hashAt(100), hashAt(200)]);
    expect(b.progress.offset).toBe(200);
    expect(b.progress.hash).toEqual(new Uint8Array([200, 0]));
    expect(b.asked).toEqual([]);
  });

  it('cuts back to the newest state when parts landed past it (a crash before the state write)', async () => {
    // Part 2 was folded from segments 100..150 and uploaded, with part 3; no state after them.
    const { progress } = await resume(
      [part(1), part(2), part(3)],
      [seg(100, 20), seg(120, 30)],
      [hashAt(100)],
    );
    expect(progress.offset).toBe(150);
    expect(progress.cutFrom).toBe(300);
    expect(progress.parts.map((p) => p.partNumber)).toEqual([1]);
    expect(progress.liveSegments.map((s) => s.key)).toEqual(['s.100.0', 's.120.0']);
    expect(progress.hash).toEqual(new Uint8Array([150, 0]));
  });

  it('falls back to a state object when the newer segment has no state, or to 0 with none at all', async () => {
    const a = await resume([part(1), part(2)], [seg(100, 40)], [hashAt(100)], () => false);
    expect(a.progress.offset).toBe(100);
    expect(a.progress.cutFrom).toBe(200);
    const b = await resume([part(1)], [], []);
    expect(b.progress.offset).toBe(0);
    expect(b.progress.hash).toBeUndefined();
    expect(b.progress.cutFrom).toBe(100);
  });

  it('never takes a segment that is not the end of the chain at its offset', async () => {
    // Two segments end at 150: the newer generation's chain is 100..150 through seg(100, 50, 2).
    const segments = [seg(100, 20, 1), seg(120, 30, 1), seg(100, 50, 2)];
    const derived = deriveProgress([part(1)], segments, PS);
    expect(derived.offset).toBe(150);
    expect(progressAt(derived, segments, 150, segments[1])).toBeUndefined();
    expect(progressAt(derived, segments, 150, segments[2])?.liveSegments).toEqual([segments[2]]);
  });

  it('a state object stands only on a part boundary the parts reach', () => {
    const derived = deriveProgress([part(1)], [seg(100, 30)], PS);
    expect(progressAt(derived, [seg(100, 30)], 100)?.offset).toBe(100);
    expect(progressAt(derived, [seg(100, 30)], 130)).toBeUndefined();
    expect(progressAt(derived, [], 200)).toBeUndefined();
  });
});
