// The Upload-Checksum rules: nothing of the request may count before its whole body
// matched. Whole parts that are not the request's last still go out before the match:
// under a mark that keeps them out of the offset (s3/staging/marks.ts), or, for a deferred
// length, as pending objects copied into parts after the match (s3/staging/pending.ts).
// Without Content-MD5, a known-length request declared to reach past its first part puts
// its mark before its first part and streams its parts as they fill, the last one too
// (plan.ts, `marked`): received and sent at once, as without a checksum, rather than
// received whole, then sent. A part that does not stream (Content-MD5, staged segments
// before it) waits in memory for the next byte; the last one for the match: a PATCH of one
// part needs no mark.
import type { TusError } from '../../errors.js';
import {
  CHECKSUM_MISMATCH_STATUS,
  createDigester,
  type Digester,
  type ExpectedChecksum,
  verifyChecksum,
} from '../../extensions/checksum.js';
import type { StoreContext } from '../context.js';
import { multipartId, type UploadInfo } from '../info.js';
import { objectKey } from '../keys.js';
import type { BufferLease } from '../memory/buffer-pool.js';
import { PartPipeline } from '../parts/pipeline.js';
import { deleteKeysQuietly } from '../staging/cleanup.js';
import type { UnverifiedMarks } from '../staging/marks.js';
import type { PendingPart, PendingParts } from '../staging/pending.js';
import type { StoredSegment, UnverifiedRange } from '../state/progress.js';
import type { UploadState } from '../state/upload-state.js';
import type { FullPart } from './part-cutter.js';
import type { PatchPlan } from './plan.js';
import type { PartWrites } from './writes.js';

export interface GateDeps {
  ctx: StoreContext;
  queueSize: number;
  pending: PendingParts;
  marks: UnverifiedMarks;
}

/** What one request needs of its own: shared with the rest of the request. */
export interface GateRequest {
  info: UploadInfo;
  state: UploadState;
  plan: PatchPlan;
  lease: BufferLease;
  writes: PartWrites;
  pipeline: PartPipeline;
}

export class ChecksumGate {
  readonly digester: Digester;
  /** The last whole part so far: it goes out once more bytes follow, or after the match. */
  held: FullPart | undefined;
  /** This request's mark, once it put one. */
  mark: UnverifiedRange | undefined;
  private readonly token: string;
  private readonly staged: Array<{ pending: PendingPart; segs: StoredSegment[] }> = [];

  constructor(
    private readonly deps: GateDeps,
    private readonly req: GateRequest,
    private readonly expected: ExpectedChecksum,
  ) {
    this.digester = createDigester(expected.algorithm);
    this.token = req.plan.viaPending ? deps.pending.newToken() : '';
  }

  /** More bytes follow the held part: it is not the request's last, so it goes out now. */
  async sendHeld(): Promise<void> {
    const part = this.held as FullPart;
    this.held = undefined;
    const { info, state, plan, pipeline } = this.req;
    state.staged = true;
    if (!plan.viaPending) {
      await this.markFrom(part.partNumber);
      return this.req.writes.upload(part, pipeline);
    }
    const { pending, ctx } = this.deps;
    return pipeline.add(async () => {
      try {
        ctx.fence.assertHeld();
        const put = await pending.put(info.id, this.token, part.partNumber, part.body, part.head);
        this.staged.push({ pending: put, segs: part.segs });
        ctx.metrics.pendingPartsStaged++;
      } finally {
        part.pooled?.release();
      }
    });
  }

  /**
   * Before part `partNumber`, the first of the request's to reach the upload unverified (held
   * and followed by more bytes, or streaming from its first byte): the mark, durable first,
   * keeps it and every later part of the request out of the offset until the match.
   */
  async markFrom(partNumber: number): Promise<void> {
    const { info, state, plan } = this.req;
    state.staged = true;
    this.mark ??= await this.deps.marks.put(
      info.id,
      partNumber,
      plan.lastPart,
      this.deps.ctx.fence,
    );
  }

  /** Whether a whole part waits in memory for more bytes or the match: one that streamed is out. */
  holds(part: FullPart): boolean {
    return part.streamed === undefined;
  }

  /** Waits for the parts sent before the match, then matches the body against the checksum. */
  async check(streamError: unknown): Promise<void> {
    await this.req.pipeline.drain();
    if (streamError !== undefined) throw streamError;
    verifyChecksum(this.expected, this.digester.digest());
  }

  /**
   * Unverifiable or wrong: the held part is dropped. Parts the request put in the upload
   * stay under their mark until good bytes replace them.
   */
  reject(err: unknown): void {
    if ((err as TusError).status_code === CHECKSUM_MISMATCH_STATUS) {
      this.deps.ctx.metrics.checksumMismatches++;
    }
    const { held } = this;
    held?.pooled?.release();
  }

  /** The pending objects go whatever the outcome: copied into parts, or never to count. */
  async dropPending(): Promise<void> {
    await deleteKeysQuietly(
      this.deps.ctx,
      this.staged.map((x) => x.pending.key),
    );
  }

  /** Verified: the pending parts become parts and the held part goes out; returns their pipeline. */
  async accept(): Promise<PartPipeline> {
    const { ctx, queueSize, pending } = this.deps;
    const { info, writes, pipeline } = this.req;
    ctx.metrics.checksumsVerified++;
    let sink = pipeline;
    if (this.staged.length > 0) {
      sink = new PartPipeline(Math.max(queueSize, 4));
      const target = {
        bucket: ctx.bucket,
        key: objectKey(ctx.prefix, info.id),
        uploadId: multipartId(info),
      };
      for (const { pending: part, segs } of this.staged) {
        writes.fold(segs);
        await sink.add(async () => {
          writes.record(await pending.commit(target, part), part.partNumber);
          ctx.metrics.pendingPartsCommitted++;
          ctx.metrics.pendingBytesCommitted += part.size;
        });
      }
    }
    if (this.held) await writes.upload(this.held, sink);
    return sink;
  }
}
