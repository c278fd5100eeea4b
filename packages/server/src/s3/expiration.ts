// The expiration sweep: unfinished uploads older than the expiration go (a one-part upload
// whose object is whole is finished, whatever its info says), and so do
// multipart uploads under this store's prefix that no info record names (lost info, or
// a partial's own one that a crash kept its adoption from aborting, s3/concat/direct-final.ts),
// and staged objects (segments, pending parts, marks) of uploads that have no info
// record (a write that outlived its upload's removal). Orphans go only once they are
// older than the expiration, so nothing of an upload being created is taken for one.
// Touches nothing outside the prefix, and never an upload's object itself.
import {
  AbortMultipartUploadCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
} from '@aws-sdk/client-s3';
import type { StoreContext } from './context.js';
import { isExpired, objectRecordsCompletion } from './info.js';
import { readInfo } from './info-io.js';
import { idFromInfoKey, idFromStagingKey, isValidId } from './keys.js';
import { deleteKeys } from './staging/listing.js';
import { recordCompletionIfWhole } from './state/object.js';

/** Removes (with `remove`) what has expired; returns how many uploads went. */
export async function deleteExpired(
  ctx: StoreContext,
  expiration: number,
  remove: (id: string) => Promise<void>,
): Promise<number> {
  const { client, bucket, prefix } = ctx;
  const now = Date.now();
  let removed = 0;
  // Upload id -> the multipart upload its info names (undefined: none, or unreadable).
  const known = new Map<string, string | undefined>();
  // Staged objects old enough to go if their upload turns out to have no info.
  const oldStaged: { id: string; key: string }[] = [];
  let token: string | undefined;
  do {
    const res = await client.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const { Key: key, LastModified: modified } of res.Contents ?? []) {
      if (!key) continue;
      const staged = idFromStagingKey(prefix, key);
      if (staged && (modified?.getTime() ?? now) + expiration < now) {
        oldStaged.push({ id: staged, key });
      }
      const id = idFromInfoKey(prefix, key);
      if (!id) continue;
      const info = await readInfo(ctx, id).catch(() => undefined);
      known.set(id, info ? (info.uploadId ?? '') : undefined);
      if (info && isExpired(info, expiration, now)) {
        // A one-part upload whose object is whole is finished, whatever its info says
        // (objectRecordsCompletion): its info is marked complete, and it does not expire.
        if (objectRecordsCompletion(info) && (await recordCompletionIfWhole(ctx, info))) continue;
        await remove(id);
        removed++;
      }
    }
    token = res.IsTruncated ? res.NextContinuationToken : undefined;
  } while (token);
  removed += await abortOrphans(ctx, expiration, known, now);
  // `known` holds every info the listing saw, expired ones included: their staging went
  // with `remove`, and what a live upload staged is never touched here.
  const orphans = oldStaged.filter((s) => !known.has(s.id)).map((s) => s.key);
  await deleteKeys(client, bucket, orphans);
  if (orphans.length > 0)
    ctx.log.info({ count: orphans.length }, 'orphaned staged objects deleted');
  return removed;
}

async function abortOrphans(
  ctx: StoreContext,
  expiration: number,
  known: Map<string, string | undefined>,
  now: number,
): Promise<number> {
  const { client, bucket, prefix } = ctx;
  let aborted = 0;
  let keyMarker: string | undefined;
  let idMarker: string | undefined;
  do {
    const res = await client.send(
      new ListMultipartUploadsCommand({
        Bucket: bucket,
        Prefix: prefix,
        KeyMarker: keyMarker,
        UploadIdMarker: idMarker,
      }),
    );
    for (const u of res.Uploads ?? []) {
      const id = u.Key?.slice(prefix.length);
      if (!u.Key?.startsWith(prefix) || !id || !isValidId(id)) continue;
      // An info we could not read might name it: leave it.
      if (known.has(id) && (known.get(id) === undefined || known.get(id) === u.UploadId)) continue;
      if ((u.Initiated?.getTime() ?? now) + expiration >= now) continue;
      await client.send(
        new AbortMultipartUploadCommand({ Bucket: bucket, Key: u.Key, UploadId: u.UploadId }),
      );
      aborted++;
    }
    keyMarker = res.IsTruncated ? res.NextKeyMarker : undefined;
    idMarker = res.IsTruncated ? res.NextUploadIdMarker : undefined;
  } while (keyMarker);
  return aborted;
}
