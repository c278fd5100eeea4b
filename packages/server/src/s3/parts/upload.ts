// UploadPart: one part of an upload's multipart upload from bytes in memory (an adopted
// partial's go into its final's, s3/parts/target.ts); for an upload that fits in one part,
// that part is the whole object, written by PutObject.
import { PutObjectCommand, UploadPartCommand } from '@aws-sdk/client-s3';
import { ERRORS } from '../../errors.js';
import { bareEtag } from '../client.js';
import type { StoreContext } from '../context.js';
import type { UploadInfo } from '../info.js';
import { objectKey } from '../keys.js';
import { type Bytes, bodyOf, byteLength, md5Of } from '../memory/bytes.js';
import { contentDispositionOf, contentTypeOf } from '../object-headers.js';
import type { StoredPart } from '../state/progress.js';
import { S3_MAX_PARTS } from './arithmetic.js';
import { multipartTarget } from './target.js';

export async function uploadPart(
  ctx: StoreContext,
  info: UploadInfo,
  partNumber: number,
  body: Bytes,
): Promise<StoredPart> {
  const address = partAddress(ctx, info, partNumber);
  if (address === undefined) return putWhole(ctx, info, partNumber, body);
  const size = byteLength(body);
  const res = await ctx.client.send(
    new UploadPartCommand({
      ...address,
      Body: bodyOf(body),
      ContentLength: size,
      ContentMD5: md5Of(ctx.partChecksum, body),
    }),
  );
  ctx.metrics.partsUploaded++;
  ctx.metrics.partBytesUploaded += size;
  return { partNumber, size, etag: bareEtag(res.ETag) };
}

/**
 * Where the upload's part `partNumber` goes in S3 (its own multipart upload, or its
 * final's, shifted); undefined for a one-part upload, which has no multipart upload.
 */
export function partAddress(
  ctx: StoreContext,
  info: UploadInfo,
  partNumber: number,
): { Bucket: string; Key: string; UploadId: string; PartNumber: number } | undefined {
  const target = multipartTarget(ctx.prefix, info);
  if (target === undefined) return undefined;
  const number = target.firstPart - 1 + partNumber;
  if (number > S3_MAX_PARTS || partNumber > target.parts) throw ERRORS.ERR_SIZE_EXCEEDED;
  return { Bucket: ctx.bucket, Key: target.key, UploadId: target.uploadId, PartNumber: number };
}

async function putWhole(
  ctx: StoreContext,
  info: UploadInfo,
  partNumber: number,
  body: Bytes,
): Promise<StoredPart> {
  const size = byteLength(body);
  if (partNumber !== 1 || size !== info.size) {
    throw new Error(`upload ${info.id} is one part of ${info.size} bytes, not part ${partNumber}`);
  }
  const res = await ctx.client.send(
    new PutObjectCommand({
      Bucket: ctx.bucket,
      Key: objectKey(ctx.prefix, info.id),
      Body: bodyOf(body),
      ContentLength: size,
      ContentMD5: md5Of(ctx.partChecksum, body),
      ContentType: contentTypeOf(info.metadata),
      ContentDisposition: contentDispositionOf(info.metadata),
    }),
  );
  ctx.metrics.partsUploaded++;
  ctx.metrics.partBytesUploaded += size;
  return { partNumber, size, etag: bareEtag(res.ETag) || 'put' };
}
