// Completion: turning a multipart upload whose bytes are all durable into the object,
// checked against the declared size before the info record says it is complete.
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  HeadObjectCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { isS3NotFound } from '../errors.js';
import { verifyWholeDigest } from '../extensions/repr-digest.js';
import { quotedEtag } from './client.js';
import type { StoreContext } from './context.js';
import { completeChecksumParams, putChecksumParams } from './digest/full-object-crc.js';
import { digestsOf } from './digest/hasher.js';
import { adoptionOf, hashesUpload, objectRecordsCompletion, type UploadInfo } from './info.js';
import { writeInfo } from './info-io.js';
import { indexCompleted } from './instant/index-writes.js';
import { objectKey } from './keys.js';
import { objectDigestMetadata, objectHeadersOf } from './object-headers.js';
import { deleteOpenMarker } from './open-marker.js';
import { expectedPartLength, partCount } from './parts/arithmetic.js';
import type { PartList } from './parts/list.js';
import { uploadPart } from './parts/upload.js';
import { clearStaging } from './staging/cleanup.js';
import type { SegmentStaging } from './staging/segments.js';
import type { Progress, StoredPart } from './state/progress.js';
import { isUnwritten } from './state/unwritten.js';

export interface CompletionDeps {
  ctx: StoreContext;
  segments: SegmentStaging;
  parts: PartList;
  /** Instant upload is on: a completed upload with a verified digest enters the index. */
  indexes?: boolean;
}

/**
 * Completes the object from a progress that reached the declared size: uploads the last
 * part from staged segments if needed, verifies the part list, completes, checks the
 * object's length, then marks the info complete (unless the object records it, see
 * `objectRecordsCompletion`) and clears staging (unless the caller knows nothing was ever
 * staged: one listing less per upload). Returns the info, complete.
 */
export async function finish(
  deps: CompletionDeps,
  given: UploadInfo,
  progress: Progress,
  staged = true,
): Promise<UploadInfo> {
  const { ctx } = deps;
  const info = await withVerifiedDigest(given, progress);
  const size = info.size as number;
  const key = objectKey(ctx.prefix, info.id);
  let parts = [...progress.parts];
  // Completing is writing: a holder that lost its lock leaves it to its successor.
  ctx.fence.assertHeld();
  // An adopted partial's parts are a range of its final's multipart upload: once they are
  // all there, the partial is done; the final is completed by whoever finishes it last.
  const adopted = adoptionOf(info) !== undefined;
  if (info.uploadId === undefined && !adopted) {
    // One part, the object itself: PutObject wrote it whole (Content-Length checked by S3)
    // when the last byte arrived, or does now from bytes staged by earlier requests.
    if (parts.length === 0) {
      const staged = deps.segments.run(progress.liveSegments);
      ctx.metrics.segmentBytesReadBack += staged.size;
      parts.push(await uploadPart(ctx, info, 1, [], staged));
    }
    if (parts.length !== 1 || parts[0]?.size !== size) {
      throw new Error(`one-part upload ${info.id} does not hold its ${size} bytes`);
    }
  } else if (size === 0) {
    await ctx.client.send(
      new PutObjectCommand({
        Bucket: ctx.bucket,
        Key: key,
        Body: Buffer.alloc(0),
        ContentLength: 0,
        ...objectHeadersOf(info.metadata, ctx.inlineTypes),
        ...objectDigestMetadata(info),
        ...putChecksumParams(info),
      }),
    );
    await ctx.client
      .send(
        new AbortMultipartUploadCommand({ Bucket: ctx.bucket, Key: key, UploadId: info.uploadId }),
      )
      .catch((err: unknown) => {
        if (!isS3NotFound(err)) throw err;
      });
  } else {
    const total = partCount(size, info.partSize);
    if (parts.length < total && progress.liveSegments.length > 0) {
      const staged = deps.segments.run(progress.liveSegments);
      ctx.metrics.segmentBytesReadBack += staged.size;
      parts.push(await uploadPart(ctx, info, total, [], staged));
    }
    parts = verifyPartList(parts, info.partSize, size);
    if (!adopted) await completeMultipart(ctx, info, parts);
  }
  const done: UploadInfo = { ...info, completedAt: new Date().toISOString() };
  // A challenge nobody answered has nothing left to prove.
  delete done.instant;
  ctx.fence.assertHeld();
  if (!objectRecordsCompletion(info)) await writeInfo(ctx, done);
  ctx.metrics.completed++;
  deps.parts.forget(info);
  // A final upload never staged anything. A finished one-part upload leaves the sweep's view
  // (a finished partial still expires: its marker stays until it is removed).
  await Promise.all([
    staged && info.concat?.role !== 'final' ? clearStaging(ctx, info.id) : undefined,
    // A folded upload (s3/folded-info.ts) never had a marker.
    // One still waiting to be written (s3/pending-markers.ts) never will be.
    objectRecordsCompletion(info) && !isUnwritten(given) && !ctx.markers?.cancel(info.id)
      ? deleteOpenMarker(ctx, info.id)
      : undefined,
    // After the info says complete: an entry never names an upload that is not finished.
    deps.indexes ? indexCompleted(ctx, done) : undefined,
  ]);
  ctx.log.debug({ id: info.id, size, parts: parts.length }, 'upload completed');
  return done;
}

