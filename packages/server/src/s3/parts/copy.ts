// UploadPartCopy: one part of a multipart upload filled server-side from a byte range of
// an existing object, so those bytes never pass through this server.
import { type S3Client, UploadPartCopyCommand } from '@aws-sdk/client-s3';
import { bareEtag } from '../client.js';
import type { StoredPart } from '../state/progress.js';

export interface PartTarget {
  bucket: string;
  key: string;
  uploadId: string;
  partNumber: number;
}

/**
 * Copies bytes [start, end) of `sourceKey` (same bucket) into the target part; with
 * `ifMatch`, only while the source still has that ETag (412 otherwise).
 */
export async function copyPart(
  client: S3Client,
  target: PartTarget,
  sourceKey: string,
  start: number,
  end: number,
  ifMatch?: string,
): Promise<StoredPart> {
  if (end <= start) throw new Error(`empty copy range ${start}-${end} of ${sourceKey}`);
  const res = await client.send(
    new UploadPartCopyCommand({
      Bucket: target.bucket,
      Key: target.key,
      UploadId: target.uploadId,
      PartNumber: target.partNumber,
      CopySource: copySource(target.bucket, sourceKey),
      CopySourceRange: `bytes=${start}-${end - 1}`,
      CopySourceIfMatch: ifMatch,
    }),
  );
  // RGW answers this ETag unquoted; stored bare either way.
  const etag = bareEtag(res.CopyPartResult?.ETag);
  if (!etag) throw new Error(`UploadPartCopy of ${sourceKey} returned no ETag`);
  return { partNumber: target.partNumber, size: end - start, etag };
}

/** bucket/key, URL-encoded per segment (keys may hold the prefix's slashes). */
export function copySource(bucket: string, key: string): string {
  return `${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
}
