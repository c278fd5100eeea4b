/**
 * Stall detection by idle time: a dead connection sends no error, it just stops moving,
 * so a request is judged by how long nothing happened rather than by its total time
 * (a large body on a slow link is fine as long as its bytes keep going).
 */

/**
 * Fires `onStall` when `touch()` was not called for `idleMs`. One per request (http.ts);
 * `stop()` when the request settles.
 */
export class Watchdog {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;

  constructor(
    private readonly idleMs: number,
    private readonly onStall: () => void,
  ) {
    this.touch();
  }

  touch(): void {
    if (this.stopped || !(this.idleMs > 0) || !Number.isFinite(this.idleMs)) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.stopped = true;
      this.onStall();
    }, this.idleMs);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
