// One PATCH, from its first byte to the progress it leaves: read the body into parts
// (several in flight while the next fills), verify the Upload-Checksum, stage the tail,
// settle the marks. Every path out has drained its part uploads.
import { noteConsumed } from '../../body/chunk-reclaimer.js';
import { holdable } from '../../body/direct-body.js';
import { ERRORS, TusError } from '../../errors.js';
import { verifyWholeDigest } from '../../extensions/repr-digest.js';
import { UNFENCED } from '../../locks/fence.js';
import type { StoreContext } from '../context.js';
import { UploadHash } from '../digest/hasher.js';
import { hashObjectsToDrop, writeHashState } from '../digest/state.js';
import { hashesUpload, type UploadInfo } from '../info.js';
import type { BufferLease } from '../memory/buffer-pool.js';
import { partNumberAt } from '../parts/arithmetic.js';
import { PartPipeline } from '../parts/pipeline.js';
import { deleteKeysQuietly } from '../staging/cleanup.js';
import { deleteKeys } from '../staging/listing.js';
import type { UnverifiedMarks } from '../staging/marks.js';
import type { PendingParts } from '../staging/pending.js';
import type { SegmentStaging } from '../staging/segments.js';
import type { HashState, Progress } from '../state/progress.js';
import type { UploadState } from '../state/upload-state.js';
import { RequestTurn } from './admission.js';
import { PartCutter } from './part-cutter.js';
import {
  type PatchFacts,
  type PatchPlan,
  partStreams,
  partStreamsEarly,
  planPatch,
} from './plan.js';
import { planSettle, settle } from './settle.js';
import { writeTail } from './tail.js';
import { ChecksumGate } from './verify.js';
import { PartWrites } from './writes.js';

/**
 * How long a request holding part of a part waits for the next slab before it stages what it
 * holds (ms). Requests that each hold part of a part and all wait for more would otherwise
 * wait on each other until their deadline.
 */
export const SPILL_AFTER = 1000;

/** Whether `p` is still pending after `ms` (its failure counts as settled). */
async function late(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(true), ms);
  });
  const settled = p.then(
    () => false,
    () => false,
  );
  try {
    return await Promise.race([settled, expired]);
  } finally {
    clearTimeout(timer);
  }
}

export interface RequestDeps {
  ctx: StoreContext;
  /** Part uploads in flight per PATCH while the next part is received. */
  queueSize: number;
  segments: SegmentStaging;
  pending: PendingParts;
  marks: UnverifiedMarks;
}

export class PatchRequest {
  private readonly deps: RequestDeps;
  readonly info: UploadInfo;
  readonly plan: PatchPlan;
  readonly pipeline: PartPipeline;
  readonly cutter: PartCutter;
  readonly writes: PartWrites;
  /** The upload's running SHA-256 (hashed uploads only), set up by run(). */
  private hash: UploadHash | undefined;
  /** The last byte did not match the declared digest: nothing of the request may count. */
  private digestFailed = false;
  private readonly gate: ChecksumGate | undefined;
  private readonly progress: Progress;
  private streamError: unknown;
  /** The part being filled is larger than the whole part memory. */
  private overBudget = false;

  constructor(
    deps: RequestDeps,
    readonly lease: BufferLease,
    readonly state: UploadState,
    facts: PatchFacts,
  ) {
    // Everything the request writes goes through its lock's fence.
    this.deps = { ...deps, ctx: { ...deps.ctx, fence: facts.fence ?? UNFENCED } };
    const { ctx, segments } = this.deps;
    const { info, progress } = state;
    this.info = info;
    this.progress = progress;
    this.plan = planPatch(info, progress.offset, facts, ctx);
    this.pipeline = new PartPipeline(deps.queueSize);
    this.writes = new PartWrites(ctx, info, progress.parts);
    this.cutter = new PartCutter({ ctx, segments, lease, info }, progress);
    this.gate = facts.checksum ? new ChecksumGate(this.deps, this, facts.checksum) : undefined;
  }

  /** Returns the progress once every received byte is durable. */
  async run(body: AsyncIterable<Buffer>): Promise<Progress> {
    if (hashesUpload(this.info)) await this.startHash();
    await this.readBody(body);
    await this.cutter.abandonStream();
    const sink = this.gate ? await this.verify(this.gate) : this.pipeline;
    const end = this.cutter.end;
    const failure = await writeTail(this, sink);
    await this.gate?.dropPending();
    const { progress, info, writes } = this;
    const plan = planSettle(
      partNumberAt(progress.offset, info.partSize),
      writes.written,
      this.gate?.mark,
      progress.unverified,
    );
    const kept = !failure && !this.digestFailed;
    const hashObjects = kept ? await this.saveHash(end) : progress.hashObjects;
    // A hashed upload whose request failed keeps the folded segments: their metadata may hold
    // the newest durable hash state (s3/digest/resume.ts).
    const folded = kept || !this.hash ? writes.folded : [];
    const unverified = await settle(this.deps, info.id, plan, folded);
    if (failure) throw failure.error;
    if (this.streamError !== undefined) throw this.streamError;
    return {
      offset: end,
      parts: writes.sorted(),
      liveSegments: this.cutter.liveSegments,
      staleSegments: this.cutter.staleSegments,
      unverified,
      ...(this.hash ? { hash: this.hash.save(), hashObjects } : {}),
    };
  }