/**
 * A hashed upload completes only if its digest is the declared one (460 otherwise, before
 * anything is published); the info then records the digest. The request that brought the
 * last byte checked it already (s3/patch/request.ts); a look that finishes an upload whose
 * bytes were all durable checks it here.
 */
async function withVerifiedDigest(info: UploadInfo, progress: Progress): Promise<UploadInfo> {
  if (!hashesUpload(info)) return info;
  const known = info.digest?.sha256;
  const digests =
    known !== undefined && (info.digest?.crc64nvme !== undefined || !info.digest?.fullObjectCrc)
      ? { sha256: known }
      : await digestsOf(progress.hash, info.digest?.fullObjectCrc);
  verifyWholeDigest(info.digest?.declared, digests.sha256);
  return { ...info, digest: { ...info.digest, ...digests } };
}

/** CompleteMultipartUpload with a verified part list, then the object's length checked. */
async function completeMultipart(
  ctx: StoreContext,
  info: UploadInfo,
  parts: StoredPart[],
): Promise<void> {
  const key = objectKey(ctx.prefix, info.id);
  const size = info.size as number;
  await ctx.client.send(
    new CompleteMultipartUploadCommand({
      Bucket: ctx.bucket,
      Key: key,
      UploadId: info.uploadId,
      MultipartUpload: {
        Parts: parts.map((p) => ({ PartNumber: p.partNumber, ETag: quotedEtag(p.etag) })),
      },
      ...completeChecksumParams(info),
    }),
  );
  // RGW answers Complete with an empty ETag: the object's length is the check.
  const head = await ctx.client.send(new HeadObjectCommand({ Bucket: ctx.bucket, Key: key }));
  if (head.ContentLength !== size) {
    throw new Error(`completed object ${key} has ${head.ContentLength} bytes, expected ${size}`);
  }
}

/** The part list must be 1..n, each of exactly the length its position demands. */
export function verifyPartList(parts: StoredPart[], partSize: number, size: number): StoredPart[] {
  const sorted = [...parts].sort((a, b) => a.partNumber - b.partNumber);
  const total = partCount(size, partSize);
  if (sorted.length !== total) {
    throw new Error(`part list has ${sorted.length} parts, the upload needs ${total}`);
  }
  sorted.forEach((p, i) => {
    const want = expectedPartLength(i + 1, partSize, size);
    if (p.partNumber !== i + 1 || p.size !== want || !p.etag) {
      throw new Error(`part ${i + 1} is missing or has ${p.size} bytes instead of ${want}`);
    }
  });
  return sorted;
}
