// How far an upload has durably got, derived from what S3 holds: whole parts from
// part 1 on, then staged segments that continue exactly where the parts stop.
import { expectedPartLength, partStart } from '../parts/arithmetic.js';

export interface StoredPart {
  partNumber: number;
  size: number;
  etag: string;
}

export interface StoredSegment {
  key: string;
  offset: number;
  size: number;
}

/** A mark: parts from..to (inclusive) hold bytes no checksum has vouched for yet. */
export interface UnverifiedRange {
  key: string;
  from: number;
  to: number;
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
  const marked = (n: number) => unverified.some((u) => u.from <= n && n <= u.to);
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
  let offset =
    counted.length === 0
      ? 0
      : partStart(counted.length, partSize) + (counted[counted.length - 1]?.size ?? 0);

  const liveSegments: StoredSegment[] = [];
  const staleSegments: StoredSegment[] = [];
  const sorted = [...segments].sort((a, b) => a.offset - b.offset);
  for (const seg of sorted) {
    if (seg.offset === offset && seg.size > 0) {
      liveSegments.push(seg);
      offset += seg.size;
    } else {
      // Covered by a part already, or past a gap: it never counts again.
      staleSegments.push(seg);
    }
  }
  return { offset, parts: counted, liveSegments, staleSegments, unverified: [...unverified] };
}
