// The part a request body fills now, cut at absolute part boundaries: its buffer (slabs
// from the request's lease, taken as bytes arrive), the segments earlier requests staged of
// the same part, and, when the part streams to S3 as it fills, that request.
//
// Carried segments are never read into memory: the S3 request that writes the part (or a
// merged segment) streams them from S3 ahead of the buffer's bytes (s3/staging/
// staged-body.ts). So folding or merging them takes no part memory, and a request never
// waits for the budget on their account: the only slabs it waits for are those of its own
// bytes, and a request that waits for one holding others gives those back by staging them
// (request.ts, spill), so no set of requests can hold memory while each waits for another's.
import type { StoreContext } from '../context.js';
import type { UploadHash } from '../digest/hasher.js';
import type { UploadInfo } from '../info.js';
import type { BufferLease } from '../memory/buffer-pool.js';
import { PartBuffer } from '../memory/part-buffer.js';
import { partEndAt, partNumberAt } from '../parts/arithmetic.js';
import { StreamedPart } from '../parts/streamed.js';
import { planCompaction, segmentBytes } from '../staging/compaction.js';
import { deleteKeys } from '../staging/listing.js';
import type { SegmentStaging } from '../staging/segments.js';
import type { StagedRun } from '../staging/staged-body.js';
import type { Progress, StoredSegment } from '../state/progress.js';

/** A whole part cut from a request body, with the staged segments folded into it. */
export interface FullPart {
  partNumber: number;
  /** The request's bytes of the part (slab views), after `head`'s. */
  body: Buffer[];
  /** Staged segments the part begins with, streamed from S3 when it is sent. */
  head?: StagedRun;
  /** The buffer behind `body`, given back once S3 has the part (not set when streamed). */
  pooled?: PartBuffer;
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
  /**
   * Stale segments below the offset (a merge's deletes that failed or were cut short):
   * they can never count again, since a live one starts at the offset. The next merge
   * deletes them, so they cannot pile up.
   */
  private leftovers: StoredSegment[];
  private streaming: StreamedPart | undefined;
  /** The part streaming now gives its slabs back as they go (its bytes cannot be staged). */
  private earlyPart = false;
  /** The upload's running SHA-256, fed every byte the cutter takes (s3/digest/). */
  private hash: UploadHash | undefined;
  /** The hash state where an early part began: its bytes may be dropped (abandonStream). */
  private hashAtPart: Uint8Array | undefined;
  /** Where the last segment this request staged ends: its metadata holds the hash state there. */
  stagedUpTo: number | undefined;

  constructor(
    private readonly deps: CutterDeps,
    progress: Progress,
  ) {
    this.start = progress.offset;
    this.carried = progress.liveSegments;
    this.leftovers = progress.staleSegments.filter((s) => s.offset < progress.offset);
  }

