// The part a request body fills now, cut at absolute part boundaries: its buffer (from the
// request's lease), the segments earlier requests staged of the same part, and, when the
// part streams to S3 as it fills, that request.
import type { StoreContext } from '../context.js';
import type { UploadInfo } from '../info.js';
import type { BufferLease } from '../memory/buffer-pool.js';
import { partEndAt, partNumberAt } from '../parts/arithmetic.js';
import { StreamedPart } from '../parts/streamed.js';
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
  /** Absolute offset of the buffer's first byte. */
  private start: number;
  /** Bytes in the buffer. */
  private filled = 0;
  private buf: Buffer | undefined;
  /** Segments of the part being filled, staged by earlier requests. */
  private carried: StoredSegment[];
  private streaming: StreamedPart | undefined;

  constructor(
    private readonly deps: CutterDeps,
    progress: Progress,
  ) {
    this.start = progress.offset;
    this.carried = progress.liveSegments;
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
    return this.buf !== undefined && this.filled === this.buf.length;
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

  /** Bytes from here to the end of the part that starts here. */
  nextPartSize(): number {
    const { partSize, size } = this.deps.info;
    return partEndAt(this.start, partSize, size) - this.start;
  }

  /** Starts the next part in `buf`; a streaming part is in flight from its first byte. */
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
    const n = Math.min(chunk.length - pos, buf.length - this.filled);
    chunk.copy(buf, this.filled, pos, pos + n);
    this.filled += n;
    this.streaming?.advance(this.filled);
    return n;
  }

  /** Takes the filled buffer (with the carried segments before it) as one part. */
  async take(): Promise<FullPart> {
    const { lease, info } = this.deps;
    const partNumber = partNumberAt(this.start, info.partSize);
    const segs = this.carried;
    this.carried = [];
    const head = segs.length > 0 ? await this.deps.segments.read(segs) : [];
    for (const h of head) this.deps.ctx.metrics.segmentBytesReadBack += h.length;
    const filled = this.buf;
    const own = (filled ?? Buffer.alloc(0)).subarray(0, this.filled);
    const body = head.length > 0 ? Buffer.concat([...head, own]) : own;
    // After a concat the part buffer is free at once; otherwise once S3 has the part.
    if (filled && body !== own) lease.give(filled);
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
    return { partNumber, body, pooled: body === own ? filled : undefined, segs };
  }

  /** The body ended inside a streaming part: its bytes are staged from the buffer instead. */
  async abandonStream(): Promise<void> {
    const cut = this.streaming;
    if (!cut) return;
    this.streaming = undefined;
    await cut.abandon();
  }

  /** Stages the received bytes of the part as a segment for a later request to continue. */
  async stageSegment(): Promise<void> {
    const { ctx, segments, lease, info } = this.deps;
    const buf = this.buf as Buffer;
    const seg = await segments.put(info.id, this.start, buf.subarray(0, this.filled), ctx.fence);
    lease.give(buf);
    ctx.metrics.segmentsWritten++;
    ctx.metrics.segmentBytesWritten += seg.size;
    this.carried = [...this.carried, seg];
  }

  /** Gives the part buffer back: its bytes will not count. */
  release(): void {
    if (this.buf) this.deps.lease.give(this.buf);
  }
}
