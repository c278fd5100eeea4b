// Reuses part-sized buffers under a PartBudget. Without reuse every part is a fresh
// 8+ MiB allocation that only a later GC returns, and RSS climbs with throughput; with it,
// the buffers of one size never exceed the most ever held at once, which the budget caps.
import type { PartBudget } from './part-budget.js';

/**
 * Part buffers one PATCH holds unless configured. One: the next part starts filling once the kernel
 * has every byte of the last one; meanwhile the client's bytes wait in the socket's receive buffer,
 * not in this process. A second buffer bought no speed beyond the noise and cost a part's worth of
 * RSS per PATCH (BENCHMARKS.md, "Figures behind the code's choices").
 */
export const DEFAULT_PART_BUFFERS = 1;

export interface BufferPoolOptions {
  budget: PartBudget;
  /** Smaller buffers (odd first and last parts, one-part uploads) are not kept for reuse. */
  minCachedSize?: number;
}

export class BufferPool {
  private readonly free = new Map<number, Buffer[]>();
  private readonly budget: PartBudget;
  private readonly minCachedSize: number;

  constructor(opts: BufferPoolOptions) {
    this.budget = opts.budget;
    this.minCachedSize = opts.minCachedSize ?? 0;
  }

  /** Waits until the budget grants `size` bytes, then hands out a buffer of that size. */
  async take(size: number): Promise<Buffer> {
    await this.budget.acquire(size);
    return this.free.get(size)?.pop() ?? Buffer.allocUnsafe(size);
  }

  /** Returns a buffer from take() that nothing references any more. */
  give(buf: Buffer): void {
    this.budget.release(buf.length);
    if (buf.length < this.minCachedSize) return;
    let list = this.free.get(buf.length);
    if (!list) {
      // Only a few sizes recur (the configured part sizes); forget the rarest first.
      if (this.free.size >= 4) this.free.delete(this.free.keys().next().value as number);
      list = [];
      this.free.set(buf.length, list);
    }
    // Free and held buffers of one size together stay within the budget.
    if (list.length < Math.max(1, Math.floor(this.budget.limit / buf.length))) list.push(buf);
  }

  /**
   * A set of buffers taken for one request, all returned by returnAll() at its end; it
   * holds at most `maxBuffers` at once (take() waits for one of its own to come back).
   */
  lease(maxBuffers = Number.POSITIVE_INFINITY): BufferLease {
    return new BufferLease(this, maxBuffers);
  }
}

/**
 * The buffers one PATCH holds. A buffer the request lost track of on an error path would
 * shrink the budget for good; returnAll() in the request's `finally` gives back whatever
 * is left, once nothing can still be sending it.
 */
export class BufferLease {
  private readonly out = new Set<Buffer>();
  private readonly waiters: Array<() => void> = [];

  constructor(
    private readonly pool: BufferPool,
    private readonly maxBuffers: number,
  ) {
    if (!(maxBuffers >= 1)) throw new RangeError(`a lease needs room for one buffer`);
  }

  /** Buffers taken and not yet given back. */
  get held(): number {
    return this.out.size;
  }

  /**
   * Waits until this lease holds fewer than its maximum, then takes a buffer from the pool.
   * Only the lease's own buffers can free that room: they are all on their way to S3 or
   * about to be staged, so they come back whatever this waits for.
   */
  async take(size: number): Promise<Buffer> {
    while (this.out.size >= this.maxBuffers) {
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    const buf = await this.pool.take(size);
    this.out.add(buf);
    return buf;
  }

  give(buf: Buffer): void {
    if (!this.out.delete(buf)) return;
    this.pool.give(buf);
    this.waiters.shift()?.();
  }

  returnAll(): void {
    for (const buf of this.out) this.pool.give(buf);
    this.out.clear();
    for (const wake of this.waiters.splice(0)) wake();
  }
}