  /** Feeds `hash` every byte from here on; segments staged carry its state. */
  hashWith(hash: UploadHash): void {
    this.hash = hash;
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
    return segmentBytes(this.carried);
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

  /**
   * Starts the next part of `size` bytes, no slab taken yet; a streaming part is in flight
   * from its first byte, and an early one gives its slabs back as the kernel takes them
   * (its staged segments, streamed from S3, go out first).
   */
  begin(size: number, streams: boolean, early: boolean): void {
    const { ctx, info, lease } = this.deps;
    const buf = new PartBuffer(size, lease);
    this.buf = buf;
    this.earlyPart = early;
    if (!streams) return;
    // A streaming part is written from here on, like any other write of the holder's.
    ctx.fence.assertHeld();
    const partNumber = partNumberAt(this.start, info.partSize);
    const head = early ? this.carriedRun() : undefined;
    if (early) this.hashAtPart = this.hash?.save();
    this.streaming = new StreamedPart(ctx, info, partNumber, buf, { early, head });
  }

  /**
   * Settles, with its error, only if the part streaming now fails: a request waiting for a
   * slab that only that part would give back must stop waiting then.
   */
  streamFailure(): Promise<Error> | undefined {
    return this.streaming?.done.then((r) =>
      r instanceof Error ? r : new Promise<never>(() => {}),
    );
  }

  /** Whether the part being filled streams to S3 as it fills. */
  get streams(): boolean {
    return this.streaming !== undefined;
  }

  /** Whether the part streaming now gives its slabs back early (none can be staged then). */
  get streamsEarly(): boolean {
    return this.streaming !== undefined && this.earlyPart;
  }

  /** The carried segments as a run to stream from S3; undefined when there are none. */
  private carriedRun(): StagedRun | undefined {
    if (this.carried.length === 0) return undefined;
    const run = this.deps.segments.run(this.carried);
    this.deps.ctx.metrics.segmentBytesReadBack += run.size;
    return run;
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
    const size = buf.size - buf.length;
    const at = this.start + buf.length;
    await this.stageSegment();
    this.start = at;
    this.buf = new PartBuffer(size, this.deps.lease);
  }

  /** Copies from `chunk` at `pos` what fits into the current slab; returns how many bytes. */
  copy(chunk: Buffer, pos: number): number {
    const buf = this.buf as PartBuffer;
    const n = buf.copy(chunk, pos);
    this.hash?.update(chunk.subarray(pos, pos + n));
    this.streaming?.advance(buf.length);
    return n;
  }

  /** Takes the filled buffer (with the carried segments before it) as one part. */
  take(): FullPart {
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
      return { partNumber, body: [], segs, streamed };
    }
    const head = this.carriedRun();
    this.carried = [];
    return { partNumber, body: filled?.chunks() ?? [], head, pooled: filled, segs };
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
      // Those bytes never count: the hash goes back to where the part began.
      if (this.hashAtPart) this.hash?.load(this.hashAtPart);
    }
  }

  /**
   * Stages the received bytes of the part as a segment for a later request to continue;
   * past MAX_LIVE_SEGMENTS (s3/staging/compaction.ts) merged with the newest carried ones.
   */
  async stageSegment(): Promise<void> {
    const { ctx, segments, info } = this.deps;
    const buf = this.buf as PartBuffer;
    const merge = planCompaction(this.carried, buf.length);
    // The hash covers exactly the bytes up to this segment's end (copy() fed them).
    const hash = this.hash?.save();
    const seg = merge
      ? await this.stageMerged(merge, buf, hash)
      : await segments.put(info.id, this.start, buf.chunks(), ctx.fence, undefined, hash);
    this.stagedUpTo = seg.offset + seg.size;
    buf.release();
    ctx.metrics.segmentsWritten++;
    ctx.metrics.segmentBytesWritten += seg.size;
    if (!merge) this.carried = [...this.carried, seg];
  }

  /**
   * Writes `merge` (the newest carried segments) and the tail as one segment at the first
   * merged segment's offset, then deletes the others. Order of writes, so that a kill or a
   * failure at any point loses no acknowledged byte:
   * 1. One PutObject at the first merged segment's offset, holding that segment's bytes, the
   *    other merged ones' and the tail: the merged ones streamed from S3 (GETs change
   *    nothing), with a Content-MD5 hashed over them beforehand, so S3 refuses a damaged
   *    body rather than let it replace the first segment. S3 replaces an object whole, so
   *    any listing sees either the old first segment (the offset stops where this request
   *    began; its tail was never acknowledged) or the superset, which ends past every other
   *    merged segment: those start inside it, and offset derivation (s3/state/progress.ts)
   *    takes them for stale. Either way every acknowledged byte is in a live segment.
   * 2. Only once S3 has answered the PutObject, the superseded segments are deleted. A
   *    kill or a failed delete leaves stale segments, which never count again; the next
   *    merge (or completion, or termination) deletes them.
   */
  private async stageMerged(
    merge: StoredSegment[],
    buf: PartBuffer,
    hash: Uint8Array | undefined,
  ): Promise<StoredSegment> {
    const { ctx, segments, info } = this.deps;
    const first = merge[0] as StoredSegment;
    const run = segments.run(merge);
    ctx.metrics.segmentBytesReadBack += run.size;
    const seg = await segments.put(info.id, first.offset, buf.chunks(), ctx.fence, run, hash);
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
    this.buf?.release();
  }
}
