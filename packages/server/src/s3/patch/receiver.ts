// The PATCH receiver: a request body cut at absolute part boundaries into UploadParts
// (several in flight while the next part fills, buffers from a pool) and a staged tail
// segment, with the Upload-Checksum rules for what may count before the body matched.

import { noteConsumed } from '../../body/chunk-reclaimer.js';
import { ERRORS, type TusError } from '../../errors.js';
import {
  CHECKSUM_MISMATCH_STATUS,
  createDigester,
  type ExpectedChecksum,
  verifyChecksum,
} from '../../extensions/checksum.js';
import { currentRequest } from '../../front/request-context.js';
import type { StoreContext } from '../context.js';
import { multipartId } from '../info.js';
import { objectKey } from '../keys.js';
import type { BufferLease, BufferPool } from '../memory/buffer-pool.js';
import { capacityOf, partEndAt, partNumberAt } from '../parts/arithmetic.js';
import { contentMd5 } from '../parts/part-checksum.js';
import { PartPipeline } from '../parts/pipeline.js';
import { StreamedPart } from '../parts/streamed.js';
import { multipartTarget } from '../parts/target.js';
import { uploadPart } from '../parts/upload.js';
import { deleteKeysQuietly } from '../staging/cleanup.js';
import type { UnverifiedMarks } from '../staging/marks.js';
import type { PendingPart, PendingParts } from '../staging/pending.js';
import type { SegmentStaging } from '../staging/segments.js';
import type { Progress, StoredPart, StoredSegment, UnverifiedRange } from '../state/progress.js';
import type { UploadState } from '../state/upload-state.js';

/** A whole part cut from a request body, with the staged segments folded into it. */
interface FullPart {
  partNumber: number;
  body: Buffer;
  /** The pool buffer backing `body`, returned once S3 has the part (not set when streamed). */
  pooled?: Buffer;
  /** Segments of earlier requests this part contains: deleted once the part is durable. */
  segs: StoredSegment[];
  /** Already on its way to S3 while it filled. */
  streamed?: StreamedPart;
}

export interface ReceiverDeps {
  ctx: StoreContext;
  /** Part uploads in flight per PATCH while the next part is received. */
  queueSize: number;
  /** Part buffers one PATCH holds at once (s3/memory/buffer-pool.ts: BufferLease). */
  partBuffers: number;
  segments: SegmentStaging;
  pending: PendingParts;
  marks: UnverifiedMarks;
  /** Part buffers, shared by every request under one budget. */
  pool: BufferPool;
}

export class PatchReceiver {
  private readonly ctx: StoreContext;
  private readonly queueSize: number;
  private readonly partBuffers: number;
  private readonly segments: SegmentStaging;
  private readonly pending: PendingParts;
  private readonly marks: UnverifiedMarks;
  private readonly pool: BufferPool;

  constructor(deps: ReceiverDeps) {
    this.ctx = deps.ctx;
    this.queueSize = deps.queueSize;
    this.partBuffers = deps.partBuffers;
    this.segments = deps.segments;
    this.pending = deps.pending;
    this.marks = deps.marks;
    this.pool = deps.pool;
  }

  /**
   * Cuts the body at absolute part boundaries. Whole parts go out as UploadPart while the
   * next is received; the rest is staged as a segment. Returns the progress once every
   * received byte is durable.
   *
   * Under an Upload-Checksum nothing of the request may count before its whole body
   * matched. Whole parts still stream to S3, under a mark that keeps them out of the
   * offset (s3/staging/marks.ts), or, for a deferred length, as pending objects copied into
   * parts after the match (s3/staging/pending.ts). The tail stays in memory until the match, and so
   * does the last whole part: a PATCH of one part (a common case) needs neither. Segments
   * folded into this request's parts are deleted only once those parts count.
   */
  async receive(
    body: AsyncIterable<Buffer>,
    state: UploadState,
    checksum?: ExpectedChecksum,
    maxSize?: number,
  ): Promise<Progress> {
    const lease = this.pool.lease(this.partBuffers);
    try {
      return await this.receiveWith(lease, body, state, checksum, maxSize);
    } finally {
      // Every path out of receiveWith has drained its part uploads: nothing still sends
      // these buffers.
      lease.returnAll();
    }
  }

