// The requests a server is serving, so that closing it can wait for them: while closing,
// new requests are refused; those in flight finish until a deadline, then the rest are cut
// (as a client that went away would cut them: what arrived is kept) and awaited.

/**
 * How long closing lets in-flight requests finish by default (ms). A cut loses no
 * acknowledged byte, so the deadline only spares short requests a retry; 5 s, plus the
 * settle of the cut ones, fits inside `docker stop`'s 10 s and Kubernetes' 30 s grace.
 */
export const DEFAULT_CLOSE_DEADLINE = 5_000;

/** What a request refused while closing hears: try again soon (another instance, or us). */
export const CLOSING_RETRY_AFTER = 1;
export const CLOSING_REASON = 'server is shutting down; retry shortly';

export interface CloseOptions {
  /** How long in-flight requests may finish before they are cut (ms; default 5 s). */
  deadlineMs?: number;
}

/** Ends one request's body as a cut connection would; called at most once. */
export type Cut = () => void;

/** The answer to a request that arrives while closing. */
export function closingResponse(tusVersion: string): Response {
  return new Response(`${CLOSING_REASON}\n`, {
    status: 503,
    headers: {
      'Tus-Resumable': tusVersion,
      'Content-Type': 'text/plain; charset=utf-8',
      'Retry-After': String(CLOSING_RETRY_AFTER),
    },
  });
}

export class InFlight {
  private readonly requests = new Map<number, Cut>();
  private next = 0;
  private closed: Promise<number> | undefined;
  private drained: (() => void) | undefined;

  get closing(): boolean {
    return this.closed !== undefined;
  }

  get size(): number {
    return this.requests.size;
  }

  /**
   * Registers a request; returns what to call when it has settled, or undefined when
   * closing (the request must be refused). `cut` ends its body at the deadline.
   */
  enter(cut: Cut = () => {}): (() => void) | undefined {
    if (this.closing) return undefined;
    const id = this.next++;
    this.requests.set(id, cut);
    return () => {
      if (!this.requests.delete(id)) return;
      if (this.requests.size === 0) this.drained?.();
    };
  }

  /**
   * Refuses new requests from now on; resolves once every request in flight settled.
   * Those still running after `deadlineMs` are cut, and then awaited: a cut request
   * still settles (its received bytes made durable) before it leaves. Returns how many
   * were cut. Calling it again returns the first call's promise.
   */
  close(options: CloseOptions = {}): Promise<number> {
    this.closed ??= this.drain(options.deadlineMs ?? DEFAULT_CLOSE_DEADLINE);
    return this.closed;
  }

  private async drain(deadlineMs: number): Promise<number> {
    const empty = new Promise<void>((resolve) => {
      if (this.requests.size === 0) resolve();
      else this.drained = resolve;
    });
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'deadline'>((resolve) => {
      timer = setTimeout(() => resolve('deadline'), Math.max(0, deadlineMs));
    });
    const first = await Promise.race([empty, deadline]);
    clearTimeout(timer);
    if (first !== 'deadline') return 0;
    const cuts = [...this.requests.values()];
    for (const cut of cuts) {
      try {
        cut();
      } catch {
        // A request that cannot be cut any more is about to settle anyway.
      }
    }
    await empty;
    return cuts.length;
  }
}
