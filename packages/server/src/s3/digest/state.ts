// Where the running SHA-256 state is durable, so that the offset the server reports never
// runs ahead of a hash state that covers exactly those bytes:
// - a PATCH that stages a tail writes the state after the tail's last byte as the segment's
//   user metadata (one write: the segment and its state land together or not at all);
// - a PATCH that ends on a part boundary writes a state object whose key holds the state
//   (s3/keys.ts: hashStateKey), after its parts are durable and before the segments they
//   fold are deleted; the listing that derives the offset reads it at no extra cost.
// Loading (s3/digest/resume.ts) cuts the offset back to the newest such state when a crash
// left parts past it.
import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { isS3NotFound } from '../../errors.js';
import type { StoreContext } from '../context.js';
import { hashStateKey } from '../keys.js';
import type { HashState, StoredSegment } from '../state/progress.js';

/** The S3 user-metadata key of a segment's hash state (x-amz-meta-sha256-state). */
export const SEGMENT_HASH_META = 'sha256-state';

export function segmentHashMetadata(state: Uint8Array): Record<string, string> {
  return { [SEGMENT_HASH_META]: Buffer.from(state).toString('base64') };
}

/** The hash state a segment carries, or undefined (none, or the segment is gone). */
export async function segmentHashState(
  ctx: StoreContext,
  seg: StoredSegment,
): Promise<Uint8Array | undefined> {
  const head = await ctx.client
    .send(new HeadObjectCommand({ Bucket: ctx.bucket, Key: seg.key }))
    .catch((err: unknown) => {
      if (isS3NotFound(err)) return undefined;
      throw err;
    });
  const value = head?.Metadata?.[SEGMENT_HASH_META];
  return value ? new Uint8Array(Buffer.from(value, 'base64')) : undefined;
}

/** Writes the state after `offset` bytes as an object of its own (an empty one). */
export async function writeHashState(
  ctx: StoreContext,
  id: string,
  offset: number,
  state: Uint8Array,
): Promise<HashState> {
  const { generation } = ctx.fence;
  const key = hashStateKey(ctx.prefix, id, offset, generation, state);
  ctx.fence.assertHeld();
  await ctx.client.send(
    new PutObjectCommand({ Bucket: ctx.bucket, Key: key, Body: Buffer.alloc(0), ContentLength: 0 }),
  );
  return { key, offset, generation, state };
}

/** State objects kept before the older ones go in one DeleteObjects. */
export const HASH_OBJECTS_KEPT = 8;

/**
 * Older state objects once `newest` is durable: only when HASH_OBJECTS_KEPT of them piled
 * up, so a run of boundary-ending PATCHes costs one DeleteObjects per that many.
 */
export function hashObjectsToDrop(all: readonly HashState[], newest: HashState): HashState[] {
  const older = all.filter((h) => h.key !== newest.key);
  return older.length >= HASH_OBJECTS_KEPT ? older : [];
}
