// The server-side copy that makes an upload whose proof held: the indexed object's bytes
// become the upload's without passing through this server. Up to 5 GiB it is one
// CopyObject, which S3 does without moving data it can share (RGW references the source's
// tail, so a copy of 1 GiB costs no second GiB); the upload's multipart upload, if any, is
// then aborted. Above 5 GiB (CopyObject's limit) every part is an UploadPartCopy into the
// upload's own multipart upload, at its own part size, completed the ordinary way (part
// list checked, CompleteMultipartUpload, the object's length checked). Each copy names the
// ETag the proof's ranges were read under, so it copies that very object or fails (412).
import { CopyObjectCommand } from '@aws-sdk/client-s3';
import { bareEtag } from '../client.js';
import type { StoreContext } from '../context.js';
import type { UploadInfo } from '../info.js';
import { objectKey } from '../keys.js';
import { objectDigestMetadata, objectHeadersOf } from '../object-headers.js';
import { partCount, partStart, S3_MAX_PART_SIZE } from '../parts/arithmetic.js';
import { copyPart, copySource } from '../parts/copy.js';
import type { StoredPart } from '../state/progress.js';

export interface CopyFrom {
  /** The indexed object's key and the ETag its ranges were read under. */
  key: string;
  etag: string;
}

export interface Copied {
  /** The upload as completion must see it: without a multipart upload after a CopyObject. */
  info: UploadInfo;
  parts: StoredPart[];
  /** The multipart upload a CopyObject made useless, to abort once the info says complete. */
  replaced?: string;
}

/**
 * Fills upload `info` (digest set) from `source`; `wholeLimit`: the largest object one
 * CopyObject makes (S3's limit; lower only in tests).
 */
export async function copyIndexed(
  ctx: StoreContext,
  info: UploadInfo,
  source: CopyFrom,
  concurrency: number,
  wholeLimit = S3_MAX_PART_SIZE,
): Promise<Copied> {
  const size = info.size as number;
  ctx.fence.assertHeld();
  if (info.uploadId === undefined || size <= wholeLimit) {
    const whole = await copyWhole(ctx, info, source, size);
    const single: UploadInfo = { ...info };
    delete single.uploadId;
    return { info: single, parts: [whole], replaced: info.uploadId };
  }
  const uploadId = info.uploadId;
  const key = objectKey(ctx.prefix, info.id);
  const copyOne = (n: number) => {
    const start = partStart(n, info.partSize);
    const end = Math.min(start + info.partSize, size);
    const target = { bucket: ctx.bucket, key, uploadId, partNumber: n };
    return copyPart(ctx.client, target, source.key, start, end, source.etag);
  };
  const count = partCount(size, info.partSize);
  return { info, parts: await inParallel(count, concurrency, (i) => copyOne(i + 1)) };
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
