// Which staged objects count when holders of different lock generations wrote them. A
// holder paused past its lease may wake after a newer holder (a greater generation,
// locks/fence.ts) took the upload over, and write what it meant to write before: a
// segment at an offset the newer holder staged too, or a mark over parts the newer holder
// made count. Its keys carry its generation (s3/keys.ts), so nothing it writes replaces
// the newer holder's objects; these rules keep its late objects from counting.
import { partStart } from '../parts/arithmetic.js';

/** What the rules read of a segment (s3/state/progress.ts: StoredSegment). */
export interface Staged {
  offset: number;
  size: number;
  generation: number;
}

/** What the rules read of a mark (s3/state/progress.ts: UnverifiedRange). */
export interface Mark {
  from: number;
  to: number;
  generation: number;
}

export interface SegmentChain<S extends Staged> {
  /** Segments that continue `from` without a gap, in offset order. */
  live: S[];
  /** Everything else: covered by parts, past a gap, or beaten at its offset. */
  stale: S[];
  /** Where the chain ends. */
  end: number;
}

/**
 * The segments continuing `from`: at each offset the one of the newest generation. A
 * holder stages at an offset only what continues what it derived, so two segments at one
 * offset mean the older one's holder did not see the newer (it wrote late), or the newer
 * combines the older with what follows (a compaction, written at the first segment's
 * offset). Either way the newer is right.
 */
export function chainSegments<S extends Staged>(
  segments: readonly S[],
  from: number,
): SegmentChain<S> {
  const atOffset = new Map<number, S>();
  for (const seg of segments) {
    if (seg.size <= 0) continue;
    const there = atOffset.get(seg.offset);
    if (!there || seg.generation > there.generation) atOffset.set(seg.offset, seg);
  }
  const live: S[] = [];
  let end = from;
  for (let seg = atOffset.get(end); seg; seg = atOffset.get(end)) {
    live.push(seg);
    end += seg.size;
  }
  const counted = new Set(live);
  const stale = segments
    .filter((s) => !counted.has(s))
    .sort((a, b) => a.offset - b.offset || a.generation - b.generation);
  return { live, stale, end };
}

export interface MarkSplit<M extends Mark> {
  /** Marks whose parts must not count. */
  live: M[];
  /** Marks a newer generation showed to be late: they never count and may go. */
  superseded: M[];
}

/**
 * A mark of generation g over parts from..to is superseded when an object of a newer
 * generation starts past part `to` (a segment at or after the part's end, or a mark from a
 * later part): that holder's offset was past those parts, so when it derived, either they
 * counted (no mark was over them, so this one was written later) or it rewrote them itself
 * and its request got that far only with their bytes durable and vouched for.
 */
export function splitMarks<M extends Mark>(
  marks: readonly M[],
  segments: readonly Staged[],
  partSize: number,
): MarkSplit<M> {
  const starts = [
    ...segments.map((s) => ({ generation: s.generation, at: s.offset })),
    ...marks.map((m) => ({ generation: m.generation, at: partStart(m.from, partSize) })),
  ];
  const out: MarkSplit<M> = { live: [], superseded: [] };
  for (const m of marks) {
    const past = partStart(m.to + 1, partSize);
    const late = starts.some((x) => x.generation > m.generation && x.at >= past);
    (late ? out.superseded : out.live).push(m);
  }
  return out;
}
