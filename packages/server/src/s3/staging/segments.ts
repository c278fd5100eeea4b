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
import type { Fence } from '../../locks/fence.js';
import { segmentKey } from '../keys.js';
import { contentMd5, type PartChecksum } from '../parts/part-checksum.js';
import type { StoredSegment } from '../state/progress.js';

/** Segment GETs in flight at once while reading staged bytes back. */
const READ_CONCURRENCY = 4;

export class SegmentStaging {
  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
    private readonly prefix: string,
    private readonly partChecksum: PartChecksum = 'md5',
  ) {}

  /**
   * Stages `bytes` at `offset` under the key of `fence`'s generation, unless the lock may
   * be lost: a newer holder's segment at the same offset is never replaced.
   */
  async put(id: string, offset: number, bytes: Buffer, fence: Fence): Promise<StoredSegment> {
    const { generation } = fence;
    const key = segmentKey(this.prefix, id, offset, generation);
    fence.assertHeld();
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        Body: bytes,
        ContentLength: bytes.length,
        ContentMD5: contentMd5(this.partChecksum, bytes),
      }),
    );
    return { key, offset, size: bytes.length, generation };
  }

  /**
   * Reads contiguous `segments` (in offset order) into `into` from its start, a few GETs at
   * a time, each body streamed straight into place: the caller's buffer (a part buffer,
   * charged to the part memory) is the only copy. Checks each has the length it was listed
   * with. Returns the bytes read.
   */
  async readInto(segments: readonly StoredSegment[], into: Buffer): Promise<number> {
    const at: number[] = [];
    let total = 0;
    for (const seg of segments) {
      at.push(total);
      total += seg.size;
    }
    if (total > into.length) {
      throw new RangeError(`${total} staged bytes do not fit a ${into.length}-byte buffer`);
    }
    let next = 0;
    let failed = false;
    const worker = async () => {
      for (let i = next++; i < segments.length && !failed; i = next++) {
        try {
          await this.readOne(segments[i] as StoredSegment, into, at[i] as number);
        } catch (err) {
          failed = true;
          throw err;
        }
      }
    };
    const workers = Math.min(READ_CONCURRENCY, segments.length);
    // Every read has stopped writing into `into` before this returns or throws: the caller
    // may hand the buffer to another request right after.
    const settled = await Promise.allSettled(Array.from({ length: workers }, worker));
    for (const r of settled) if (r.status === 'rejected') throw r.reason;
    return total;
  }

  /** `segments` read into one buffer of their size (paths outside a PATCH's part buffer). */
  async readAll(segments: readonly StoredSegment[]): Promise<Buffer> {
    let total = 0;
    for (const seg of segments) total += seg.size;
    const out = Buffer.allocUnsafe(total);
    await this.readInto(segments, out);
    return out;
  }

  private async readOne(seg: StoredSegment, into: Buffer, from: number): Promise<void> {
    const res = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: seg.key }));
    const end = from + seg.size;
    let pos = from;
    const wrong = (n: string) => new Error(`segment ${seg.key} has ${n} bytes, listed ${seg.size}`);
    // Leaving the loop early (too long) destroys the body, freeing its connection.
    for await (const chunk of (res.Body ?? []) as AsyncIterable<Uint8Array>) {
      if (pos + chunk.length > end) throw wrong('more');
      into.set(chunk, pos);
      pos += chunk.length;
    }
    if (pos !== end) throw wrong(String(pos - from));
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
