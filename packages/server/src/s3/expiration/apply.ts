// Carrying out the sweep's verdict (decide.ts) on one upload it found.
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { ERRORS } from '../../errors.js';
import { abortMultipart } from '../abort.js';
import type { StoreContext } from '../context.js';
import { readInfoOrTombstone } from '../info-io.js';
import { idFromStagingKey, infoKey, stagingPrefix } from '../keys.js';
import { deleteOpenMarker } from '../open-marker.js';
import { deleteKeys } from '../staging/listing.js';
import { recordCompletionIfWhole } from '../state/object.js';
import { decide, type Found, type InfoRead, isOld } from './decide.js';

export interface SweepDeps {
  ctx: StoreContext;
  expiration: number;
  /** Removes an upload as termination does (store.remove). */
  remove: (id: string) => Promise<void>;
}

/** Reads the info of what was found, decides, acts; returns how many uploads went. */
export async function sweepOne(deps: SweepDeps, found: Found, now: number): Promise<number> {
  const { ctx, expiration } = deps;
  const info = await readFound(ctx, found.id);
  const verdict = decide(found, info, expiration, now);
  for (const uploadId of verdict.abort) await abortMultipart(ctx, found.id, uploadId);
  const removed = verdict.abort.length;
  switch (verdict.fate) {
    case 'remove':
      await deps.remove(found.id);
      return removed + 1;
    case 'remove-unless-whole':
      // A one-part upload whose object is whole is finished, whatever its info says.
      if (typeof info === 'object' && (await recordCompletionIfWhole(ctx, info))) {
        await deleteOpenMarker(ctx, found.id);
        return removed;
      }
      await deps.remove(found.id);
      return removed + 1;
    case 'drop-marker':
      await deleteOpenMarker(ctx, found.id);
      return removed;
    case 'orphan':
      await deleteOldStaging(deps, found.id, now);
      if (found.marker) await deleteOpenMarker(ctx, found.id);
      return removed;
    case 'drop-tombstone':
      await deleteKeys(ctx.client, ctx.bucket, [infoKey(ctx.prefix, found.id)]);
      return removed;
    case 'keep':
      return removed;
  }
}

async function readFound(ctx: StoreContext, id: string): Promise<InfoRead> {
  try {
    return await readInfoOrTombstone(ctx, id);
  } catch (err) {
    // An info that cannot be read might name what was found: leave it all.
    if (err === ERRORS.FILE_NOT_FOUND) return 'missing';
    ctx.log.warn({ err, id }, 'sweep could not read an info record');
    return 'unreadable';
  }
}

/** Staged objects of an upload without info, once older than the expiration. */
async function deleteOldStaging(deps: SweepDeps, id: string, now: number): Promise<void> {
  const { client, bucket, prefix } = deps.ctx;
  const old: string[] = [];
  let token: string | undefined;
  do {
    const res = await client.send(
      new ListObjectsV2Command({
        Bucket: bucket,
        Prefix: stagingPrefix(prefix, id),
        ContinuationToken: token,
      }),
    );
    for (const { Key: key, LastModified: modified } of res.Contents ?? []) {
      if (key && idFromStagingKey(prefix, key) === id && isOld(modified, deps.expiration, now)) {
        old.push(key);
      }
    }
    token = res.IsTruncated ? res.NextContinuationToken : undefined;
  } while (token);
  await deleteKeys(client, bucket, old);
  if (old.length > 0)
    deps.ctx.log.info({ id, count: old.length }, 'orphaned staged objects deleted');
}
