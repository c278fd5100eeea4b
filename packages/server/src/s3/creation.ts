// Creation: CreateMultipartUpload (unless the upload fits in one part) and the info
// record; the upload exists once both do.
import { CreateMultipartUploadCommand } from '@aws-sdk/client-s3';
import type { Upload } from '@tus/utils';
import type { StoreContext } from './context.js';
import { fitsOnePart, type UploadInfo } from './info.js';
import { writeInfo } from './info-io.js';
import { objectKey } from './keys.js';
import { objectHeadersOf } from './object-headers.js';

export async function startUpload(
  ctx: StoreContext,
  upload: Upload,
  extra: Pick<UploadInfo, 'partSize' | 'concat'>,
  multipart = !fitsOnePart(upload.size, extra.partSize),
): Promise<UploadInfo> {
  let uploadId: string | undefined;
  if (multipart) {
    const mpu = await ctx.client.send(
      new CreateMultipartUploadCommand({
        Bucket: ctx.bucket,
        Key: objectKey(ctx.prefix, upload.id),
        ...objectHeadersOf(upload.metadata, ctx.inlineTypes),
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
    createdAt: new Date().toISOString(),
    ...extra,
  };
  if (info.concat === undefined) delete info.concat;
  if (info.uploadId === undefined) delete info.uploadId;
  await writeInfo(ctx, info);
  ctx.log.debug({ id: info.id, partSize: info.partSize, size: info.size }, 'upload created');
  return info;
}
