// The parts S3 holds for an upload (ListParts, paged), numbered from the upload's part 1
// (an adopted partial's are a range of its final's, s3/parts/target.ts). Parts that count
// toward an upload's offset never change, so only newer ones are listed: the known ones
// are cached per upload.
import { ListPartsCommand } from '@aws-sdk/client-s3';
import { isS3NotFound } from '../../errors.js';
import { bareEtag } from '../client.js';
import type { StoreContext } from '../context.js';
import type { UploadInfo } from '../info.js';
import type { StoredPart } from '../state/progress.js';
import { RecentMap } from '../state/recent-map.js';
import { type MultipartTarget, multipartTarget } from './target.js';

const PART_CACHE_LIMIT = 1000;

export class PartList {
  private readonly cache = new RecentMap<string, StoredPart[]>(PART_CACHE_LIMIT);

  constructor(private readonly ctx: StoreContext) {}

  /** The upload's parts, or 'gone' when its multipart upload no longer exists. */
  async list(info: UploadInfo): Promise<StoredPart[] | 'gone'> {
    const { client, bucket } = this.ctx;
    const target = multipartTarget(this.ctx.prefix, info);
    // A one-part upload has no multipart upload: its only part is the object itself.
    if (target === undefined) return [];
    const shift = target.firstPart - 1;
    const last = shift + target.parts;
    const known = this.cache.get(cacheKey(target)) ?? [];
    const parts = [...known];
    const lastKnown = known[known.length - 1]?.partNumber;
    let marker: string | undefined =
      lastKnown !== undefined ? String(lastKnown + shift) : shift > 0 ? String(shift) : undefined;
    try {
      for (;;) {
        const res = await client.send(
          new ListPartsCommand({
            Bucket: bucket,
            Key: target.key,
            UploadId: target.uploadId,
            PartNumberMarker: marker,
          }),
        );
        for (const p of res.Parts ?? []) {
          const n = p.PartNumber;
          // A final's other partials own the parts outside this range.
          if (n === undefined || n <= shift || n > last) continue;
          parts.push({ partNumber: n - shift, size: p.Size ?? 0, etag: bareEtag(p.ETag) });
        }
        const next = res.NextPartNumberMarker;
        if (!res.IsTruncated || next === undefined || Number(next) >= last) break;
        marker = String(next);
      }
    } catch (err) {
      if (isS3NotFound(err)) return 'gone';
      throw err;
    }
    return parts;
  }

  /** Parts that count toward the offset: the next listing starts after them. */
  remember(info: UploadInfo, parts: StoredPart[]): void {
    const target = multipartTarget(this.ctx.prefix, info);
    if (target !== undefined) this.cache.set(cacheKey(target), parts);
  }

  forget(info: UploadInfo): void {
    const target = multipartTarget(this.ctx.prefix, info);
    if (target !== undefined) this.cache.delete(cacheKey(target));
  }
}

/** Partials of one final share its multipart upload: each has its own range. */
function cacheKey(target: MultipartTarget): string {
  return `${target.uploadId}#${target.firstPart}`;
}
