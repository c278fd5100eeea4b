// Best-effort deletion of staged objects (segments, pending parts, marks) once they no
// longer matter. Pending objects never count toward an offset, nor do segments past the
// offset; a lost delete only leaves garbage for completion or termination to clear.
import type { StoreContext } from '../context.js';
import { deleteKeys, listStaged, stagedKeys } from './listing.js';

export async function deleteKeysQuietly(ctx: StoreContext, keys: readonly string[]): Promise<void> {
  if (keys.length === 0) return;
  await deleteKeys(ctx.client, ctx.bucket, keys).catch((err: unknown) => {
    ctx.log.warn({ err }, 'could not delete staged objects');
  });
}

/** Segments, pending parts and marks of any request, once none of them matters. */
export async function clearStaging(ctx: StoreContext, id: string): Promise<void> {
  const staged = await listStaged(ctx.client, ctx.bucket, ctx.prefix, id);
  await deleteKeysQuietly(ctx, stagedKeys(staged));
}
