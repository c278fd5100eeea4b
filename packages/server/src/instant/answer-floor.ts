// The timing floor of a proof's answer: released no earlier than a fixed time after the
// proof arrived, so the range reads that only existing content costs do not show in how
// long the answer takes. It hides them only while they finish inside the floor: choose
// it above the slowest parallel ranged GetObjects the store sees.
import { setTimeout as delay } from 'node:timers/promises';

/** Default floor (ms): several times a ranged GetObject's latency on a loaded store. */
export const DEFAULT_ANSWER_FLOOR_MS = 250;

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const SYSTEM_CLOCK: Clock = {
  now: () => performance.now(),
  sleep: (ms) => delay(ms),
};

/**
 * Runs `work` and settles like it (value or error), never before `floorMs` after
 * `startedAt` (a `clock.now()` reading taken when the proof arrived).
 */
export async function withAnswerFloor<T>(
  startedAt: number,
  floorMs: number,
  work: () => Promise<T>,
  clock: Clock = SYSTEM_CLOCK,
): Promise<T> {
  let result: { ok: true; value: T } | { ok: false; error: unknown };
  try {
    result = { ok: true, value: await work() };
  } catch (error) {
    result = { ok: false, error };
  }
  const left = startedAt + floorMs - clock.now();
  if (left > 0) await clock.sleep(left);
  if (!result.ok) throw result.error;
  return result.value;
}
