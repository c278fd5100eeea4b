// The open marker: an empty object per unfinished upload that has no multipart upload of its
// own, so the expiration sweep finds every upload that may expire from two listings
// (ListMultipartUploads and these markers) instead of from every upload ever made.
// Uploads with a multipart upload need none: it is there exactly while they are unfinished.
// Partials always get one: a finished partial still expires (info.ts isExpired), and an
// adopted one gave its multipart upload up (s3/concat/direct-final.ts).
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { StoreContext } from './context.js';
import type { UploadInfo } from './info.js';
import { openMarkerKey } from './keys.js';

/** Whether the sweep can find this upload only by its open marker. */
export function needsOpenMarker(info: Pick<UploadInfo, 'uploadId' | 'concat'>): boolean {
  return info.uploadId === undefined || info.concat?.role === 'partial';
}

export async function writeOpenMarker(ctx: StoreContext, id: string): Promise<void> {
  await ctx.client.send(
    new PutObjectCommand({
      Bucket: ctx.bucket,
      Key: openMarkerKey(ctx.prefix, id),
      Body: Buffer.alloc(0),
      ContentLength: 0,
    }),
  );
}

/** Deleting a marker that is not there succeeds (S3 DeleteObject). */
export async function deleteOpenMarker(ctx: StoreContext, id: string): Promise<void> {
  await ctx.client.send(
    new DeleteObjectCommand({ Bucket: ctx.bucket, Key: openMarkerKey(ctx.prefix, id) }),
  );
}
