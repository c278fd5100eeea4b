// When the segments staged for the part being filled are merged, and which of them: pure
// policy (the I/O is s3/staging/segments.ts's, the order of writes s3/patch/part-cutter.ts's).
// Without it every PATCH that ends mid-part leaves one more segment, so a client sending
// one-byte PATCHes leaves one object per byte, all read back when the part fills.
import type { StoredSegment } from '../state/progress.js';

/**
 * Most live segments an upload keeps. Staging a tail past it merges some of them with the
 * tail into one segment, so an upload lists at most this many segments (plus, briefly, the
 * ones a merge superseded, and its few marks and pending parts): well under the 64 staged
 * objects issue 20 allows, and few enough that reading them back when the part fills is a
 * handful of GETs. Smaller merges more often: every merge rewrites bytes already staged.
 */
export const MAX_LIVE_SEGMENTS = 16;

/**
 * The newest live segments to merge with a tail of `tailSize` bytes about to be staged
 * (a suffix of `live`, at least two objects with the tail), or undefined when the tail is
 * staged on its own.
 *
 * Which: from the oldest, the first segment no larger than everything newer (the tail
 * included), and all after it. What holds a byte then at least doubles at each merge it
 * takes part in (the fallback below aside), so a byte is rewritten at most about
 * log2(bytes staged / max) times rather than once per merge, and a large old segment is left alone while small newer ones merge
 * among themselves. If no segment qualifies (each outweighs all newer
 * ones), the newest one merges with the tail, so the count never passes `max`.
 */
export function planCompaction(
  live: readonly StoredSegment[],
  tailSize: number,
  max: number = MAX_LIVE_SEGMENTS,
): StoredSegment[] | undefined {
  if (max < 2) throw new RangeError('a merge needs room for two segments');
  if (live.length + 1 <= max || live.length === 0) return undefined;
  // newer[i]: bytes of every segment after live[i], and the tail.
  const newer: number[] = new Array(live.length);
  let sum = tailSize;
  for (let i = live.length - 1; i >= 0; i--) {
    newer[i] = sum;
    sum += live[i]?.size ?? 0;
  }
  let from = live.length - 1;
  for (let i = 0; i < live.length; i++) {
    if ((live[i]?.size ?? 0) <= (newer[i] ?? 0)) {
      from = i;
      break;
    }
  }
  return live.slice(from);
}

/** Bytes of `segs` together. */
export function segmentBytes(segs: readonly StoredSegment[]): number {
  let n = 0;
  for (const s of segs) n += s.size;
  return n;
}
