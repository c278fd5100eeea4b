/**
 * Progress of a parallel upload: the sum over its partials, never going backwards (a
 * partial that restarts from 0 after a 404 must not make the whole bar jump back).
 */
export class AggregateProgress {
  private readonly sent: number[];
  private readonly acked: number[];
  private sentTotal = 0;
  private ackedTotal = 0;

  constructor(partials: number) {
    this.sent = new Array(partials).fill(0);
    this.acked = new Array(partials).fill(0);
  }

  /** Partial `i` reports its own counters; returns the aggregate (both monotonic). */
  update(i: number, sent: number, acked: number): { bytesSent: number; bytesAcknowledged: number } {
    this.acked[i] = Math.max(this.acked[i] ?? 0, acked);
    // Acknowledged bytes were sent, whatever the partial reported.
    this.sent[i] = Math.max(this.sent[i] ?? 0, sent, this.acked[i]!);
    this.sentTotal = Math.max(this.sentTotal, sum(this.sent));
    this.ackedTotal = Math.max(this.ackedTotal, sum(this.acked));
    return { bytesSent: this.sentTotal, bytesAcknowledged: this.ackedTotal };
  }
}

function sum(xs: number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return s;
}
