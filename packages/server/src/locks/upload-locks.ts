// Holding the tus locks of uploads other than a request's own. A final's creation holds
// the locks of the partials it names, from before it reads them until its response: two
// creations over the same partials (a client's retry racing its first attempt, two
// clients) then run one after the other, so the second sees the first's adoption (and,
// for the same list, gets the same final) instead of both adopting and leaving each
// partial to whichever wrote last, with neither final ever complete. The same locks
// serialize it with PATCH, HEAD and DELETE on those partials. The termination of a direct
// final's group takes them the same way (s3/concat/group-termination.ts). Distributed only as
// far as the configured @tus/server locker is.
import type { Lock, Locker } from '@tus/utils';
import { isLockTimeout, TusError } from '../errors.js';
import type { LockWait } from '../front/request-context.js';

/** Locks every id (each once, in one global order so creations never deadlock). */
export async function lockUploads(
  locker: Locker,
  ids: readonly string[],
  wait: LockWait = {},
): Promise<() => Promise<void>> {
  const held: Lock[] = [];
  const release = async () => {
    for (const lock of held.splice(0).reverse()) await lock.unlock();
  };
  // Holders are not asked to let go early: a final's creation is a few S3 round trips.
  const stop = wait.ms === undefined ? new AbortController().signal : AbortSignal.timeout(wait.ms);
  try {
    for (const id of [...new Set(ids)].sort()) {
      const lock = locker.newLock(id);
      await lock.lock(stop, () => {});
      held.push(lock);
    }
  } catch (err) {
    await release();
    if (isLockTimeout(err)) {
      throw new TusError(
        423,
        wait.busy ?? 'an upload it concerns is in use by another request; try again',
      );
    }
    throw err;
  }
  return release;
}
