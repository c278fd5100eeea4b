// UploadPart: one part of an upload's multipart upload from bytes in memory, after any
// staged segments it begins with, streamed from S3 (an adopted partial's go into its
// final's, s3/parts/target.ts); for an upload that fits in one part, that part is the whole
// object, written by PutObject.
import {
  DeleteObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { ERRORS, isS3NotFound } from '../../errors.js';
import { bareEtag } from '../client.js';
import type { StoreContext } from '../context.js';
import { putChecksumParams } from '../digest/full-object-crc.js';
import { withFoldedInfo } from '../folded-info.js';
import { sendWithFreshBody } from '../fresh-body-retry.js';
import type { UploadInfo } from '../info.js';
import { infoKey, objectKey } from '../keys.js';
import { type Bytes, byteLength, md5Of } from '../memory/bytes.js';
import { objectDigestMetadata, objectHeadersOf } from '../object-headers.js';
import { bodyAfter, md5After, type StagedRun } from '../staging/staged-body.js';
import type { StoredPart } from '../state/progress.js';
import { isUnwritten } from '../state/unwritten.js';
import { S3_MAX_PARTS } from './arithmetic.js';
import { multipartTarget } from './target.js';

export async function uploadPart(
  ctx: StoreContext,
  info: UploadInfo,
  partNumber: number,
  body: Bytes,
  head?: StagedRun,
): Promise<StoredPart> {
  const address = partAddress(ctx, info, partNumber);
  if (address === undefined) return putWhole(ctx, info, partNumber, body, head);
  const size = (head?.size ?? 0) + byteLength(body);
  const md5 = head ? await md5After(ctx.partChecksum, head, body) : md5Of(ctx.partChecksum, body);
  const res = await sendWithFreshBody(
    ctx.client,
    () => bodyAfter(head, body),
    (Body, abortSignal) =>
      ctx.client.send(
        new UploadPartCommand({ ...address, Body, ContentLength: size, ContentMD5: md5 }),
        { abortSignal },
      ),
    // After the head's read from S3, which can take a while: right before each write.
    () => ctx.fence.assertHeld(),
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
  head: StagedRun | undefined,
): Promise<StoredPart> {
  const size = (head?.size ?? 0) + byteLength(body);
  if (partNumber !== 1 || size !== info.size) {
    throw new Error(`upload ${info.id} is one part of ${info.size} bytes, not part ${partNumber}`);
  }
  const md5 = await md5After(ctx.partChecksum, head, body);
  const metadata = wholeObjectMetadata(info);
  const res = await sendWithFreshBody(
    ctx.client,
    () => bodyAfter(head, body),
    (Body, abortSignal) =>
      ctx.client.send(
        new PutObjectCommand({
          Bucket: ctx.bucket,
          Key: objectKey(ctx.prefix, info.id),
          Body,
          ContentLength: size,
          ContentMD5: md5,
          ...objectHeadersOf(info.metadata, ctx.inlineTypes),
          ...(metadata ? { Metadata: metadata } : {}),
          ...putChecksumParams(info),
        }),
        { abortSignal },
      ),
    () => ctx.fence.assertHeld(),
  );
  ctx.metrics.partsUploaded++;
  ctx.metrics.partBytesUploaded += size;
  // An upload created in this request exists for nobody else yet: no one can have removed it.
  if (ctx.fence.generation > 0 && !isUnwritten(info)) await confirmNotTerminated(ctx, info);
  return { partNumber, size, etag: bareEtag(res.ETag) || 'put' };
}

/**
 * The object's user metadata: its digest, and for an upload created in this request without
 * its .info, the info folded in (s3/folded-info.ts; creation checked that it fits). Only then:
 * an upload that has a .info could be terminated while its PutObject is in flight, and that
 * object, landing late, must not read as a finished upload.
 */
function wholeObjectMetadata(info: UploadInfo): Record<string, string> | undefined {
  const digest = objectDigestMetadata(info).Metadata;
  if (!isUnwritten(info)) return digest;
  const metadata = withFoldedInfo(info, digest);
  if (metadata === undefined) {
    throw new Error(`upload ${info.id}: its info no longer fits in its object's metadata`);
  }
  return metadata;
}

/**
 * Under a shared lock, a PutObject sent by a holder that lost its lock (paused past its
 * lease) may land after another instance terminated the upload, and would recreate its
 * object. Termination removes a one-part upload's object before and after its info
 * (s3/store.ts), so one of the two sees the other: the object is removed either by the
 * termination or here.
 */
async function confirmNotTerminated(ctx: StoreContext, info: UploadInfo): Promise<void> {
  const exists = await ctx.client
    .send(new HeadObjectCommand({ Bucket: ctx.bucket, Key: infoKey(ctx.prefix, info.id) }))
    .then(
      () => true,
      (err: unknown) => {
        if (isS3NotFound(err)) return false;
        throw err;
      },
    );
  if (exists) return;
  await ctx.client.send(
    new DeleteObjectCommand({ Bucket: ctx.bucket, Key: objectKey(ctx.prefix, info.id) }),
  );
  throw ERRORS.FILE_NOT_FOUND;
}
