// Admission to part memory: a request receives a part's bytes only while it holds a turn, a
// reservation of the most its lease may hold (s3/memory/buffer-pool.ts). Turns never
// reserve more than the budget, so a request holding one never waits for a slab; the
// others are not read at all (their sockets paused: TCP holds their clients back, and
// nothing of theirs is buffered here). Without turns, every request took a slab as its
// bytes arrived, so hundreds of uploads each held part of a part and waited for the next
// slab (hold and wait), staged what they held after SPILL_AFTER and fought again.
//
// Turns are granted first come, first served (no request is overtaken), and a holder
// hands its turn on at each part boundary while others wait (s3/patch/admission.ts), so
// all uploads progress in rounds. The only deadline is for a queue that does not move: if
// for `wait` ms while requests wait no turn is granted and no holder took or gave back a
// slab (moved()), every waiter fails with 503 and Retry-After (the turns are held by
// requests that do not move; the idle body timeout cuts those). Holders that all move
// slowly are not a stall: eight turns granted at once may all end together, long after.
import { TusError } from '../../errors.js';

/** A reservation of part memory; release() is idempotent. */
export interface Turn {
  readonly bytes: number;
  release(): void;
}

interface Waiter {
  bytes: number;
  grant: (turn: Turn) => void;
  fail: (err: Error) => void;
}

export class PartTurns {
  private reservedBytes = 0;
  private readonly queue: Waiter[] = [];
  private stall: NodeJS.Timeout | undefined;

  constructor(
    /** Bytes that may be reserved at once. */
    readonly limit: number,
    /** ms without a grant, requests waiting, before they all fail (0: never). */
    private readonly wait: number,
  ) {}

  /** Requests waiting for a turn. */
  get waiting(): number {
    return this.queue.length;
  }

  /** Bytes reserved by turns not yet released. */
  get reserved(): number {
    return this.reservedBytes;
  }

  /**
   * A turn of `bytes` (at most the limit), at once if none waits and it fits, else once
   * the turns before it were granted and it fits.
   */
  enter(bytes: number): Promise<Turn> {
    const size = Math.min(Math.max(bytes, 0), this.limit);
    if (this.queue.length === 0 && this.fits(size)) return Promise.resolve(this.reserve(size));
    return new Promise<Turn>((grant, fail) => {
      this.queue.push({ bytes: size, grant, fail });
      this.armStall();
    });
  }

  private fits(bytes: number): boolean {
    return this.reservedBytes === 0 || this.reservedBytes + bytes <= this.limit;
  }

  private reserve(bytes: number): Turn {
    this.reservedBytes += bytes;
    let released = false;
    return {
      bytes,
      release: () => {
        if (released) return;
        released = true;
        this.reservedBytes -= bytes;
        this.grantWaiting();
      },
    };
  }

  private grantWaiting(): void {
    let granted = false;
    for (let head = this.queue[0]; head && this.fits(head.bytes); head = this.queue[0]) {
      this.queue.shift();
      head.grant(this.reserve(head.bytes));
      granted = true;
    }
    if (!granted) return;
    // The queue moved: the deadline starts again for those still waiting.
    this.clearStall();
    this.armStall();
  }

  /** A holder took or gave back a slab: the queue is not stuck. */
  moved(): void {
    this.stall?.refresh();
  }

  private armStall(): void {
    if (this.wait <= 0 || this.stall || this.queue.length === 0) return;
    this.stall = setTimeout(() => {
      this.stall = undefined;
      const err = memoryBusyError(this.wait);
      for (const waiter of this.queue.splice(0)) waiter.fail(err);
    }, this.wait);
    this.stall.unref();
  }

  private clearStall(): void {
    if (this.stall) clearTimeout(this.stall);
    this.stall = undefined;
  }
}

/** No part memory within the wait: the client may come back (its bytes so far are kept). */
export function memoryBusyError(waitMs: number): TusError {
  return new TusError(
    503,
    'server is out of upload memory; try again later',
    Math.max(1, Math.ceil(waitMs / 1000)),
  );
}
