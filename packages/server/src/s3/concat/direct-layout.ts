// Whether a final upload can take its unfinished partials "direct" (pure): each partial
// then writes its parts straight into the final's multipart upload, at part numbers
// shifted by the parts of the partials before it, so the final needs no byte copied.
// That holds only when every partial boundary is a part boundary of one part size, and
// no partial has bytes elsewhere yet.
import { partCount, S3_MAX_OBJECT_SIZE, S3_MAX_PARTS } from '../parts/arithmetic.js';

export interface PartialFacts {
  id: string;
  /** Declared length; undefined while deferred. */
  size: number | undefined;
  partSize: number;
  /** Bytes it holds so far. */
  offset: number;
  /** Already adopted by a final (this one or another). */
  adoptedBy: string | undefined;
}

export interface DirectLayout {
  partSize: number;
  size: number;
  /** The final's part number of each partial's part 1. */
  firstParts: number[];
}

/** The layout, or why there is none (a one-line reason for a 400). */
export function directLayout(partials: readonly PartialFacts[]): DirectLayout | string {
  const first = partials[0];
  if (!first) return 'a final upload needs at least one partial upload';
  const partSize = first.partSize;
  const firstParts: number[] = [];
  let next = 1;
  let size = 0;
  for (const [i, p] of partials.entries()) {
    if (p.adoptedBy !== undefined) {
      return `partial upload ${p.id} already belongs to final upload ${p.adoptedBy}`;
    }
    if (p.size === undefined) return `partial upload ${p.id} has a deferred length`;
    if (p.size === 0) return `partial upload ${p.id} is empty`;
    if (p.offset !== 0) return `partial upload ${p.id} already has ${p.offset} bytes`;
    if (p.partSize !== partSize) {
      return `partial upload ${p.id} has part size ${p.partSize}, not ${partSize}`;
    }
    if (i < partials.length - 1 && p.size % partSize !== 0) {
      return `partial upload ${p.id} (${p.size} bytes) is not a multiple of the part size ${partSize}`;
    }
    firstParts.push(next);
    next += partCount(p.size, partSize);
    size += p.size;
  }
  if (next - 1 > S3_MAX_PARTS) return `the partial uploads need more than ${S3_MAX_PARTS} parts`;
  if (size > S3_MAX_OBJECT_SIZE) return 'the partial uploads exceed the S3 object limit of 5 TiB';
  return { partSize, size, firstParts };
}
