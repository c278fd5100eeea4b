/**
 * Whether an upload runs as parallel partial uploads (tus concatenation) or as one, and
 * why not when it cannot. Pure: the upload asks, this module answers.
 */
import type { ServerCaps } from '../protocol/caps.js';
import { alignmentFor, type ByteRange, splitAligned } from './split.js';

export type ParallelPlan =
  | { mode: 'parallel'; alignment: number; ranges: ByteRange[] }
  /** `reason` is null when one upload was asked for (parallel <= 1). */
  | { mode: 'single'; reason: string | null };

export interface PlanInput {
  parallel: number;
  size: number | null;
  rereadable: boolean;
  caps: ServerCaps;
}

export function planParallel(i: PlanInput): ParallelPlan {
  if (!(i.parallel > 1)) return { mode: 'single', reason: null };
  if (i.size === null) return single('the size is unknown (deferred length)');
  if (!i.rereadable) return single('the source cannot be read at arbitrary offsets (a stream)');
  if (!i.caps.known) {
    return single('the server did not answer OPTIONS, so concatenation support is unknown');
  }
  if (!i.caps.extensions.has('concatenation')) {
    return single('the server does not support the concatenation extension');
  }
  const alignment = alignmentFor(i.size, i.caps.partSize);
  const ranges = splitAligned(i.size, i.parallel, alignment);
  if (ranges.length < 2) {
    return single(`the file fits in one part of ${alignment} bytes (the server's part size)`);
  }
  return { mode: 'parallel', alignment, ranges };
}

function single(reason: string): ParallelPlan {
  return { mode: 'single', reason };
}
