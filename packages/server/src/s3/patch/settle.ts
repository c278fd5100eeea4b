// Once a request's parts are durable: the parts it wrote contiguously from its first hold
// good bytes, so marks over them (its own, or older ones) shrink, and from here on those
// parts count, so the segments folded into them stop counting on their own.
import type { StoreContext } from '../context.js';
import type { UnverifiedMarks } from '../staging/marks.js';
import type { SegmentStaging } from '../staging/segments.js';
import type { StoredSegment, UnverifiedRange } from '../state/progress.js';

export interface SettlePlan {
  /** The request's parts, contiguous from its first, count from here on. */
  counts: boolean;
  /** Marks to settle through S3, up to part `upTo`: some mark covers it. */
  settle?: { marks: UnverifiedRange[]; upTo: number };
  /** The marks after the request, unless settled. */
  unverified: UnverifiedRange[];
}

export function planSettle(
  firstPart: number,
  written: ReadonlySet<number>,
  mark: UnverifiedRange | undefined,
  unverified: UnverifiedRange[],
): SettlePlan {
  let upTo = firstPart - 1;
  while (written.has(upTo + 1)) upTo++;
  if (upTo < firstPart) {
    return { counts: false, unverified: mark ? [...unverified, mark] : unverified };
  }
  // Its own mark spans only the parts it actually wrote.
  const own = mark ? [{ ...mark, to: Math.max(mark.from, ...written) }] : [];
  const marks = [...unverified, ...own];
  const settle = marks.some((m) => m.from <= upTo) ? { marks, upTo } : undefined;
  return { counts: true, settle, unverified };
}

export interface SettleDeps {
  ctx: StoreContext;
  marks: UnverifiedMarks;
  segments: SegmentStaging;
}

/** Carries out `plan`; returns the upload's marks after it. */
export async function settle(
  deps: SettleDeps,
  id: string,
  plan: SettlePlan,
  folded: readonly StoredSegment[],
): Promise<UnverifiedRange[]> {
  let { unverified } = plan;
  const { fence } = deps.ctx;
  if (plan.settle) {
    unverified = await deps.marks.settle(id, plan.settle.marks, plan.settle.upTo, fence);
  }
  if (plan.counts) {
    // A holder that lost its lock deletes nothing: the segments may be its successor's chain.
    fence.assertHeld();
    await deleteSegmentsQuietly(deps, folded);
  }
  return unverified;
}

async function deleteSegmentsQuietly(
  deps: SettleDeps,
  segs: readonly StoredSegment[],
): Promise<void> {
  if (segs.length === 0) return;
  // A segment that outlives its part is ignored by offset derivation; losing the
  // delete only leaves garbage for completion or termination to clear.
  await deps.segments.delete(segs).catch((err: unknown) => {
    deps.ctx.log.warn({ err }, 'could not delete staged segments');
  });
}
