/**
 * Pause, resume and abort of one upload, as its request loop sees them: an abort signal
 * for the request in flight (renewed on resume) and a checkpoint to pass between requests.
 */
import { abortedError } from './errors.js';

export class PauseGate {
  /** Aborted by pause(), abort() (and so terminate() and the caller's signal). */
  private controller = new AbortController();
  private waiter: { promise: Promise<void>; resolve: () => void } | null = null;
  private _aborted = false;

  /** Signal for the request in flight. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }
  get paused(): boolean {
    return this.waiter !== null;
  }
  get aborted(): boolean {
    return this._aborted;
  }

  /** Aborts the request in flight; checkpoint() waits until resume() or abort(). */
  pause(): void {
    if (this.waiter) return;
    let resolve!: () => void;
    const promise = new Promise<void>((r) => {
      resolve = r;
    });
    this.waiter = { promise, resolve };
    this.controller.abort(new Error('paused'));
  }

  /** Returns false when not paused. */
  resume(): boolean {
    const w = this.waiter;
    if (!w) return false;
    this.waiter = null;
    this.controller = new AbortController();
    w.resolve();
    return true;
  }

  /** For good; returns false when already aborted. */
  abort(): boolean {
    if (this._aborted) return false;
    this._aborted = true;
    this.controller.abort(new Error('aborted'));
    const w = this.waiter;
    this.waiter = null;
    w?.resolve();
    return true;
  }

  /** Waits while paused; throws when aborted. */
  async checkpoint(): Promise<void> {
    while (this.waiter) await this.waiter.promise;
    if (this._aborted) throw abortedError();
  }
}
