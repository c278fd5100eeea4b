// Aborting an upload's multipart upload, where one already gone counts as done.
import { AbortMultipartUploadCommand } from '@aws-sdk/client-s3';
import { isS3NotFound } from '../errors.js';
import type { StoreContext } from './context.js';
import { objectKey } from './keys.js';

/** Aborts the multipart upload `uploadId` of upload `id`; NoSuchUpload is success. */
export async function abortMultipart(
  ctx: StoreContext,
  id: string,
  uploadId: string,
): Promise<void> {
  await ctx.client
    .send(
      new AbortMultipartUploadCommand({
        Bucket: ctx.bucket,
        Key: objectKey(ctx.prefix, id),
        UploadId: uploadId,
      }),
    )
    .catch((err: unknown) => {
      if (!isS3NotFound(err)) throw err;
    });
}
