// Durable staging of the sub-part tail: bytes past the last whole part are written as
// immutable segment objects before a PATCH is acknowledged, and folded into the part
// they belong to once it fills. A segment is deleted only after that part is durable and
// counts. (Listing is s3/staging/listing.ts's: one listing finds every kind of staged object.)
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { segmentKey } from '../keys.js';
import { type Bytes, bodyOf, byteLength, md5Of } from '../memory/bytes.js';
import type { PartChecksum } from '../parts/part-checksum.js';
import type { StoredSegment } from '../state/progress.js';

export class SegmentStaging {
  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
    private readonly prefix: string,
    private readonly partChecksum: PartChecksum = 'md5',
  ) {}

  async put(id: string, offset: number, bytes: Bytes): Promise<StoredSegment> {
    const key = segmentKey(this.prefix, id, offset);
    const size = byteLength(bytes);
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        Body: bodyOf(bytes),
        ContentLength: size,
        ContentMD5: md5Of(this.partChecksum, bytes),
      }),
    );
    return { key, offset, size };
  }

  /** Reads segments back in order; checks each has the length it was listed with. */
  async read(segments: readonly StoredSegment[]): Promise<Buffer[]> {
    return Promise.all(
      segments.map(async (seg) => {
        const res = await this.client.send(
          new GetObjectCommand({ Bucket: this.bucket, Key: seg.key }),
        );
        const bytes = Buffer.from((await res.Body?.transformToByteArray()) ?? new Uint8Array());
        if (bytes.length !== seg.size) {
          throw new Error(`segment ${seg.key} has ${bytes.length} bytes, listed ${seg.size}`);
        }
        return bytes;
      }),
    );
  }

  async delete(segments: readonly StoredSegment[]): Promise<void> {
    for (let i = 0; i < segments.length; i += 1000) {
      const batch = segments.slice(i, i + 1000);
      await this.client.send(
        new DeleteObjectsCommand({
          Bucket: this.bucket,
          Delete: { Objects: batch.map((s) => ({ Key: s.key })), Quiet: true },
        }),
      );
    }
  }
}