  private async receiveWith(
    lease: BufferLease,
    body: AsyncIterable<Buffer>,
    state: UploadState,
    checksum: ExpectedChecksum | undefined,
    maxSize: number | undefined,
  ): Promise<Progress> {
    const { info, progress } = state;
    const { metrics } = this.ctx;
    const { partSize } = info;
    // A deferred length is bounded by the server's maximum size (as @tus/server's own
    // StreamLimiter would bound it) and by what the part size can address.
    const limit = info.size ?? Math.min(capacityOf(partSize), maxSize ?? Number.POSITIVE_INFINITY);
    const pipeline = new PartPipeline(this.queueSize);
    const parts = [...progress.parts];
    const written = new Set<number>(); // part numbers uploaded by this request
    // Segments of the part being filled, staged by earlier requests.
    let carried = progress.liveSegments;
    let start = progress.offset; // absolute offset of buf[0]
    let buf: Buffer | undefined;
    let fill = 0;
    const digester = checksum ? createDigester(checksum.algorithm) : undefined;
    const viaPending = checksum !== undefined && info.size === undefined;
    const token = viaPending ? this.pending.newToken() : '';
    const staged: Array<{ pending: PendingPart; segs: StoredSegment[] }> = [];
    let mark: UnverifiedRange | undefined;
    // The last part this request can reach: what its mark must cover.
    const declared = currentRequest()?.contentLength;
    const reach = Math.min(limit, declared === undefined ? limit : progress.offset + declared);
    const lastPart = partNumberAt(Math.max(reach - 1, progress.offset), partSize);
    let held: FullPart | undefined;
    // The part filling now, when it streams to S3 as it fills (s3/parts/streamed.ts).
    let streaming: StreamedPart | undefined;
    const canStream =
      !checksum &&
      this.ctx.partChecksum === 'none' &&
      multipartTarget(this.ctx.prefix, info) !== undefined;
    // Segments of earlier requests folded into this request's (first) part.
    const foldedSegs: StoredSegment[] = [];

    /** Takes the filled buffer (with the carried segments before it) as one part. */
    const takePart = async (): Promise<FullPart> => {
      const partNumber = partNumberAt(start, partSize);
      const segs = carried;
      carried = [];
      const head = segs.length > 0 ? await this.segments.read(segs) : [];
      for (const h of head) metrics.segmentBytesReadBack += h.length;
      const filled = buf;
      const own = (filled ?? Buffer.alloc(0)).subarray(0, fill);
      const body = head.length > 0 ? Buffer.concat([...head, own]) : own;
      // After a concat the part buffer is free at once; otherwise once S3 has the part.
      if (filled && body !== own) lease.give(filled);
      start += fill;
      fill = 0;
      buf = undefined;
      const streamed = streaming?.partNumber === partNumber ? streaming : undefined;
      streaming = undefined;
      if (streamed) {
        // From here the streamed part decides when its buffer is free (s3/parts/streamed.ts).
        streamed.handOver((b) => lease.give(b));
        return { partNumber, body, segs, streamed };
      }
      return { partNumber, body, pooled: body === own ? filled : undefined, segs };
    };
    const upload = async (part: FullPart, into: PartPipeline): Promise<void> => {
      // Folded segments go once the part counts (a mark may keep it out for a while).
      foldedSegs.push(...part.segs);
      try {
        await into.add(async () => {
          try {
            parts.push(await this.send(info, part, lease));
            written.add(part.partNumber);
          } finally {
            if (part.pooled) lease.give(part.pooled);
          }
        });
      } catch (err) {
        // The pipeline failed before this part's task started, so nothing awaits its
        // streamed request: stop it before the lease returns the buffer it still reads.
        await part.streamed?.abandon();
        throw err;
      }
    };
    /** A whole part of a checksummed request that is not its last: out before the match. */
    const stage = async (part: FullPart): Promise<void> => {
      if (!viaPending) {
        // The mark is durable before the first unverified byte reaches the upload.
        state.staged = true;
        mark ??= await this.marks.put(info.id, part.partNumber, lastPart);
        return upload(part, pipeline);
      }
      state.staged = true;
      return pipeline.add(async () => {
        try {
          const pending = await this.pending.put(info.id, token, part.partNumber, part.body);
          staged.push({ pending, segs: part.segs });
          metrics.pendingPartsStaged++;
        } finally {
          if (part.pooled) lease.give(part.pooled);
        }
      });
    };
    const flush = async (): Promise<void> => {
      const part = await takePart();
      if (checksum) held = part;
      else await upload(part, pipeline);
    };

    let streamError: unknown;
    try {
      // Leaving this loop early (a failed part upload) must not destroy the body (the
      // caller's iterator does not): @tus/server answers once receive() settles.
      for await (const chunk of body) {
        digester?.update(chunk);
        noteConsumed(chunk.length);
        let pos = 0;
        while (pos < chunk.length) {
          if (start + fill >= limit) throw ERRORS.ERR_SIZE_EXCEEDED;
          if (held) {
            // More bytes follow the held part: it is not the request's last, send it on.
            const part = held;
            held = undefined;
            await stage(part);
          }
          if (!buf) {
            const size = partEndAt(start, partSize, info.size) - start;
            // A part this request brings whole, with nothing staged before it, streams: it
            // is in flight from its first byte, so it waits for a pipeline slot first.
            const whole = declared !== undefined && start + size <= reach;
            const streams = canStream && whole && carried.length === 0 && fill === 0;
            if (streams) await pipeline.room();
            // Taken on first byte: an empty PATCH costs no part buffer. Waiting here (the
            // budget is spent) pauses the body; this request holds no buffer but parts
            // already on their way to S3 (s3/memory/part-budget.ts: why that cannot deadlock).
            buf = await lease.take(size);
            if (streams) {
              streaming = new StreamedPart(this.ctx, info, partNumberAt(start, partSize), buf);
            }
          }
          const n = Math.min(chunk.length - pos, buf.length - fill);
          chunk.copy(buf, fill, pos, pos + n);
          fill += n;
          pos += n;
          streaming?.advance(fill);
          if (fill === buf.length) await flush();
        }
      }
    } catch (err) {
      // Keep what arrived intact before the failure; the error is still reported.
      streamError = err;
    }
    if (streaming) {
      // The body ended inside a streaming part: its bytes are staged from the buffer below.
      const cut = streaming;
      streaming = undefined;
      await cut.abandon();
    }

    let sink = pipeline;
    if (checksum && digester) {
      try {
        await pipeline.drain();
        if (streamError !== undefined) throw streamError;
        verifyChecksum(checksum, digester.digest());
      } catch (err) {
        // Unverifiable or wrong: nothing of this request counts or stays. Parts it put in
        // the upload stay under their mark until good bytes replace them.
        if ((err as TusError).status_code === CHECKSUM_MISMATCH_STATUS) {
          metrics.checksumMismatches++;
        }
        if (held?.pooled) lease.give(held.pooled);
        if (buf) lease.give(buf);
        await deleteKeysQuietly(
          this.ctx,
          staged.map((x) => x.pending.key),
        );
        throw err;
      }
      metrics.checksumsVerified++;
      if (staged.length > 0) {
        // Verified: the pending parts become parts.
        sink = new PartPipeline(Math.max(this.queueSize, 4));
        const target = {
          bucket: this.ctx.bucket,
          key: objectKey(this.ctx.prefix, info.id),
          uploadId: multipartId(info),
        };
        for (const { pending, segs } of staged) {
          foldedSegs.push(...segs);
          await sink.add(async () => {
            parts.push(await this.pending.commit(target, pending));
            written.add(pending.partNumber);
            metrics.pendingPartsCommitted++;
            metrics.pendingBytesCommitted += pending.size;
          });
        }
      }
      if (held) await upload(held, sink);
    }

    const end = start + fill;
    let failure: { error: unknown } | undefined;
    try {
      if (fill > 0 && !sink.failed) {
        if (info.size !== undefined && end === info.size) {
          await upload(await takePart(), sink);
        } else {
          state.staged = true;
          const seg = await this.segments.put(info.id, start, (buf as Buffer).subarray(0, fill));
          lease.give(buf as Buffer);
          metrics.segmentsWritten++;
          metrics.segmentBytesWritten += seg.size;
          carried = [...carried, seg];
        }
      }
      await sink.drain();
      if (sink !== pipeline) await pipeline.drain();
    } catch (error) {
      failure = { error };
    }
    await deleteKeysQuietly(
      this.ctx,
      staged.map((x) => x.pending.key),
    );
    // The parts this request wrote contiguously from its first hold good, durable bytes:
    // marks over them (its own, or older ones) shrink, and from here on those parts count.
    const first = partNumberAt(progress.offset, partSize);
    let upTo = first - 1;
    while (written.has(upTo + 1)) upTo++;
    let unverified = progress.unverified;
    if (upTo >= first) {
      // Its own mark spans only the parts it actually wrote.
      const own = mark ? [{ ...mark, to: Math.max(mark.from, ...written) }] : [];
      const marks = [...unverified, ...own];
      if (marks.some((m) => m.from <= upTo)) {
        unverified = await this.marks.settle(info.id, marks, upTo);
      }
      // Only now do the segments folded into the first part stop counting on their own.
      await this.deleteSegmentsQuietly(foldedSegs);
    } else if (mark) {
      unverified = [...unverified, mark];
    }
    if (failure) throw failure.error;
    if (streamError !== undefined) throw streamError;
    parts.sort((a, b) => a.partNumber - b.partNumber);
    return {
      offset: end,
      parts,
      liveSegments: carried,
      staleSegments: progress.staleSegments,
      unverified,
    };
  }

