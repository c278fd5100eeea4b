// One request's turn at part memory (s3/memory/turns.ts): taken before the request opens a
// part or takes a slab, its body left unread while it waits; handed on at a part boundary
// while others wait (request.ts), so every upload progresses in rounds; and given back by a
// holder that brings no byte for TURN_IDLE while others wait, once it staged what it holds.
// A turn is released only when the request's lease holds no slab, so the turns in use
// always cover the slabs in use and a request holding one never waits for a slab.
import type { HoldableBody } from '../../body/direct-body.js';
import type { BufferLease } from '../memory/buffer-pool.js';
import type { PartTurns, Turn } from '../memory/turns.js';

/**
 * How long a turn holder may bring no byte while others wait before it gives the turn
 * back (ms). A client that sends keeps bytes arriving far more often; one that stalls this
 * long holds a share of part memory others could use, and every stalled holder ahead in
 * the queue delays an ordinary upload by this much again.
 */
export const TURN_IDLE = 500;

export class RequestTurn {
  private turn: Turn | undefined;
  private watch: NodeJS.Timeout | undefined;
  /** When the last chunk arrived (performance.now()). */
  private lastChunk = 0;
  /** The watch interrupted the body's wait: the holder is silent (request.ts gives back). */
  silent = false;

  constructor(
    private readonly turns: PartTurns,
    private readonly lease: BufferLease,
    /** The body, when it can be left unread and its wait interrupted. */
    private readonly body: HoldableBody | undefined,
  ) {}

  get held(): boolean {
    return this.turn !== undefined;
  }

  /** Whether other requests wait for a turn. */
  get othersWait(): boolean {
    return this.turns.waiting > 0;
  }

  /**
   * Holds a turn once this resolves; the body is not read meanwhile. May fail with 503.
   * `remaining`: the bytes the request may still bring; a short body reserves only the
   * slabs those can take (one more: they may straddle a part boundary).
   */
  async take(remaining: number): Promise<void> {
    if (this.turn) return;
    this.body?.hold();
    const slab = this.lease.budget.slabSize;
    const bytes = Math.min(this.lease.maxBytes, (Math.ceil(remaining / slab) + 1) * slab);
    this.turn = await this.turns.enter(bytes);
    this.silent = false;
    this.arm();
  }

  /** A chunk arrived: the holder is not silent. */
  noteChunk(): void {
    this.lastChunk = performance.now();
  }

  /** The turn goes back once this request's lease holds no slab. */
  drop(): void {
    const turn = this.turn;
    if (!turn) return;
    this.turn = undefined;
    this.silent = false;
    if (this.watch) clearTimeout(this.watch);
    this.watch = undefined;
    this.lease.whenEmpty(() => turn.release());
  }

  /** The holder stays silent but keeps its turn (it cannot give back what it holds). */
  keep(): void {
    this.silent = false;
    this.arm();
  }

  /** Checks, TURN_IDLE after the last chunk, whether the holder brought another; only while it holds a turn. */
  private arm(): void {
    const { body } = this;
    if (!body || !this.turn) return;
    // Silence is counted from the turn's start, or the last chunk if later.
    this.lastChunk = performance.now();
    if (this.watch) clearTimeout(this.watch);
    const check = () => {
      const quiet = performance.now() - this.lastChunk;
      if (quiet >= TURN_IDLE && this.turn && this.othersWait && body.interrupt()) {
        this.silent = true;
        this.watch = undefined;
        return;
      }
      // Next look: TURN_IDLE after the last chunk (or a full TURN_IDLE if it was just now).
      this.watch = setTimeout(check, quiet >= TURN_IDLE ? TURN_IDLE : TURN_IDLE - quiet);
      this.watch.unref();
    };
    this.watch = setTimeout(check, TURN_IDLE);
    this.watch.unref();
  }
}