  /**
   * The hash continues the durable state at the offset. After a cut (s3/digest/resume.ts),
   * staged objects past it are left from writes no 204 acknowledged: they go first, so none
   * can join the chain this request writes.
   */
  private async startHash(): Promise<void> {
    const { progress, deps } = this;
    this.hash = await UploadHash.start(progress.hash, this.info.digest?.fullObjectCrc);
    this.cutter.hashWith(this.hash);
    if (progress.cutFrom === undefined) return;
    const past = [
      ...progress.staleSegments.filter((s) => s.offset >= progress.offset),
      ...(progress.hashObjects ?? []).filter((h) => h.offset > progress.offset),
    ];
    deps.ctx.fence.assertHeld();
    await deleteKeys(
      deps.ctx.client,
      deps.ctx.bucket,
      past.map((o) => o.key),
    );
    progress.staleSegments = progress.staleSegments.filter((s) => s.offset < progress.offset);
    progress.hashObjects = (progress.hashObjects ?? []).filter((h) => h.offset <= progress.offset);
    delete progress.cutFrom;
  }

  /**
   * Once every byte is durable: unless the request's last write was a segment (whose
   * metadata holds the state), the state after `end` is written as an object of its own,
   * before any segment it supersedes is deleted. Returns the state objects kept.
   */
  private async saveHash(end: number): Promise<HashState[] | undefined> {
    const { hash, cutter, progress, info } = this;
    const known = progress.hashObjects ?? [];
    if (!hash || end === progress.offset || end === info.size || cutter.stagedUpTo === end) {
      return hash ? known : undefined;
    }
    const newest = await writeHashState(this.deps.ctx, info.id, end, hash.save());
    this.state.staged = true;
    const drop = hashObjectsToDrop(known, newest);
    await deleteKeysQuietly(
      this.deps.ctx,
      drop.map((h) => h.key),
    );
    return [...known.filter((h) => !drop.includes(h)), newest];
  }

  /** The whole upload arrived: its digest must be the declared one before it goes out. */
  verifyLast(): void {
    const { hash, info } = this;
    if (!hash) return;
    const digests = hash.digests();
    try {
      verifyWholeDigest(info.digest?.declared, digests.sha256);
    } catch (err) {
      this.digestFailed = true;
      throw err;
    }
    // The object written next (a one-part PutObject, or completion) carries them.
    info.digest = { ...info.digest, ...digests };
  }

  /**
   * Cuts the body at absolute part boundaries. A failure while reading keeps what arrived
   * intact: it is reported once that is staged. Bytes are read and held only under a turn
   * at part memory (admission.ts), handed on at part boundaries while others wait.
   */
  private async readBody(body: AsyncIterable<Buffer>): Promise<void> {
    const { cutter, gate, plan } = this;
    const digester = gate?.digester;
    const turn = new RequestTurn(this.lease.budget.turns, this.lease, holdable(body));
    // Leaving this loop early (a failed part upload) must not destroy the body: @tus/server
    // answers once receive() settles. The caller ends the iterator.
    const chunks = body[Symbol.asyncIterator]();
    // Whether to wait for a turn before reading on: not after a silent holder gave its turn
    // back (it would take a turn only to wait for its client again).
    let admitFirst = true;
    try {
      for (;;) {
        if (admitFirst && cutter.end < plan.reach) await turn.take(plan.reach - cutter.end);
        const next = await chunks.next();
        if (next.done) break;
        const chunk = next.value;
        if (turn.silent) {
          admitFirst = !(await this.giveBack(turn));
          if (chunk.length === 0) continue;
        }
        turn.noteChunk();
        digester?.update(chunk);
        noteConsumed(chunk.length);
        // Not a byte past the limit is kept, even within a chunk (a deferred length's
        // part is larger than what may remain of the upload).
        const room = Math.max(plan.limit - cutter.end, 0);
        const taken = chunk.length > room ? chunk.subarray(0, room) : chunk;
        let pos = 0;
        while (pos < taken.length) {
          if (gate?.held) await gate.sendHeld();
          if (!cutter.filling || cutter.needsSlab) await turn.take(plan.reach - cutter.end);
          if (!cutter.filling) await this.openPart();
          if (cutter.needsSlab) await this.growPart();
          pos += cutter.copy(taken, pos);
          if (cutter.full) {
            await this.flush();
            // Round robin: the next part waits its turn behind those already waiting. Not
            // under an Upload-Checksum: the part just filled is held until the next byte,
            // and its turn with it.
            if (turn.othersWait && !gate) {
              turn.drop();
              admitFirst = true;
            }
          }
        }
        if (taken !== chunk) throw ERRORS.ERR_SIZE_EXCEEDED;
      }
    } catch (err) {
      this.streamError = err;
    } finally {
      // What it still holds is covered until its slabs are back (tail staged, or returned).
      turn.drop();
    }
  }

