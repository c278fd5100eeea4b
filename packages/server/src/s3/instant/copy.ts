// The server-side copy that makes an upload whose proof held: the indexed object's bytes
// become the upload's without passing through this server. An upload with a multipart
// upload (longer than its part size) gets every part by UploadPartCopy, at its own part
// size, so completion is the ordinary one (part list checked, CompleteMultipartUpload, the
// object's length checked) and any size up to 5 TiB works; a one-part upload (at most its
// part size, so at most 5 GiB) is one CopyObject. Each copy names the ETag the proof's
// ranges were read under, so it copies that very object or fails.
import { CopyObjectCommand } from '@aws-sdk/client-s3';
import { bareEtag } from '../client.js';
import type { StoreContext } from '../context.js';
import type { UploadInfo } from '../info.js';
import { objectKey } from '../keys.js';
import { objectDigestMetadata, objectHeadersOf } from '../object-headers.js';
import { partCount, partStart } from '../parts/arithmetic.js';
import { copyPart, copySource } from '../parts/copy.js';
import type { StoredPart } from '../state/progress.js';

export interface CopyFrom {
  /** The indexed object's key and the ETag its ranges were read under. */
  key: string;
  etag: string;
}

/** Fills upload `info` (digest set) from `source`; answers the parts completion takes. */
export async function copyIndexed(
  ctx: StoreContext,
  info: UploadInfo,
  source: CopyFrom,
  concurrency: number,
): Promise<StoredPart[]> {
  const size = info.size as number;
  ctx.fence.assertHeld();
  if (info.uploadId === undefined) return [await copyWhole(ctx, info, source, size)];
  const uploadId = info.uploadId;
  const key = objectKey(ctx.prefix, info.id);
  const count = partCount(size, info.partSize);
  const copyOne = (n: number) => {
    const start = partStart(n, info.partSize);
    const end = Math.min(start + info.partSize, size);
    const target = { bucket: ctx.bucket, key, uploadId, partNumber: n };
    return copyPart(ctx.client, target, source.key, start, end, source.etag);
  };
  return inParallel(count, concurrency, (i) => copyOne(i + 1));
}

/** One CopyObject, written with this upload's own headers and its digest as metadata. */
async function copyWhole(
  ctx: StoreContext,
  info: UploadInfo,
  source: CopyFrom,
  size: number,
): Promise<StoredPart> {
  const res = await ctx.client.send(
    new CopyObjectCommand({
      Bucket: ctx.bucket,
      Key: objectKey(ctx.prefix, info.id),
      CopySource: copySource(ctx.bucket, source.key),
      CopySourceIfMatch: source.etag,
      MetadataDirective: 'REPLACE',
      ...objectHeadersOf(info.metadata, ctx.inlineTypes),
      ...objectDigestMetadata(info),
    }),
  );
  const etag = bareEtag(res.CopyObjectResult?.ETag);
  if (!etag) throw new Error(`CopyObject of ${source.key} returned no ETag`);
  return { partNumber: 1, size, etag };
}

/** `count` tasks, at most `limit` at once; results in task order. */
async function inParallel<T>(
  count: number,
  limit: number,
  task: (i: number) => Promise<T>,
): Promise<T[]> {
  const results: T[] = new Array(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      results[i] = await task(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, worker));
  return results;
}
