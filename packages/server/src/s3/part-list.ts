// The parts S3 holds for an upload (ListParts, paged). Parts that count toward an
// upload's offset never change, so only newer ones are listed: the known ones are cached
// per multipart upload.
import { ListPartsCommand } from '@aws-sdk/client-s3';
import { isS3NotFound } from '../errors.js';
import type { StoreContext } from './context.js';
import type { UploadInfo } from './info.js';
import { objectKey } from './keys.js';
import type { StoredPart } from './offset.js';
import { RecentMap } from './recent-map.js';
import { bareEtag } from './s3-client.js';

const PART_CACHE_LIMIT = 1000;

export class PartList {
  private readonly cache = new RecentMap<string, StoredPart[]>(PART_CACHE_LIMIT);

  constructor(private readonly ctx: StoreContext) {}

  /** The upload's parts, or 'gone' when its multipart upload no longer exists. */
  async list(info: UploadInfo): Promise<StoredPart[] | 'gone'> {
    const { client, bucket, prefix } = this.ctx;
    // A one-part upload has no multipart upload: its only part is the object itself.
    if (info.uploadId === undefined) return [];
    const known = this.cache.get(info.uploadId) ?? [];
    const parts = [...known];
    let marker = known.length > 0 ? String(known[known.length - 1]?.partNumber) : undefined;
    try {
      for (;;) {
        const res = await client.send(
          new ListPartsCommand({
            Bucket: bucket,
            Key: objectKey(prefix, info.id),
            UploadId: info.uploadId,
            PartNumberMarker: marker,
          }),
        );
        for (const p of res.Parts ?? []) {
          if (p.PartNumber === undefined) continue;
          parts.push({ partNumber: p.PartNumber, size: p.Size ?? 0, etag: bareEtag(p.ETag) });
        }
        if (!res.IsTruncated || res.NextPartNumberMarker === undefined) break;
        marker = String(res.NextPartNumberMarker);
      }
    } catch (err) {
      if (isS3NotFound(err)) return 'gone';
      throw err;
    }
    return parts;
  }

  /** Parts that count toward the offset: the next listing starts after them. */
  remember(uploadId: string | undefined, parts: StoredPart[]): void {
    if (uploadId !== undefined) this.cache.set(uploadId, parts);
  }

  forget(uploadId: string | undefined): void {
    if (uploadId !== undefined) this.cache.delete(uploadId);
  }
}
