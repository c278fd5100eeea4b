// A process-wide cap on the bytes held in part buffers. Each upload needs up to
// partBuffers of them (s3/memory/buffer-pool.ts: BufferLease); without a cap, memory grows with the
// number of concurrent uploads (20 uploads of 8 MiB parts reached ~600 MiB). Past the cap
// a PATCH waits for a buffer, its request body paused, instead of failing.
//
// Why this cannot deadlock: a PATCH asks for a buffer only when it holds no other buffer
// but the parts it has already sent to S3 (s3/patch/request.ts flushes, or for a checksummed
// request sends on, its previous part first), and those come back when S3 answers,
// whatever anyone else waits for. A request larger than the whole cap is granted once
// nothing else is held, so even a part over the cap makes progress. Grants are in arrival
// order, so a large request is not starved by a stream of small ones.

interface Waiter {
  bytes: number;
  grant: () => void;
}

export class PartBudget {
  private used = 0;
  private readonly queue: Waiter[] = [];

  constructor(readonly limit: number) {
    if (!(limit > 0)) throw new RangeError(`part memory budget must be positive, got ${limit}`);
  }

  /** Bytes granted and not yet released. */
  get held(): number {
    return this.used;
  }

  /** Requests waiting for a grant. */
  get waiting(): number {
    return this.queue.length;
  }

  /** Resolves once `bytes` are granted; never rejects. */
  acquire(bytes: number): Promise<void> {
    if (this.queue.length === 0 && this.fits(bytes)) {
      this.used += bytes;
      return Promise.resolve();
    }
    return new Promise<void>((grant) => {
      this.queue.push({ bytes, grant });
    });
  }

  release(bytes: number): void {
    if (bytes > this.used) {
      throw new Error(`part memory budget: released ${bytes} bytes, only ${this.used} held`);
    }
    this.used -= bytes;
    for (let next = this.queue[0]; next && this.fits(next.bytes); next = this.queue[0]) {
      this.queue.shift();
      this.used += next.bytes;
      next.grant();
    }
  }

  private fits(bytes: number): boolean {
    return this.used === 0 || this.used + bytes <= this.limit;
  }
}

/** Default budget: 64 MiB (8 parts of the default size) among all uploads. */
export const DEFAULT_PART_MEMORY = 64 * 1024 * 1024;

/**
 * The budget a store uses: the configured one, else the default, but never less than the
 * buffers one PATCH may hold, so a lone upload runs exactly as fast as without a budget.
 */
export function partMemoryBudget(
  configured: number | undefined,
  partBuffers: number,
  partSize: number,
): number {
  if (configured !== undefined && configured > 0) return configured;
  return Math.max(DEFAULT_PART_MEMORY, partBuffers * partSize);
}
