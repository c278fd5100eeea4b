// A process-wide cap on the bytes held in part buffers, handed out in fixed-size slabs as a
// request's bytes arrive (s3/memory/part-buffer.ts), never above the limit. Without a cap,
// memory grows with the number of concurrent uploads (20 uploads of 8 MiB parts reached
// ~600 MiB); with whole part buffers taken on a request's first byte, a few silent clients
// that each sent one byte held the whole cap and froze every other upload.
//
// Slabs given back are kept for reuse and still count: slabs in use plus slabs kept never
// exceed the limit, so the cap bounds the memory this holds, not only what is in use.
//
// Who may take slabs: only a request that holds a turn (s3/memory/turns.ts), a reservation
// of what its lease may hold. Turns never reserve more than this budget, so a request with a
// turn never waits for a slab, and requests without one are not read at all: with hundreds
// of uploads at once, each taking slabs as its bytes arrived, every request held part of a
// part and waited for the next slab (hold and wait), staged what it held after SPILL_AFTER
// and waited again; 200 uploads of 32 MiB staged 8.6 segments per part and ended in 503s
// (BENCHMARKS.md, "Scale"). A turn is handed on at each part boundary while others wait, so
// uploads progress in rounds, first come, first served (s3/patch/admission.ts).
//
// Why no wait lasts forever: a slab in use is (a) in the part a request is filling, freed
// when its body ends or the idle body timeout cuts it (body/direct-body.ts), or staged when
// its holder brings no byte for TURN_IDLE while others wait for a turn, (b) on its way to
// S3, freed once the kernel has it, S3 answered or S3 failed it (s3/parts/streamed.ts; a
// request waiting on its own early part's slabs stops when that part fails), or (c) held
// under an Upload-Checksum until the request's next byte or its end. A turn is released
// once its lease holds no slab, so turns in use cover every slab in use. Slab waits remain
// where a turn cannot cover a lease (a configured budget below one lease): one that waits
// past SPILL_AFTER (s3/patch/request.ts) stages the bytes it holds, a write that needs no
// memory, gives their slabs back and waits holding none. Parts that cannot be staged mid-way
// (streaming to S3, under an Upload-Checksum) have the deadline: the request fails with 503
// and Retry-After, its bytes so far kept as for a cut request, and its slabs come back. A
// turn queue that grants nothing for the same wait fails its waiters the same way. Grants
// are in arrival order, so no request is overtaken.
import { memoryBusyError, PartTurns } from './turns.js';

export { memoryBusyError } from './turns.js';

/** Bytes of one slab: the unit of part memory. One push into a part's S3 request, too. */
export const SLAB_SIZE = 1024 * 1024;

/**
 * Default budget: 32 MiB (4 parts of the default size) among all uploads. Turns keep the
 * socket moving, so 4 parts fill the link as 8 did, at 32 MiB less RSS (BENCHMARKS.md).
 */
export const DEFAULT_PART_MEMORY = 32 * 1024 * 1024;

/**
 * How long a request waits for part memory by default before it is answered 503. Slabs come
 * back within milliseconds of a part reaching the kernel, so a wait this long means the
 * budget is held by requests that do not move; it is well under the idle body timeout, so
 * the client learns to come back before a stalled peer is cut and long before its own
 * timeouts.
 */
export const DEFAULT_MEMORY_WAIT = 10_000;

interface Waiter {
  grant: (slab: Buffer) => void;
  fail: (err: Error) => void;
  timer: NodeJS.Timeout | undefined;
}

export interface PartBudgetOptions {
  /** Bytes of slabs, in use and kept, at most (rounded down to whole slabs, at least one). */
  limit: number;
  /** Longest wait for a slab, ms (default DEFAULT_MEMORY_WAIT; 0: no deadline). */
  wait?: number;
  slabSize?: number;
}

export class PartBudget {
  readonly limit: number;
  readonly slabSize: number;
  private readonly wait: number;
  private readonly maxSlabs: number;
  private inUse = 0;
  private readonly kept: Buffer[] = [];
  private readonly queue: Waiter[] = [];
  /** Who may take slabs now (see above). */
  readonly turns: PartTurns;

  constructor(opts: PartBudgetOptions) {
    const { limit } = opts;
    if (!(limit > 0)) throw new RangeError(`part memory budget must be positive, got ${limit}`);
    this.slabSize = opts.slabSize ?? SLAB_SIZE;
    this.maxSlabs = Math.max(1, Math.floor(limit / this.slabSize));
    this.limit = this.maxSlabs * this.slabSize;
    this.wait = opts.wait ?? DEFAULT_MEMORY_WAIT;
    this.turns = new PartTurns(this.limit, this.wait);
  }

  /** Bytes of slabs in use. */
  get held(): number {
    return this.inUse * this.slabSize;
  }

  /** Bytes of slabs kept for reuse; they count against the limit too. */
  get cached(): number {
    return this.kept.length * this.slabSize;
  }

  /** Requests waiting for part memory: for a turn, or (holding one) for a slab. */
  get waiting(): number {
    return this.queue.length + this.turns.waiting;
  }

  /**
   * A slab, at once if one is free or the limit leaves room, else once one comes back.
   * Rejects with a 503 (Retry-After) when none came back within the wait.
   */
  take(): Promise<Buffer> {
    if (this.queue.length === 0) {
      const slab = this.kept.pop() ?? this.fresh();
      if (slab) {
        this.inUse++;
        this.turns.moved();
        return Promise.resolve(slab);
      }
    }
    return new Promise<Buffer>((grant, fail) => {
      const waiter: Waiter = { grant, fail, timer: undefined };
      if (this.wait > 0) {
        waiter.timer = setTimeout(() => this.expire(waiter), this.wait);
        waiter.timer.unref();
      }
      this.queue.push(waiter);
    });
  }

  /** Gives back a slab from take() that nothing references any more. */
  give(slab: Buffer): void {
    if (this.inUse === 0) throw new Error('part memory budget: a slab given back twice');
    this.turns.moved();
    const next = this.queue.shift();
    if (next) {
      // Straight to the oldest waiter: it stays in use.
      if (next.timer) clearTimeout(next.timer);
      next.grant(slab);
      return;
    }
    this.inUse--;
    this.kept.push(slab);
  }

  private fresh(): Buffer | undefined {
    if (this.inUse + this.kept.length >= this.maxSlabs) return undefined;
    return Buffer.allocUnsafeSlow(this.slabSize);
  }

  private expire(waiter: Waiter): void {
    const i = this.queue.indexOf(waiter);
    if (i < 0) return;
    this.queue.splice(i, 1);
    waiter.fail(memoryBusyError(this.wait));
  }
}

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