  /**
   * The holder brought no byte for TURN_IDLE, or had its TURN_SHARE, while others wait: what
   * it holds is staged (a write that needs no memory) and its turn goes back, as a slab wait
   * spills (growPart).
   * Returns whether it gave the turn back; a part under an Upload-Checksum, or streaming
   * early, cannot be staged mid-way and keeps it (the idle body timeout bounds that).
   */
  private async giveBack(turn: RequestTurn): Promise<boolean> {
    const { cutter } = this;
    if (this.gate || cutter.streamsEarly) {
      turn.keep();
      return false;
    }
    // A part streaming to S3 stops; its bytes are staged from the buffer instead.
    if (cutter.streams) await cutter.abandonStream();
    if (cutter.fill > 0) {
      this.state.staged = true;
      await cutter.spill();
    }
    turn.drop();
    return true;
  }

  private async openPart(): Promise<void> {
    const { cutter, plan, lease } = this;
    const size = cutter.nextPartSize();
    // A part more than the lease may hold (one over the whole budget) cannot be held: it
    // streams early, or this request brings no more of it than the lease holds.
    this.overBudget = cutter.carriedBytes + size > lease.maxBytes;
    const early = this.overBudget && partStreamsEarly(plan, cutter.partStart, size);
    const streams = early || partStreams(plan, cutter.partStart, size, cutter.carriedSegments);
    // A streaming part is in flight from its first byte: it waits for a pipeline slot first,
    // and, under an Upload-Checksum, for the mark that keeps it out of the offset.
    if (streams) {
      await this.gate?.markFrom(partNumberAt(cutter.partStart, this.info.partSize));
      await this.pipeline.room();
    }
    // No slab yet: those are taken as the bytes arrive (growPart), so an empty or silent
    // PATCH costs at most one slab (s3/memory/part-budget.ts: why no wait lasts forever).
    cutter.begin(size, streams, early);
  }

  /**
   * The next byte needs a slab. A part that does not stream never holds more than its lease
   * (whose own slabs would never come back), staged segments counted too (those are streamed
   * from S3 when the part goes out, part-cutter.ts, so they take no slab). One that waits
   * for a slab past SPILL_AFTER stages what it holds and waits holding nothing
   * (s3/memory/part-budget.ts: why no wait lasts forever).
   */
  private async growPart(): Promise<void> {
    const { cutter, lease } = this;
    if (
      this.overBudget &&
      !cutter.streams &&
      cutter.fill + lease.budget.slabSize > lease.maxBytes
    ) {
      // Its window is full: what it holds is staged, and the part goes on from there (its
      // segments are streamed from S3 when it goes out, so they hold no memory). Under an
      // Upload-Checksum nothing may be staged to count before the match.
      if (this.gate) {
        throw new TusError(
          413,
          'this part is larger than server memory; send it without Upload-Checksum',
        );
      }
      this.state.staged = true;
      await cutter.spill();
    }
    const taking = lease.take();
    // Still pending if what follows throws: its slab, granted after the lease closed, goes
    // straight back (buffer-pool.ts), and its failure then is nobody's.
    taking.catch(() => {});
    // Under an Upload-Checksum nothing may be staged to count before the match.
    const mayStage = !this.gate && cutter.fill > 0 && !cutter.streams;
    if (mayStage && (await late(taking, SPILL_AFTER))) {
      this.state.staged = true;
      await cutter.spill();
    }
    // An early part gives its slabs back only as S3 takes them: if S3 failed it, none come.
    const failed = cutter.streamFailure();
    const slab = failed
      ? await Promise.race([taking, failed.then((err) => Promise.reject(err))])
      : await taking;
    cutter.addSlab(slab);
  }

  /**
   * A filled part goes out, or under a checksum, unless it streamed under the request's
   * mark, is held until more bytes follow it.
   */
  private async flush(): Promise<void> {
    const part = this.cutter.take();
    if (this.cutter.end === this.info.size) {
      try {
        this.verifyLast();
      } catch (err) {
        part.pooled?.release();
        await part.streamed?.abandon();
        throw err;
      }
    }
    if (this.gate?.holds(part)) this.gate.held = part;
    else await this.writes.upload(part, this.pipeline);
  }

  /** Nothing of a request that failed its checksum counts or stays. */
  private async verify(gate: ChecksumGate): Promise<PartPipeline> {
    try {
      await gate.check(this.streamError);
    } catch (err) {
      gate.reject(err);
      this.cutter.release();
      await gate.dropPending();
      throw err;
    }
    return gate.accept();
  }
}
