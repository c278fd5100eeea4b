// The tus lock of a final upload, for work on it that a request of another upload starts
// (a partial's last PATCH assembles the final waiting on it) or that a request without the
// lock does (GET reads an upload before @tus/server locks it). Assembly under the final's
// lock never runs twice at once, nor beside a DELETE of the final; under a shared locker
// the lock also fences the final's writes (the request's fences gain it, locks/fence.ts).
import type { RequestContext } from '../../front/request-context.js';

/** Releases the lock, or 'held': a caller up this request's chain holds it and does the work. */
export type FinalLock = (() => Promise<void>) | 'held';

/**
 * How long a request waits for a final's lock (ms). Its holders are short (a HEAD, a
 * DELETE) or do the same work; a DELETE of the final waiting for the lock of the partial
 * whose PATCH waits here must not wait out the locker's whole timeout.
 */
export const FINAL_LOCK_WAIT_MS = 3000;

export async function lockFinal(
  request: RequestContext | undefined,
  finalId: string,
): Promise<FinalLock> {
  // Outside a request (the expiration sweep, admin): no tus lock to take.
  if (!request?.lockUploads) return async () => {};
  request.holds ??= new Set();
  const holds = request.holds;
  if (holds.has(finalId)) return 'held';
  const release = await request.lockUploads([finalId], {
    ms: FINAL_LOCK_WAIT_MS,
    busy: 'the final upload is in use by another request; try again',
  });
  holds.add(finalId);
  return async () => {
    holds.delete(finalId);
    await release();
  };
}
