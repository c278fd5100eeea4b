// Creation: CreateMultipartUpload (unless the upload fits in one part) and the info
// record (and the open marker, s3/open-marker.ts); the upload exists once they do. An
// upload whose whole body follows in the same request may write neither: its PutObject
// carries the info (s3/folded-info.ts), or, if the body does not complete it, the request
// writes them then (writeCreated), before it answers. So may one whose id seals its info
// (s3/sealed/): the request that brings its bytes does the same.
import { CreateMultipartUploadCommand } from '@aws-sdk/client-s3';
import type { Upload } from '@tus/utils';
import type { StoreContext } from './context.js';
import { multipartChecksumParams } from './digest/full-object-crc.js';
import { mayFold } from './folded-info.js';
import { fitsOnePart, objectRecordsCompletion, type UploadInfo } from './info.js';
import { writeInfo } from './info-io.js';
import { objectKey } from './keys.js';
import { objectDigestMetadata, objectHeadersOf } from './object-headers.js';
import { needsOpenMarker, writeOpenMarker } from './open-marker.js';
import type { SealedCreation } from './sealed/seal.js';
import { isSealedAs } from './sealed/sealed-info.js';
import { markUnwritten, markWritten } from './state/unwritten.js';

export async function startUpload(
  ctx: StoreContext,
  upload: Upload,
  extra: Pick<
    UploadInfo,
    'partSize' | 'concat' | 'owner' | 'tenant' | 'digest' | 'announcedLength' | 'instant'
  > & {
    /** Another creation time than now (a waiting final expires with its partials). */
    createdAt?: string;
    /** The request brings all of the upload's bytes: its info may go with them. */
    wholeBodyFollows?: boolean;
    /**
     * What its id seals (s3/sealed/). If that is exactly this info, nothing needs writing
     * until bytes come, and the PutObject they complete may carry the info.
     */
    sealed?: SealedCreation;
  },
  multipart = !fitsOnePart(upload.size, extra.partSize),
): Promise<UploadInfo> {
  const { wholeBodyFollows, sealed, ...fields } = extra;
  let uploadId: string | undefined;
  if (multipart) {
    const mpu = await ctx.client.send(
      new CreateMultipartUploadCommand({
        Bucket: ctx.bucket,
        Key: objectKey(ctx.prefix, upload.id),
        ...objectHeadersOf(upload.metadata, ctx.inlineTypes),
        // A digest declared now is the object's metadata from the start (verified before
        // completion); one known later is in the info record only.
        ...objectDigestMetadata({ digest: extra.digest }),
        ...multipartChecksumParams(extra),
      }),
    );
    if (!mpu.UploadId) throw new Error('CreateMultipartUpload returned no UploadId');
    uploadId = mpu.UploadId;
  }
  const info: UploadInfo = {
    version: 1,
    id: upload.id,
    size: upload.size,
    metadata: upload.metadata,
    uploadId,
    ...fields,
    createdAt: new Date(fields.createdAt ?? sealed?.createdAt ?? Date.now()).toISOString(),
  };
  if (info.concat === undefined) delete info.concat;
  if (info.announcedLength === undefined || info.size !== undefined) delete info.announcedLength;
  if (info.uploadId === undefined) delete info.uploadId;
  if (info.owner === undefined) delete info.owner;
  if (info.tenant === undefined) delete info.tenant;
  if (info.instant === undefined) delete info.instant;
  if (info.digest === undefined) delete info.digest;
  else if (multipart && info.digest.declared !== undefined) {
    info.digest = { ...info.digest, onObject: true };
  }
  const asSealed = sealed !== undefined && isSealedAs(info, sealed);
  if ((wholeBodyFollows === true || asSealed) && mayFold(info)) {
    markUnwritten(info);
    ctx.log.debug({ id: info.id, size: info.size }, 'upload created, its info to be folded');
    return info;
  }
  await writeCreated(ctx, info);
  ctx.log.debug({ id: info.id, partSize: info.partSize, size: info.size }, 'upload created');
  return info;
}

/**
 * The info record and, if it needs one, the open marker: what makes the upload exist for
 * everyone else. For a folded creation whose body did not complete it, before the answer.
 */
export async function writeCreated(ctx: StoreContext, info: UploadInfo): Promise<void> {
  // The marker goes with the info, in parallel: no round trip more per creation. If only the
  // info is written the creation fails (no Location) and the sweep's full pass finds the
  // info; a marker without info is the incremental sweep's to delete. The marker of an upload
  // that one PutObject completes may wait (s3/pending-markers.ts): it is likely never needed.
  let marker: Promise<void> | undefined;
  if (ctx.markers && objectRecordsCompletion(info)) marker = ctx.markers.schedule(info.id);
  else if (needsOpenMarker(info)) marker = writeOpenMarker(ctx, info.id);
  await Promise.all([writeInfo(ctx, info), marker]);
  markWritten(info);
}
