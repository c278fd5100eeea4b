// The part a request body fills now, cut at absolute part boundaries: its buffer (from the
// request's lease), the segments earlier requests staged of the same part, and, when the
// part streams to S3 as it fills, that request. The buffer has room for those segments
// before the request's own bytes, so reading them back costs no memory outside the budget
// and no copy: the part goes out as one view of the buffer.
import type { StoreContext } from '../context.js';
import type { UploadInfo } from '../info.js';
import type { BufferLease } from '../memory/buffer-pool.js';
import { partEndAt, partNumberAt } from '../parts/arithmetic.js';
import { StreamedPart } from '../parts/streamed.js';
import { planCompaction, segmentBytes } from '../staging/compaction.js';
import { deleteKeys } from '../staging/listing.js';
import type { SegmentStaging } from '../staging/segments.js';
import type { Progress, StoredSegment } from '../state/progress.js';

/** A whole part cut from a request body, with the staged segments folded into it. */
export interface FullPart {
  partNumber: number;
  body: Buffer;
  /** The pool buffer backing `body`, returned once S3 has the part (not set when streamed). */
  pooled?: Buffer;
  /** Segments of earlier requests this part contains: deleted once the part is durable. */
  segs: StoredSegment[];
  /** Already on its way to S3 while it filled. */
  streamed?: StreamedPart;
}

export interface CutterDeps {
  ctx: StoreContext;
  segments: SegmentStaging;
  lease: BufferLease;
  info: UploadInfo;
}

export class PartCutter {
  /** Absolute offset of the first byte this request brings to the part. */
  private start: number;
  /** Bytes of the carried segments: the buffer's first bytes, read back when needed. */
  private head: number;
  /** Bytes this request put in the buffer, after the head. */
  private filled = 0;
  private buf: Buffer | undefined;
  /** Segments of the part being filled, staged by earlier requests. */
  private carried: StoredSegment[];
  /**
   * Stale segments below the offset (a merge's deletes that failed or were cut short):
   * they can never count again, since a live one starts at the offset. The next merge
   * deletes them, so they cannot pile up.
   */
  private leftovers: StoredSegment[];
  private streaming: StreamedPart | undefined;

  constructor(
    private readonly deps: CutterDeps,
    progress: Progress,
  ) {
    this.start = progress.offset;
    this.carried = progress.liveSegments;
    this.head = segmentBytes(this.carried);
    this.leftovers = progress.staleSegments.filter((s) => s.offset < progress.offset);
  }

  /** Where the received bytes end (absolute). */
  get end(): number {
    return this.start + this.filled;
  }

  get fill(): number {
    return this.filled;
  }

  get filling(): boolean {
    return this.buf !== undefined;
  }

  get full(): boolean {
    return this.buf !== undefined && this.head + this.filled === this.buf.length;
  }

  get partStart(): number {
    return this.start;
  }

  get carriedSegments(): number {
    return this.carried.length;
  }

  /** Segments that continue the parts once the request is over. */
  get liveSegments(): StoredSegment[] {
    return this.carried;
  }

  /** Stale segments known and not deleted yet. */
  get staleSegments(): StoredSegment[] {
    return this.leftovers;
  }

  /** Bytes from here to the end of the part that starts here. */
  nextPartSize(): number {
    const { partSize, size } = this.deps.info;
    return partEndAt(this.start, partSize, size) - this.start;
  }

  /** Size of the buffer begin() takes: the carried segments, then the rest of the part. */
  bufferSize(): number {
    return this.head + this.nextPartSize();
  }

  /**
   * Starts the next part in `buf` (of bufferSize()); a streaming part is in flight from its
   * first byte.
   */
  begin(buf: Buffer, streams: boolean): void {
    this.buf = buf;
    if (streams) {
      const { ctx, info } = this.deps;
      this.streaming = new StreamedPart(ctx, info, partNumberAt(this.start, info.partSize), buf);
    }
  }

  /** Copies from `chunk` at `pos` what fits into the part; returns how many bytes. */
  copy(chunk: Buffer, pos: number): number {
    const buf = this.buf as Buffer;
    const at = this.head + this.filled;
    const n = Math.min(chunk.length - pos, buf.length - at);
    chunk.copy(buf, at, pos, pos + n);
    this.filled += n;
    this.streaming?.advance(at + n);
    return n;
  }

