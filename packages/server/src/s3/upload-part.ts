// UploadPart: one part of an upload's multipart upload from bytes in memory.
import { createHash } from 'node:crypto';
import { UploadPartCommand } from '@aws-sdk/client-s3';
import { ERRORS } from '../errors.js';
import type { StoreContext } from './context.js';
import type { UploadInfo } from './info.js';
import { objectKey } from './keys.js';
import type { StoredPart } from './offset.js';
import { S3_MAX_PARTS } from './parts.js';
import { bareEtag } from './s3-client.js';

export async function uploadPart(
  ctx: StoreContext,
  info: UploadInfo,
  partNumber: number,
  body: Buffer,
): Promise<StoredPart> {
  if (partNumber > S3_MAX_PARTS) throw ERRORS.ERR_SIZE_EXCEEDED;
  const res = await ctx.client.send(
    new UploadPartCommand({
      Bucket: ctx.bucket,
      Key: objectKey(ctx.prefix, info.id),
      UploadId: info.uploadId,
      PartNumber: partNumber,
      Body: body,
      ContentLength: body.length,
      ContentMD5: createHash('md5').update(body).digest('base64'),
    }),
  );
  ctx.metrics.partsUploaded++;
  ctx.metrics.partBytesUploaded += body.length;
  return { partNumber, size: body.length, etag: bareEtag(res.ETag) };
}
