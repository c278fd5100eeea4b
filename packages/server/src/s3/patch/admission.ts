// One request's turn at part memory (s3/memory/turns.ts): taken before the request opens a
// part or takes a slab, its body left unread while it waits; handed on at a part boundary
// while others wait (request.ts), so every upload progresses in rounds; and given back by a
// holder that brings no byte for TURN_IDLE while others wait, or that still holds it
// TURN_SHARE after others began to wait, once it staged what it holds.
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

/**
 * How long a holder keeps its turn once others wait, at most (ms). A slow client (a phone
 * on a poor link) sends steadily but takes minutes for a part: without this a few of them
 * would hold every turn that long and the rest would get 503 after `memoryWait`. Half the
 * default memoryWait, so the queue moves well within it; a holder moving a part in that
 * time (1.6 MiB/s for 8 MiB parts) never meets it, so only slow holders pay a staged
 * segment for each turn they give back.
 */
export const TURN_SHARE = 5_000;

export class RequestTurn {
  private turn: Turn | undefined;
  private watch: NodeJS.Timeout | undefined;
  /** When the last chunk arrived (performance.now()). */
  private lastChunk = 0;
  /** Since when others wait while this holds its turn (performance.now()), if they do. */
  private contestedSince: number | undefined;
  /**
   * The watch interrupted the body's wait: the holder was silent, or has had its share while
   * others wait (request.ts stages what it holds and gives its turn back).
   */
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

  /** The holder should give back but keeps its turn (it cannot give back what it holds). */
  keep(): void {
    this.silent = false;
    this.arm();
  }

  /**
   * Checks, while the request holds a turn and others wait, whether it brought no byte for
   * TURN_IDLE or has held its turn TURN_SHARE since they began to wait: then its body's wait
   * is interrupted and `silent` set (request.ts stages what it holds and gives back).
   */
  private arm(): void {
    const { body } = this;
    if (!body || !this.turn) return;
    // Silence is counted from the turn's start, or the last chunk if later; the share from
    // the first look that finds others waiting.
    this.lastChunk = performance.now();
    this.contestedSince = undefined;
    if (this.watch) clearTimeout(this.watch);
    const check = () => {
      const now = performance.now();
      const quiet = now - this.lastChunk;
      if (!this.othersWait) this.contestedSince = undefined;
      else this.contestedSince ??= now;
      const shared = this.contestedSince !== undefined && now - this.contestedSince >= TURN_SHARE;
      if ((quiet >= TURN_IDLE || shared) && this.turn && this.othersWait && body.interrupt()) {
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
