// How far an upload has durably got, derived from what S3 holds: whole parts from
// part 1 on, then staged segments that continue exactly where the parts stop (of several
// lock generations, the rules of s3/state/generations.ts).
import { expectedPartLength, partStart } from '../parts/arithmetic.js';
import { chainSegments, splitMarks } from './generations.js';

export interface StoredPart {
  partNumber: number;
  size: number;
  etag: string;
}

export interface StoredSegment {
  key: string;
  offset: number;
  size: number;
  /** Of the lock its writer held (locks/fence.ts; 0: no shared locker). */
  generation: number;
}

/** A mark: parts from..to (inclusive) hold bytes no checksum has vouched for yet. */
export interface UnverifiedRange {
  key: string;
  from: number;
  to: number;
  /** Of the lock its writer held (locks/fence.ts; 0: no shared locker). */
  generation: number;
}

/** A saved SHA-256 state after `offset` bytes, kept as an object of its own (s3/keys.ts). */
export interface HashState {
  key: string;
  offset: number;
  generation: number;
  state: Uint8Array;
}

export interface Progress {
  /** Bytes durably received, counted from 0 without a gap. */
  offset: number;
  /** Parts 1..n that count toward the offset, in order. */
  parts: StoredPart[];
  /** Segments that continue the parts, in offset order. */
  liveSegments: StoredSegment[];
  /** Segments already folded into a part (or otherwise unreachable): safe to delete. */
  staleSegments: StoredSegment[];
  /** Marks of unverified parts; a request that rewrites those parts settles them. */
  unverified: UnverifiedRange[];
  /** Marks a newer lock generation superseded (s3/state/generations.ts): never count. */
  supersededMarks?: UnverifiedRange[];
  /**
   * The running SHA-256 state after `offset` bytes, when the upload is hashed (s3/digest/);
   * undefined at offset 0 or when not hashed.
   */
  hash?: Uint8Array;
  /** Hash state objects written so far, deleted in batches (s3/digest/state.ts). */
  hashObjects?: HashState[];
  /**
   * The offset was cut back to the last durable hash state: objects past it are left from
   * writes no 204 acknowledged, and the next PATCH deletes them before it writes.
   */
  cutFrom?: number;
}

export function deriveProgress(
  parts: readonly StoredPart[],
  segments: readonly StoredSegment[],
  partSize: number,
  size?: number,
  unverified: readonly UnverifiedRange[] = [],
): Progress {
  const byNumber = new Map(parts.map((p) => [p.partNumber, p]));
  const counted: StoredPart[] = [];
  const marks = splitMarks(unverified, segments, partSize);
  const marked = (n: number) => marks.live.some((u) => u.from <= n && n <= u.to);
  for (let n = 1; ; n++) {
    const part = byNumber.get(n);
    // A part under a mark may hold bytes that failed (or never reached) verification.
    if (!part || marked(n)) break;
    const want = expectedPartLength(n, partSize, size);
    if (want <= 0 || part.size !== want) break;
    counted.push(part);
    // A short part can only be the last one of a known-size upload.
    if (part.size < partSize) break;
  }
  const partsEnd =
    counted.length === 0
      ? 0
      : partStart(counted.length, partSize) + (counted[counted.length - 1]?.size ?? 0);
  const chain = chainSegments(segments, partsEnd);
  return {
    offset: chain.end,
    parts: counted,
    liveSegments: chain.live,
    staleSegments: chain.stale,
    unverified: marks.live,
    ...(marks.superseded.length > 0 ? { supersededMarks: marks.superseded } : {}),
  };
}
