// The part a request body fills now, cut at absolute part boundaries: its buffer (slabs
// from the request's lease, taken as bytes arrive), the segments earlier requests staged of
// the same part, and, when the part streams to S3 as it fills, that request.
import type { StoreContext } from '../context.js';
import type { UploadInfo } from '../info.js';
import type { BufferLease } from '../memory/buffer-pool.js';
import { PartBuffer } from '../memory/part-buffer.js';
import { partEndAt, partNumberAt } from '../parts/arithmetic.js';
import { StreamedPart } from '../parts/streamed.js';
import type { SegmentStaging } from '../staging/segments.js';
import type { Progress, StoredSegment } from '../state/progress.js';

/** A whole part cut from a request body, with the staged segments folded into it. */
export interface FullPart {
  partNumber: number;
  /** The part's bytes in order: staged segments read back, then slab views. */
  body: Buffer[];
  /** The buffer behind `body`, given back once S3 has the part (not set when streamed). */
  pooled?: PartBuffer;
  /** Whether `body` is all `pooled`'s (no segments before it). */
  ownOnly: boolean;
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
  private buf: PartBuffer | undefined;
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
    return this.start + this.fill;
  }

  /** Bytes in the buffer. */
  get fill(): number {
    return this.buf?.length ?? 0;
  }

  get filling(): boolean {
    return this.buf !== undefined;
  }

  get full(): boolean {
    return this.buf?.full === true;
  }

  /** The part being filled needs another slab before its next byte. */
  get needsSlab(): boolean {
    return this.buf?.needsSlab === true;
  }

  /** Bytes of the segments earlier requests staged of this part. */
  get carriedBytes(): number {
    let n = 0;
    for (const seg of this.carried) n += seg.size;
    return n;
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

  /**
   * Starts the next part of `size` bytes, no slab taken yet; a streaming part is in flight
   * from its first byte, and an early one gives its slabs back as the kernel takes them
   * (its staged segments, read back, go out first).
   */
  async begin(size: number, streams: boolean, early: boolean): Promise<void> {
    const { ctx, info, lease } = this.deps;
    const buf = new PartBuffer(size, lease);
    this.buf = buf;
    if (!streams) return;
    const partNumber = partNumberAt(this.start, info.partSize);
    const head = early ? await this.readCarried() : [];
    this.streaming = new StreamedPart(ctx, info, partNumber, buf, { early, head });
  }

  /** Whether the part being filled streams to S3 as it fills. */
  get streams(): boolean {
    return this.streaming !== undefined;
  }

  private async readCarried(): Promise<Buffer[]> {
    const segs = this.carried;
    const head = segs.length > 0 ? await this.deps.segments.read(segs) : [];
    for (const h of head) this.deps.ctx.metrics.segmentBytesReadBack += h.length;
    return head;
  }

  /** Adds the slab the next byte needs, taken from the lease. */
  addSlab(slab: Buffer): void {
    (this.buf as PartBuffer).add(slab);
  }

  /**
   * Stages the bytes of the part so far as a segment and goes on with the rest of the part,
   * holding no slab: a request waiting for memory gives back what it holds.
   */
  async spill(): Promise<void> {
    const buf = this.buf as PartBuffer;
    await this.stageSegment();
    this.start += buf.length;
    this.buf = new PartBuffer(buf.size - buf.length, this.deps.lease);
  }

  /** Copies from `chunk` at `pos` what fits into the current slab; returns how many bytes. */
  copy(chunk: Buffer, pos: number): number {
    const buf = this.buf as PartBuffer;
    const n = buf.copy(chunk, pos);
    this.streaming?.advance(buf.length);
    return n;
  }

  /** Takes the filled buffer (with the carried segments before it) as one part. */
  async take(): Promise<FullPart> {
    const { info } = this.deps;
    const partNumber = partNumberAt(this.start, info.partSize);
    const segs = this.carried;
    const filled = this.buf;
    this.start += this.fill;
    this.buf = undefined;
    const streamed = this.streaming?.partNumber === partNumber ? this.streaming : undefined;
    this.streaming = undefined;
    if (streamed && filled) {
      this.carried = [];
      // From here the streamed part decides when its buffer is free (s3/parts/streamed.ts);
      // an early one gave slabs back already, so its bytes are not read here.
      streamed.handOver(() => filled.release());
      return { partNumber, body: [], segs, streamed, ownOnly: true };
    }
    const head = await this.readCarried();
    this.carried = [];
    const own = filled?.chunks() ?? [];
    const body = head.length > 0 ? [...head, ...own] : own;
    return { partNumber, body, pooled: filled, segs, ownOnly: head.length === 0 };
  }

  /**
   * The body ended inside a streaming part: its bytes are staged from the buffer instead,
   * unless it streamed early and gave some back: then its bytes are dropped (never counted).
   */
  async abandonStream(): Promise<void> {
    const cut = this.streaming;
    if (!cut) return;
    this.streaming = undefined;
    await cut.abandon();
    if (this.buf?.lostBytes) {
      this.buf.release();
      this.buf = undefined;
    }
  }

  /** Stages the received bytes of the part as a segment for a later request to continue. */
  async stageSegment(): Promise<void> {
    const { ctx, segments, info } = this.deps;
    const buf = this.buf as PartBuffer;
    const seg = await segments.put(info.id, this.start, buf.chunks());
    buf.release();
    ctx.metrics.segmentsWritten++;
    ctx.metrics.segmentBytesWritten += seg.size;
    this.carried = [...this.carried, seg];
  }

  /** Gives the part buffer back: its bytes will not count. */
  release(): void {
    this.buf?.release();
  }
}