  /** Takes the filled buffer, the carried segments read back into its head, as one part. */
  async take(): Promise<FullPart> {
    const { lease, info } = this.deps;
    const buf = this.buf;
    if (!buf) throw new Error('take() without a part filling');
    const partNumber = partNumberAt(this.start, info.partSize);
    const segs = this.carried;
    await this.readBack(segs, buf);
    const body = buf.subarray(0, this.head + this.filled);
    this.carried = [];
    this.head = 0;
    this.start += this.filled;
    this.filled = 0;
    this.buf = undefined;
    const streamed = this.streaming?.partNumber === partNumber ? this.streaming : undefined;
    this.streaming = undefined;
    if (streamed) {
      // From here the streamed part decides when its buffer is free (s3/parts/streamed.ts).
      streamed.handOver((b) => lease.give(b));
      return { partNumber, body, segs, streamed };
    }
    return { partNumber, body, pooled: buf, segs };
  }

  /** Reads `segs`, the last carried ones, into the head bytes they occupy in `buf`. */
  private async readBack(segs: readonly StoredSegment[], buf: Buffer): Promise<void> {
    if (segs.length === 0) return;
    const from = this.head - segmentBytes(segs);
    const n = await this.deps.segments.readInto(segs, buf.subarray(from, this.head));
    this.deps.ctx.metrics.segmentBytesReadBack += n;
  }

  /** The body ended inside a streaming part: its bytes are staged from the buffer instead. */
  async abandonStream(): Promise<void> {
    const cut = this.streaming;
    if (!cut) return;
    this.streaming = undefined;
    await cut.abandon();
  }

  /**
   * Stages the received bytes of the part as a segment for a later request to continue;
   * past MAX_LIVE_SEGMENTS (s3/staging/compaction.ts) merged with the newest carried ones.
   */
  async stageSegment(): Promise<void> {
    const { ctx, segments, lease, info } = this.deps;
    const buf = this.buf as Buffer;
    const merge = planCompaction(this.carried, this.filled);
    const seg = merge
      ? await this.stageMerged(merge, buf)
      : await segments.put(
          info.id,
          this.start,
          buf.subarray(this.head, this.head + this.filled),
          ctx.fence,
        );
    lease.give(buf);
    ctx.metrics.segmentsWritten++;
    ctx.metrics.segmentBytesWritten += seg.size;
    if (!merge) this.carried = [...this.carried, seg];
  }

  /**
   * Writes `merge` (the newest carried segments) and the tail as one segment at the first
   * merged segment's offset, then deletes the others. Order of writes, so that a kill or a
   * failure at any point loses no acknowledged byte:
   * 1. GETs of the merged segments, into the buffer's head: nothing in S3 changes.
   * 2. One PutObject at the first merged segment's offset, holding that segment's bytes, the
   *    other merged ones' and the tail. S3 replaces an object whole, so any listing sees
   *    either the old first segment (the offset stops where this request began; its tail
   *    was never acknowledged) or the superset, which ends past every other merged segment:
   *    those start inside it, and offset derivation (s3/state/progress.ts) takes them for
   *    stale. Either way every acknowledged byte is in a live segment.
   * 3. Only once S3 has answered the PutObject, the superseded segments are deleted. A
   *    kill or a failed delete leaves stale segments, which never count again; the next
   *    merge (or completion, or termination) deletes them.
   */
  private async stageMerged(merge: StoredSegment[], buf: Buffer): Promise<StoredSegment> {
    const { ctx, segments, info } = this.deps;
    const first = merge[0] as StoredSegment;
    await this.readBack(merge, buf);
    const from = this.head - segmentBytes(merge);
    const seg = await segments.put(
      info.id,
      first.offset,
      buf.subarray(from, this.head + this.filled),
      ctx.fence,
    );
    this.carried = [...this.carried.slice(0, this.carried.length - merge.length), seg];
    ctx.metrics.segmentMerges++;
    // Never a key that now holds live bytes: the superset may have overwritten one merged.
    const live = new Set(this.carried.map((s) => s.key));
    const stale = [...merge, ...this.leftovers].filter((s) => !live.has(s.key));
    // A holder that lost its lock deletes nothing: the segments may be its successor's chain.
    ctx.fence.assertHeld();
    this.leftovers = await deleteKeys(
      ctx.client,
      ctx.bucket,
      stale.map((s) => s.key),
    ).then(
      () => [],
      (err: unknown) => {
        ctx.log.warn({ err }, 'could not delete merged segments');
        return stale;
      },
    );
    return seg;
  }

  /** Gives the part buffer back: its bytes will not count. */
  release(): void {
    if (this.buf) this.deps.lease.give(this.buf);
  }
}
