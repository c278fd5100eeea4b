/**
 * Retry timing: exponential backoff with full jitter, a retry budget that resets
 * whenever the upload makes progress, and the wait itself (sleep). Pure except for
 * sleep's timer. Stalled requests are detected apart from this (stall.ts).
 */

export interface RetryOptions {
  /**
   * Explicit delay ceilings in ms, one per consecutive retry; the last one repeats.
   * When given, it replaces `baseDelayMs`/`factor`, and `maxRetries` defaults to its length.
   */
  delays?: readonly number[];
  /** Ceiling of the first retry's delay (default 500 ms). */
  baseDelayMs?: number;
  /** Growth of the ceiling per consecutive retry (default 2). */
  factor?: number;
  /** Cap of any delay (default 30 s). */
  maxDelayMs?: number;
  /** Consecutive failures allowed without progress before giving up (default 10). */
  maxRetries?: number;
}

export interface RetryPolicy {
  delays: readonly number[] | null;
  baseDelayMs: number;
  factor: number;
  maxDelayMs: number;
  maxRetries: number;
}

export function retryPolicy(o: RetryOptions = {}): RetryPolicy {
  const delays = o.delays && o.delays.length > 0 ? [...o.delays] : null;
  for (const d of delays ?? []) {
    if (!Number.isFinite(d) || d < 0) throw new RangeError(`invalid retry delay: ${d}`);
  }
  return {
    delays,
    baseDelayMs: o.baseDelayMs ?? 500,
    factor: o.factor ?? 2,
    maxDelayMs: o.maxDelayMs ?? 30_000,
    maxRetries: o.maxRetries ?? delays?.length ?? 10,
  };
}

/** Upper bound of the delay before retry number `attempt` (0-based). */
export function backoffCeiling(attempt: number, p: RetryPolicy): number {
  const raw = p.delays
    ? (p.delays[Math.min(attempt, p.delays.length - 1)] ?? 0)
    : p.baseDelayMs * p.factor ** attempt;
  return Math.max(0, Math.min(p.maxDelayMs, raw));
}

/** Full jitter: uniform in [0, ceiling]. `random` returns [0, 1). */
export function backoffDelay(attempt: number, p: RetryPolicy, random: () => number = Math.random) {
  return Math.round(random() * backoffCeiling(attempt, p));
}

/** Counts consecutive failures; progress resets it. */
export class RetryBudget {
  private failures = 0;
  constructor(
    readonly policy: RetryPolicy,
    private readonly random: () => number = Math.random,
  ) {}

  /** Consecutive failures since the last progress. */
  get attempts(): number {
    return this.failures;
  }

  /** Delay before the next retry, or null when the budget is spent. */
  next(): number | null {
    if (this.failures >= this.policy.maxRetries) return null;
    const delay = backoffDelay(this.failures, this.policy, this.random);
    this.failures++;
    return delay;
  }

  /** The upload moved forward: the next failure starts from the first delay again. */
  progress(): void {
    this.failures = 0;
  }
}

/** Parses "0,1000,3000" (ms). */
export function parseRetryDelays(text: string): number[] {
  const parts = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (parts.length === 0) throw new RangeError('retry delays: empty list');
  return parts.map((s) => {
    const n = Number(s);
    if (!Number.isFinite(n) || n < 0) throw new RangeError(`retry delays: not a delay in ms: ${s}`);
    return n;
  });
}

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal?.reason);
    };
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
