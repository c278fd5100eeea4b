/**
 * One upload's progress counters: bytes handed to the connection and bytes the server
 * acknowledged, both absolute and never decreasing. Pure; the upload emits when they move.
 */
export class ProgressCounters {
  sent = 0;
  acked = 0;

  /** Body bytes handed over up to absolute offset `abs`; true when `sent` moved. */
  send(abs: number): boolean {
    if (abs <= this.sent) return false;
    this.sent = abs;
    return true;
  }

  /** The server has everything below `abs`; true when `acked` moved. */
  ack(abs: number): boolean {
    if (abs <= this.acked) return false;
    this.acked = abs;
    // Acknowledged bytes were sent, whatever the connection reported.
    if (abs > this.sent) this.sent = abs;
    return true;
  }

  /** The server has `abs` bytes that were never sent (instant upload); `sent` stays. */
  adopt(abs: number): boolean {
    if (abs <= this.acked) return false;
    this.acked = abs;
    return true;
  }

  /**
   * Totals of a parallel upload's partials (see parallel/progress.ts). Returns whether
   * anything moved and whether `acked` did.
   */
  aggregate(sent: number, acked: number): { moved: boolean; ackMoved: boolean } {
    if (sent <= this.sent && acked <= this.acked) return { moved: false, ackMoved: false };
    this.sent = Math.max(this.sent, sent);
    const ackMoved = acked > this.acked;
    if (ackMoved) this.acked = acked;
    return { moved: true, ackMoved };
  }
}
