// Durable staging of the sub-part tail: bytes past the last whole part are written as
// immutable segment objects before a PATCH is acknowledged, and folded into the part
// they belong to once it fills. A segment is deleted only after that part is durable and
// counts. (Listing is s3/staging/listing.ts's: one listing finds every kind of staged object.)
//
// Staged bytes are never read back into memory: a part, a merged segment or a one-part
// object that begins with segments streams them, a few GETs ahead, straight into the
// body of the S3 request that writes it (s3/staging/staged-body.ts). That takes no part
// memory, so folding segments never waits for the budget (see the server README, "Part
// memory").
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  type GetObjectCommandOutput,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { Fence } from '../../locks/fence.js';
import { segmentHashMetadata } from '../digest/state.js';
import { segmentKey } from '../keys.js';
import type { Bytes } from '../memory/bytes.js';
import type { PartChecksum } from '../parts/part-checksum.js';
import type { StoredSegment } from '../state/progress.js';
import { storageUnavailable } from '../transport-errors.js';
import type { StagedRun } from './staged-body.js';
import { putStaged } from './staged-put.js';

/** Segment GETs open at once while staged bytes stream into a body. */
const READ_AHEAD = 4;

export class SegmentStaging {
  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
    private readonly prefix: string,
    private readonly partChecksum: PartChecksum = 'md5',
  ) {}

  /**
   * Stages `bytes` at `offset` under the key of `fence`'s generation, unless the lock may
   * be lost: a newer holder's segment at the same offset is never replaced. With `head`
   * (segments merged into this one, s3/staging/compaction.ts), the object holds their bytes
   * streamed from S3, then `bytes`. With `hash`, its user metadata holds the upload's hash
   * state at its end (s3/digest/state.ts).
   */
  async put(
    id: string,
    offset: number,
    bytes: Bytes,
    fence: Fence,
    head?: StagedRun,
    hash?: Uint8Array,
  ): Promise<StoredSegment> {
    const { generation } = fence;
    const key = segmentKey(this.prefix, id, offset, generation);
    const { client, bucket, partChecksum } = this;
    const before = () => fence.assertHeld();
    // The upload's hash state after this segment's last byte travels in the same write.
    const metadata = hash ? segmentHashMetadata(hash) : undefined;
    const put = { client, bucket, key, partChecksum, bytes, head, before, metadata };
    const size = await putStaged(put);
    return { key, offset, size, generation };
  }

  /** Contiguous `segments` (in offset order) as one run of bytes to stream from S3. */
  run(segments: readonly StoredSegment[]): StagedRun {
    let size = 0;
    for (const seg of segments) size += seg.size;
    return { segments, size, open: () => this.stream(segments) };
  }

  /**
   * The bytes of `segments` in order, each body passed on as it arrives. Up to
   * READ_AHEAD GETs are open at once, so many small segments cost a few round trips, not
   * one each; the ones ahead hold what their socket buffers (not the segment). Checks each
   * has the length it was listed with. On a failure or an early stop every GET started
   * has settled and its body is destroyed before this ends: nothing reads on.
   */
  private async *stream(segments: readonly StoredSegment[]): AsyncGenerator<Buffer> {
    const open = segments.map(() => undefined as Promise<GetObjectCommandOutput> | undefined);
    const get = (i: number) => {
      const seg = segments[i];
      if (seg === undefined || open[i] !== undefined) return;
      const res = this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: seg.key }));
      // Awaited in turn (or settled below); a GET ahead that fails first is no crash.
      res.catch(() => undefined);
      open[i] = res;
    };
    let i = 0;
    try {
      for (; i < segments.length; i++) {
        for (let j = i; j < Math.min(segments.length, i + READ_AHEAD); j++) get(j);
        yield* bodyOf(
          segments[i] as StoredSegment,
          await (open[i] as Promise<GetObjectCommandOutput>),
        );
      }
    } finally {
      const ahead = open.slice(i + 1).filter((p) => p !== undefined);
      const settled = await Promise.allSettled(ahead);
      for (const r of settled) {
        if (r.status === 'fulfilled')
          (r.value.Body as { destroy?: () => void } | undefined)?.destroy?.();
      }
    }
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

/** One segment's GET body, checked against the length it was listed with. */
async function* bodyOf(seg: StoredSegment, res: GetObjectCommandOutput): AsyncGenerator<Buffer> {
  let got = 0;
  const wrong = (n: string) => new Error(`segment ${seg.key} has ${n} bytes, listed ${seg.size}`);
  // Leaving the loop early (too long, or the consumer stopped) destroys the body, freeing
  // its connection.
  try {
    for await (const chunk of (res.Body ?? []) as AsyncIterable<Uint8Array>) {
      got += chunk.length;
      if (got > seg.size) throw wrong('more');
      yield Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
    }
  } catch (err) {
    // A body cut or stalled by S3 fails after the SDK's own error mapping (s3/client.ts)
    // has run: it is storage that may come back too, not an internal error.
    throw storageUnavailable(err) ?? err;
  }
  if (got !== seg.size) throw wrong(String(got));
}