  /**
   * A whole part to S3: awaited if it streamed while filling. A streamed part that failed
   * is resent if its buffer is still held; if the kernel already had all of it, the
   * failure stands and the part does not count.
   */
  private async send(
    info: UploadState['info'],
    part: FullPart,
    lease: BufferLease,
  ): Promise<StoredPart> {
    let streamed = part.streamed;
    const whole = part.pooled;
    if (!streamed && whole && whole.length === part.body.length && this.hasMultipart(info)) {
      const md5 = contentMd5(this.ctx.partChecksum, whole);
      streamed = StreamedPart.whole(this.ctx, info, part.partNumber, whole, md5);
      // From here the part decides when its buffer is free (s3/parts/streamed.ts).
      part.pooled = undefined;
      streamed.handOver((b) => lease.give(b));
    }
    if (!streamed) return uploadPart(this.ctx, info, part.partNumber, part.body);
    const sent = await streamed.done;
    if (!(sent instanceof Error)) {
      if (part.streamed) this.ctx.metrics.partsStreamed++;
      this.ctx.metrics.partsUploaded++;
      this.ctx.metrics.partBytesUploaded += sent.size;
      return sent;
    }
    const again = streamed.reclaim();
    if (!again) {
      this.ctx.metrics.partsFailedAfterSend++;
      throw sent;
    }
    this.ctx.metrics.partsResent++;
    this.ctx.log.warn(
      { err: sent, part: part.partNumber },
      'part upload failed; resending it from memory',
    );
    try {
      return await uploadPart(this.ctx, info, part.partNumber, again);
    } finally {
      lease.give(again);
    }
  }

  private hasMultipart(info: UploadState['info']): boolean {
    return multipartTarget(this.ctx.prefix, info) !== undefined;
  }

  private async deleteSegmentsQuietly(segs: readonly StoredSegment[]): Promise<void> {
    if (segs.length === 0) return;
    // A segment that outlives its part is ignored by offset derivation; losing the
    // delete only leaves garbage for completion or termination to clear.
    await this.segments.delete(segs).catch((err: unknown) => {
      this.ctx.log.warn({ err }, 'could not delete staged segments');
    });
  }
}
