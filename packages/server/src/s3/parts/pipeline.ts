// A bounded set of concurrent part uploads: the request body keeps flowing into the
// next part while earlier ones upload. It bounds S3 requests, not memory: the part
// buffers one request holds are bounded by its BufferLease (s3/memory/buffer-pool.ts).

/**
 * Part uploads in flight per PATCH unless configured: lib-storage's default too, and where one
 * PATCH caught up with it (BENCHMARKS.md, "Figures behind the code's choices"). With buffers freed
 * once the kernel has a part, depth costs no part memory.
 */
export const DEFAULT_QUEUE_SIZE = 4;

export class PartPipeline {
  private readonly running = new Set<Promise<void>>();
  private failure: { error: unknown } | undefined;

  constructor(private readonly limit: number) {}

  get failed(): boolean {
    return this.failure !== undefined;
  }

  /** Waits for a free slot, then starts `task`. Throws the first failure of any task. */
  async add(task: () => Promise<void>): Promise<void> {
    while (this.running.size >= this.limit) await Promise.race(this.running);
    this.throwIfFailed();
    const p: Promise<void> = task()
      .catch((error: unknown) => {
        this.failure ??= { error };
      })
      .finally(() => this.running.delete(p));
    this.running.add(p);
  }

  /**
   * Waits until one more task could start. A part that streams to S3 while it fills is in
   * flight from its first byte, so its slot is taken before its buffer is.
   */
  async room(): Promise<void> {
    while (this.running.size >= this.limit) await Promise.race(this.running);
    this.throwIfFailed();
  }

  /** Waits for every started task; throws the first failure. */
  async drain(): Promise<void> {
    while (this.running.size > 0) await Promise.all(this.running);
    this.throwIfFailed();
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure.error;
  }
}
