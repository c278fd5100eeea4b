// What ties an S3 write to the lock its writer holds. A lease is about liveness: a holder
// paused past it (a GC pause, a frozen VM, SIGSTOP) wakes up still believing it holds the
// lock while another instance took the upload over. Ceph 16 has no conditional PUT, so a
// write cannot be made to fail in S3 when its writer lost the lock; instead:
// - every staged key carries the writer's generation (s3/keys.ts), so two holders never
//   write the same key and the offset derivation prefers the newer (s3/state/generations.ts);
// - a writer checks right before each S3 write that its lease cannot have run out
//   (assertHeld), so a woken holder stops before writing instead of after.
import { TusError } from '../errors.js';

export interface Fence {
  /**
   * Of the lock this request holds: greater than that of every earlier holder of any
   * upload's lock; 0 without a shared locker (one process: its lock has no lease to outlive).
   */
  readonly generation: number;
  /** Throws (423) unless the lock is surely still this request's. */
  assertHeld(): void;
}

/** Without a shared locker: requests on one upload never overlap, nothing to fence. */
export const UNFENCED: Fence = { generation: 0, assertHeld: () => {} };

export function lockLostError(): TusError {
  return new TusError(423, 'upload lock lost before the write; try again');
}

/** When a lease was last known to start (both clocks: neither alone is trusted). */
export interface LeaseStart {
  wall: number;
  mono: number;
}

export function leaseStartNow(): LeaseStart {
  return { wall: Date.now(), mono: performance.now() };
}

/**
 * Whether a lease of `lease` ms, started no later than `start`, still has more than
 * `margin` ms to run by both clocks (the wall clock may step, the monotonic one may stop
 * while a machine sleeps).
 */
export function leaseHolds(
  start: LeaseStart,
  lease: number,
  margin: number,
  now = leaseStartNow(),
): boolean {
  const elapsed = Math.max(now.wall - start.wall, now.mono - start.mono);
  return elapsed < lease - margin;
}
