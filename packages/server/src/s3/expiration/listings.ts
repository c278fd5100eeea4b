// The incremental sweep's two listings: multipart uploads under the prefix and open markers.
// Together they name every upload that may expire (s3/open-marker.ts), and nothing of the
// uploads that finished: their multipart upload was completed and their marker deleted.
import { ListMultipartUploadsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { StoreContext } from '../context.js';
import { idFromObjectKey, idFromOpenMarkerKey, openMarkerPrefix } from '../keys.js';
import { type Found, isOld } from './decide.js';

/** Upload ids with an old multipart upload or an old marker, and what was found of each. */
export async function findCandidates(
  ctx: StoreContext,
  expiration: number,
  now: number,
): Promise<Map<string, Found>> {
  const found = new Map<string, Found>();
  const entry = (id: string): Found => {
    let f = found.get(id);
    if (!f) {
      f = { id, uploadIds: [], marker: false };
      found.set(id, f);
    }
    return f;
  };
  await Promise.all([
    eachOldMultipartUpload(ctx, expiration, now, (id, uploadId) => {
      entry(id).uploadIds.push(uploadId);
    }),
    eachOldMarker(ctx, expiration, now, (id) => {
      entry(id).marker = true;
    }),
  ]);
  return found;
}

export async function eachOldMultipartUpload(
  ctx: StoreContext,
  expiration: number,
  now: number,
  visit: (id: string, uploadId: string) => void,
): Promise<void> {
  const { client, bucket, prefix } = ctx;
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
      const id = u.Key ? idFromObjectKey(prefix, u.Key) : undefined;
      if (id && u.UploadId && isOld(u.Initiated, expiration, now)) visit(id, u.UploadId);
    }
    keyMarker = res.IsTruncated ? res.NextKeyMarker : undefined;
    idMarker = res.IsTruncated ? res.NextUploadIdMarker : undefined;
  } while (keyMarker);
}

export async function eachOldMarker(
  ctx: StoreContext,
  expiration: number,
  now: number,
  visit: (id: string) => void,
): Promise<void> {
  const { client, bucket, prefix } = ctx;
  let token: string | undefined;
  do {
    const res = await client.send(
      new ListObjectsV2Command({
        Bucket: bucket,
        Prefix: openMarkerPrefix(prefix),
        ContinuationToken: token,
      }),
    );
    for (const { Key: key, LastModified: modified } of res.Contents ?? []) {
      const id = key ? idFromOpenMarkerKey(prefix, key) : undefined;
      if (id && isOld(modified, expiration, now)) visit(id);
    }
    token = res.IsTruncated ? res.NextContinuationToken : undefined;
  } while (token);
}
