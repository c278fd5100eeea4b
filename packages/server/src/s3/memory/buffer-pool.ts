// The slabs one PATCH holds (s3/memory/part-budget.ts hands them out). A slab the request
// lost track of on an error path would shrink the budget for good; returnAll() in the
// request's `finally` gives back whatever is left, once nothing can still be sending it.
import type { PartBudget } from './part-budget.js';

/**
 * Part buffers one PATCH holds unless configured. One: the next part starts filling once the kernel
 * has every byte of the last one; meanwhile the client's bytes wait in the socket's receive buffer,
 * not in this process. A second buffer bought no speed beyond the noise and cost a part's worth of
 * RSS per PATCH (BENCHMARKS.md, "Figures behind the code's choices").
 */
export const DEFAULT_PART_BUFFERS = 1;

/**
 * The most of a part larger than the whole budget one PATCH holds (per part buffer): such a
 * part streams early, its slabs a window that moves as the kernel takes them, and this keeps
 * one fast client from taking the whole budget with it. The default part's size: what an
 * ordinary upload holds anyway.
 */
export const OVER_BUDGET_WINDOW = 8 * 1024 * 1024;

/** Bytes of slabs a PATCH into an upload of `partSize` parts may hold at once. */
export function leaseBytes(partSize: number, partBuffers: number, budget: PartBudget): number {
  const perPart = partSize > budget.limit ? Math.min(budget.limit, OVER_BUDGET_WINDOW) : partSize;
  return partBuffers * perPart;
}

export class BufferLease {
  private readonly out = new Set<Buffer>();
  private readonly waiters: Array<() => void> = [];
  /** Called once the lease holds no slab (turns.ts: a turn is released then). */
  private readonly onEmpty: Array<() => void> = [];
  /** Set by returnAll(): the request is over, and so is every take(). */
  private closed = false;
  private readonly maxSlabs: number;

  /** Holds at most `maxBytes` of slabs at once (rounded up to a whole slab). */
  constructor(
    readonly budget: PartBudget,
    maxBytes = Number.POSITIVE_INFINITY,
  ) {
    if (!(maxBytes >= 1)) throw new RangeError('a lease needs room for one slab');
    this.maxSlabs = Math.ceil(maxBytes / budget.slabSize);
  }

  /** The most this lease holds at once (whole slabs). */
  get maxBytes(): number {
    return this.maxSlabs * this.budget.slabSize;
  }

  /** Slabs taken and not yet given back. */
  get held(): number {
    return this.out.size;
  }

  /**
   * Waits until this lease holds fewer than its maximum, then takes a slab from the budget
   * (which may fail with 503 after its wait). Only the lease's own slabs can free that room:
   * they are all on their way to S3 or about to be staged, so they come back, or the part
   * that holds them failed, which ends the wait (s3/patch/request.ts: growPart). Once the
   * lease is returned, every take() fails and gives back what the budget grants it late.
   */
  async take(): Promise<Buffer> {
    while (this.out.size >= this.maxSlabs && !this.closed) {
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    if (this.closed) throw new Error('part memory lease already returned');
    const slab = await this.budget.take();
    if (this.closed) {
      // The request ended while this waited: nothing would ever give the slab back.
      this.budget.give(slab);
      throw new Error('part memory lease already returned');
    }
    this.out.add(slab);
    return slab;
  }

  give(slab: Buffer): void {
    if (!this.out.delete(slab)) return;
    this.budget.give(slab);
    this.waiters.shift()?.();
    if (this.out.size === 0) this.emptied();
  }

  returnAll(): void {
    this.closed = true;
    for (const slab of this.out) this.budget.give(slab);
    this.out.clear();
    for (const wake of this.waiters.splice(0)) wake();
    this.emptied();
  }

  /** Runs `fn` once this lease holds no slab: now, if it holds none. */
  whenEmpty(fn: () => void): void {
    if (this.out.size === 0) fn();
    else this.onEmpty.push(fn);
  }

  private emptied(): void {
    for (const fn of this.onEmpty.splice(0)) fn();
  }
}
