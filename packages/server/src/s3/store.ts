// S3MultipartStore: a @tus/utils DataStore that streams every upload into one S3
// multipart upload. Truth lives in S3 (parts, staged segments, the info record), so any
// instance can serve any request and a restarted one loses nothing acknowledged.
// This file is the DataStore surface; the work is done by the modules it wires together.
import type { Readable } from 'node:stream';
import { DeleteObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { DataStore, type Upload } from '@tus/utils';
import type { Logger } from 'pino';
import { assertMayUse, ownershipOf } from '../auth/principal.js';
import { QuotaGate } from '../auth/quota-gate.js';
import type { Quotas } from '../auth/quotas.js';
import { DEFAULT_IDLE_TIMEOUT, type DirectBodyStore } from '../body/direct-body.js';
import {
  type ChecksumStore,
  type CreationDeferLengthStore,
  storeExtensions,
  type TerminationStore,
  type UnfinishedConcatenationStore,
} from '../capabilities.js';
import { ERRORS, TusError } from '../errors.js';
import { CHECKSUM_ALGORITHMS, CHECKSUM_MISMATCH_STATUS } from '../extensions/checksum.js';
import { TUS_MEDIA_TYPE } from '../front/request-checks.js';
import { currentRequest, type RequestContext } from '../front/request-context.js';
import { DEFAULT_ANSWER_FLOOR_MS } from '../instant/answer-floor.js';
import { challengeHeader, makeChallenge, type StoredChallenge } from '../instant/challenge.js';
import { type Fence, UNFENCED } from '../locks/fence.js';
import { silentLogger } from '../log.js';
import { abortMultipart } from './abort.js';
import {
  checkAnnouncedAtCreation,
  checkDeclaredLength,
  checkWithinAnnounced,
  withAnnouncedLength,
} from './announced-length.js';
import { finish } from './completion.js';
import type { FinalDeps, Findings } from './concat/deps.js';
import { settleFinal } from './concat/direct-final.js';
import { failedFinalError } from './concat/failed-final.js';
import { createFinal } from './concat/final.js';
import { partialLength } from './concat/final-fields.js';
import { lockFinal } from './concat/final-lock.js';
import {
  type LockUploads,
  type TerminationDeps,
  terminateGroup,
  unfinishedFinalOf,
} from './concat/group-termination.js';
import { type NamedPartials, namedPartials } from './concat/named-partials.js';
import { settleWaiting } from './concat/waiting-final.js';
import type { StoreContext } from './context.js';
import { startUpload, writeCreated } from './creation.js';
import { declaredOnPatch, digestAtCreation } from './digest/declare.js';
import type { FullObjectChecksum } from './digest/full-object-crc.js';
import type { SweepLease } from './expiration/lease.js';
import { ExpirationSweeper } from './expiration/sweeper.js';
import { adoptionOf, failedDigestFinal, fitsOnePart, isExpired, type UploadInfo } from './info.js';
import { readInfo, writeInfo } from './info-io.js';
import { forgetRemoved } from './instant/index-writes.js';
import { answerProof } from './instant/prove.js';
import { infoKey, isFoldableId, isValidId, newUploadId, objectKey } from './keys.js';
import { DEFAULT_PART_BUFFERS } from './memory/buffer-pool.js';
import { PartBudget, partMemoryBudget } from './memory/part-budget.js';
import { newMetrics, type StoreMetrics } from './metrics.js';
import { deleteOpenMarker, needsOpenMarker, writeOpenMarker } from './open-marker.js';
import {
  capacityOf,
  choosePartSize,
  DEFAULT_PART_SIZE,
  S3_MAX_OBJECT_SIZE,
} from './parts/arithmetic.js';
import { PartList } from './parts/list.js';
import type { PartChecksum } from './parts/part-checksum.js';
import { DEFAULT_QUEUE_SIZE } from './parts/pipeline.js';
import { PatchReceiver } from './patch/receiver.js';
import { DEFAULT_OPEN_MARKER_DELAY_MS, PendingMarkers } from './pending-markers.js';
import { isSealedId } from './sealed/seal.js';
import { SealKeeper } from './sealed/seal-key.js';
import { tombstoneOf } from './sealed/sealed-info.js';
import { deleteKeys, listStaged, stagedKeys } from './staging/listing.js';
import { UnverifiedMarks } from './staging/marks.js';
import { PendingParts } from './staging/pending.js';
import { SegmentStaging } from './staging/segments.js';
import { type LoadDeps, loadState } from './state/load.js';
import type { Progress } from './state/progress.js';
import { isUnwritten } from './state/unwritten.js';
import { emptyProgress, StateCache, type UploadState } from './state/upload-state.js';
import { storageOf, toUpload, uploadReply } from './state/view.js';
import { TenantUsageCounter } from './tenant-usage.js';

export type { StoreMetrics } from './metrics.js';

export interface S3StoreOptions {
  client: S3Client;
  bucket: string;
  /** Key prefix for everything this store writes (e.g. "uploads/"). */
  prefix?: string;
  /** Preferred part size in bytes (raised per upload to stay within 10,000 parts). */
  partSize?: number;
  /** Largest upload accepted; sizes the parts of deferred-length uploads. */
  maxSize?: number;
  /** Unfinished uploads expire this many ms after creation (0: never). */
  expiration?: number;
  /**
   * Taken by the expiration sweep so that one instance sweeps at a time (redisSweepLease);
   * without it, runs only never overlap within this process.
   */
  sweepLease?: SweepLease;
  /** How often a sweep also makes the full pass over the prefix (ms, default a day; 0: never). */
  fullSweepInterval?: number;
  /**
   * Part uploads to S3 in flight per PATCH (default 4). S3 answers a part some tens of ms
   * after its last byte; more requests in flight hide that wait. They cost no part memory while
   * they wait: a part's buffer is free once the kernel has its bytes (s3/parts/streamed.ts).
   */
  queueSize?: number;
  /**
   * Part buffers one PATCH holds at once (default 1): the part filling, and parts whose
   * bytes the kernel has not taken yet. A PATCH that would need more waits, its body
   * paused. The memory of one upload is partBuffers x part size.
   */
  partBuffers?: number;
  /**
   * Bytes of part buffers held at once across all uploads of this store, in use or kept for
   * reuse; taken in 1 MiB slabs as bytes arrive. Past it a PATCH waits (body paused) for a
   * slab. Default: 32 MiB, at least one PATCH's partBuffers.
   */
  partMemory?: number;
  /**
   * Longest wait (ms) of a PATCH for part memory; then it answers 503 with Retry-After, its
   * bytes so far kept. Default 10 s (s3/memory/part-budget.ts says why); 0: no deadline.
   */
  memoryWait?: number;
  /**
   * A request body that brings no byte for this long (ms) is cut; what it brought is kept.
   * Default 30 s; 0: never.
   */
  idleTimeout?: number;
  /** How part and segment bodies are proven intact to S3 (default 'md5'). */
  partChecksum?: PartChecksum;
  /**
   * S3 verifies every upload created from now on as a whole (s3/digest/full-object-crc.ts);
   * implies `digest: 'sha256'`, whose hash state carries the CRC.
   */
  fullObjectChecksum?: FullObjectChecksum;
  /** Types objects may be served inline as, beyond the passive ones (s3/object-headers.ts). */
  inlineTypes?: readonly string[];
  /**
   * @tus/server's locker is shared with other instances (not its process-local
   * MemoryLocker). What the store remembers of an upload between requests is then trusted
   * only under a RedisLocker, and only while no other request took the upload's lock in
   * between (s3/state/upload-state.ts); under any other shared locker, never.
   */
  sharedLocks?: boolean;
  logger?: Logger;
  /** Per-tenant limits on creation (auth/quotas.ts); need the authenticate hook. */
  quotas?: Quotas;
  /**
   * ms a one-part upload's open marker waits before it is written; an upload that completes
   * sooner in this process never gets one (s3/pending-markers.ts). Default 10 000; 0 writes
   * it at creation, as a store with `quotas` always does.
   */
  openMarkerDelay?: number;
  /**
   * 'sha256': compute the whole-file SHA-256 of every upload created from now on, declared
   * (Repr-Digest) or not; without it only uploads that declare one are hashed (s3/digest/).
   */
  digest?: 'sha256';
  /**
   * Instant upload (server README, "Instant upload"): a creation with `Upload-Instant: ?1`
   * gets a challenge, a proof of possession makes the upload by a server-side copy of the
   * tenant's earlier upload of the same content, and finished uploads with a verified
   * digest enter the tenant's index. `floorMs`: a proof is answered no earlier than this
   * after it arrived (default 250). Off by default.
   */
  instantUpload?: boolean | { floorMs?: number };
  /**
   * Sealed ids (s3/sealed/seal.ts): a POST with no body that creates an upload fitting in
   * one part writes nothing to S3; its id carries the creation, encrypted. Its PATCH then
   * writes the object and the info in one PutObject. On by default where it applies:
   * process-local locks, an expiration, no quotas, no server-side digest. false: every
   * creation writes its info, as before.
   */
  sealIds?: boolean;
  /**
   * The 32-byte key of sealed ids. Default: one made at the first sealed creation and kept
   * in the bucket at `<prefix>.seal-key` (readable by whoever can read the bucket).
   */
  sealKey?: Buffer;
}

export class S3MultipartStore
  extends DataStore
  implements
    CreationDeferLengthStore,
    TerminationStore,
    ChecksumStore,
    UnfinishedConcatenationStore,
    DirectBodyStore
{
  /** Reads request bodies straight from the node request when offered (body/direct-body.ts). */
  readonly readsDirectBody = true;
  /** write() verifies an Upload-Checksum in any of them (s3/patch/receiver.ts). */
  readonly checksumAlgorithms = CHECKSUM_ALGORITHMS;
  /** A final may name partials in any state: direct or waiting (s3/concat/final-kind.ts). */
  readonly concatenatesUnfinished = true;
  /** Verifies a Repr-Digest declared on creation or a PATCH (s3/digest/). */
  readonly verifiesReprDigest = true;
  /** Set when instant upload is on (capabilities.ts: then it is advertised). */
  readonly instantUpload?: { readonly floorMs: number };
  readonly metrics: StoreMetrics = newMetrics();
  readonly bucket: string;
  readonly prefix: string;
  /** Part buffers held across all uploads (partMemory). */
  readonly partBudget: PartBudget;
  /** The newest write() of each upload (one runs at a time; drained() waits for them). */
  private readonly writing = new Map<string, Promise<number>>();
  private readonly ctx: StoreContext;
  private readonly partSizeOption: number | undefined;
  private readonly maxSize: number | undefined;
  private readonly expiration: number;
  private readonly idleTimeout: number;
  private readonly parts: PartList;
  private readonly receiver: PatchReceiver;
  private readonly finals: FinalDeps;
  private readonly loading: LoadDeps;
  private readonly termination: TerminationDeps;
  private readonly finish: (
    info: UploadInfo,
    progress: Progress,
    staged?: boolean,
    findings?: Findings,
  ) => Promise<UploadInfo>;
  // What the last request left of each upload (s3/state/upload-state.ts says when it is trusted).
  private readonly states: StateCache;
  /** Instances share locks: a holder paused past its lease may still write (locks/fence.ts). */
  private readonly sharedLocks: boolean;
  private readonly quotas: QuotaGate | undefined;
  /** Partials a final's creation request read to size it, for its create(). */
  private readonly partialsSized = new WeakMap<RequestContext, NamedPartials>();
  /** An upload this creation request created without writing it yet, for its write(). */
  private readonly folding = new WeakMap<RequestContext, UploadState>();
  private readonly hashAll: boolean;
  /** POSTs without a body get sealed ids (sealIds). */
  private readonly sealing: boolean;
  private readonly fullObjectCrc: boolean;

  constructor(opts: S3StoreOptions) {
    super();
    const { client } = opts;
    this.bucket = opts.bucket;
    this.prefix = opts.prefix ?? '';
    this.partSizeOption = opts.partSize;
    this.maxSize = opts.maxSize && opts.maxSize > 0 ? opts.maxSize : undefined;
    this.expiration = opts.expiration ?? 0;
    const queueSize = Math.max(1, opts.queueSize ?? DEFAULT_QUEUE_SIZE);
    const partBuffers = Math.max(1, opts.partBuffers ?? DEFAULT_PART_BUFFERS);
    const { bucket, prefix, metrics } = this;
    const partChecksum = opts.partChecksum ?? 'md5';
    const ctx: StoreContext = {
      client,
      bucket,
      prefix,
      metrics,
      partChecksum,
      inlineTypes: opts.inlineTypes,
      log: opts.logger ?? silentLogger,
      fence: UNFENCED,
    };
    // Quotas count unfinished uploads by their markers: with quotas, markers never wait.
    const markerDelay = opts.quotas ? 0 : (opts.openMarkerDelay ?? DEFAULT_OPEN_MARKER_DELAY_MS);
    if (markerDelay > 0) {
      ctx.markers = new PendingMarkers(
        markerDelay,
        (id) => writeOpenMarker(ctx, id),
        (err, id) => ctx.log.warn({ err, id }, 'could not write an open marker'),
      );
    }
    this.partBudget = new PartBudget({
      limit: partMemoryBudget(opts.partMemory, partBuffers, opts.partSize ?? DEFAULT_PART_SIZE),
      wait: opts.memoryWait,
    });
    this.idleTimeout = opts.idleTimeout ?? DEFAULT_IDLE_TIMEOUT;
    this.ctx = ctx;
    this.sharedLocks = opts.sharedLocks === true;
    this.fullObjectCrc = opts.fullObjectChecksum === 'crc64nvme';
    this.hashAll = opts.digest === 'sha256' || this.fullObjectCrc;
    this.instantUpload = instantSettings(opts.instantUpload);
    this.quotas = opts.quotas && new QuotaGate(opts.quotas, new TenantUsageCounter(ctx));
    this.states = new StateCache(this.sharedLocks);
    ctx.seals = new SealKeeper(ctx, this.expiration, opts.sealKey);
    this.sealing =
      opts.sealIds !== false &&
      !this.sharedLocks &&
      this.expiration > 0 &&
      !opts.quotas &&
      !this.hashAll;
    const segments = new SegmentStaging(client, bucket, prefix, partChecksum);
    this.parts = new PartList(ctx);
    this.receiver = new PatchReceiver({
      ctx,
      queueSize,
      partBuffers,
      segments,
      pending: new PendingParts(client, bucket, prefix, partChecksum),
      marks: new UnverifiedMarks(client, bucket, prefix),
      budget: this.partBudget,
    });
    const completion = { ctx, segments, parts: this.parts, indexes: !!this.instantUpload };
    this.finish = async (info, progress, staged, findings) => {
      const fence = fenceOf(currentRequest(), info.id);
      const done = await finish({ ...completion, ctx: { ...ctx, fence } }, info, progress, staged);
      // The last partial of a direct final to finish completes the final too.
      const adopted = adoptionOf(done);
      if (adopted) await settleFinal(this.finals, adopted.finalId, findings);
      // The last partial of a waiting final to finish assembles it; the partial is done
      // whatever becomes of that (the next look at either resumes it).
      const awaitedBy = done.concat?.role === 'partial' ? done.concat.awaitedBy : undefined;
      if (awaitedBy !== undefined) {
        const final = await settleWaiting(this.finals, awaitedBy, findings).catch(
          (err: unknown) => {
            ctx.log.warn({ err, id: done.id }, 'could not assemble the final awaiting a partial');
            return undefined;
          },
        );
        // Its final failed its digest and released it: this PATCH's bytes are fine (204).
        if (final && failedDigestFinal(final)) return { ...done, concat: { role: 'partial' } };
      }
      return done;
    };
    this.finals = this.finalDeps(queueSize);
    this.loading = {
      ctx,
      parts: this.parts,
      finish: this.finish,
      finals: this.finals,
      sharedLocks: this.sharedLocks,
    };
    this.termination = { ctx, removeUpload: (info) => this.removeUpload(info) };
    if (this.expiration > 0) this.enableExpiration(opts);
    // What this store implements is what @tus/server and OPTIONS see (capabilities.ts).
    this.extensions = storeExtensions(this).tusServer;
  }

  /** What concatenation (s3/concat/) needs of the store. */
  private finalDeps(queueSize: number): FinalDeps {
    const { ctx } = this;
    return {
      ctx,
      partSizeOption: this.partSizeOption,
      concurrency: Math.max(queueSize, 4),
      loadState: (id, findings) => this.loadState(id, findings),
      finish: this.finish,
      remove: (id) => this.removeNow(id),
      remember: (state, generation) => this.states.remember(state, generation),
      forget: (info) => {
        this.states.forget(info.id);
        this.parts.forget(info);
      },
      parts: this.parts,
      lockFinal: (finalId) => lockFinal(currentRequest(), finalId),
      settling: new Map(),
    };
  }

  /**
   * Only a store whose uploads expire has the expiration extension (capabilities.ts);
   * without it, DataStore's defaults: no expiration, nothing to sweep.
   */
  private enableExpiration(opts: S3StoreOptions): void {
    this.getExpiration = () => this.expiration;
    // Removes unfinished uploads older than the expiration, and multipart uploads, markers
    // and staged objects under this prefix that lost their info record (s3/expiration/).
    const sweeper = new ExpirationSweeper({
      ctx: this.ctx,
      expiration: this.expiration,
      remove: (id) => this.remove(id),
      lease: opts.sweepLease,
      fullPassInterval: opts.fullSweepInterval,
    });
    this.deleteExpired = () => sweeper.run();
  }

  /**
   * The id of the upload a tus POST creates (@tus/server's namingFunction), for an upload
   * that fits in one part: a sealed id (s3/sealed/seal.ts) when the POST brings no body
   * and this store seals ids; one whose info may be folded into its object when the POST
   * brings the whole upload (s3/folded-info.ts; a chunked body, as Node's fetch and so our
   * client stream them, says its length only at its end: it may be whole). An ordinary id
   * otherwise.
   */
  async nameUpload(
    request: Request,
    metadata: Record<string, string | null> | undefined,
  ): Promise<string> {
    const h = request.headers;
    const size = Number(h.get('upload-length') ?? Number.NaN);
    const sent = h.get('content-length');
    const partSize = choosePartSize(size, this.partSizeOption);
    const onePart =
      !h.has('upload-concat') &&
      Number.isSafeInteger(size) &&
      size > 0 &&
      fitsOnePart(size, partSize);
    const bodyless = sent === '0' || (sent === null && !h.has('transfer-encoding'));
    const context = currentRequest();
    if (
      onePart &&
      bodyless &&
      this.sealing &&
      context?.reprDigest === undefined &&
      context?.instant !== true
    ) {
      const sealed = await this.ctx.seals?.seal({
        size,
        createdAt: Date.now(),
        partSize,
        metadata,
        ...ownershipOf(context?.principal),
      });
      if (sealed) return sealed;
    }
    const whole =
      h.get('content-type') === TUS_MEDIA_TYPE && (sent === null || sent === String(size));
    return newUploadId(onePart && whole);
  }

  /** The part size an upload of unknown size gets (Tus-S3-Part-Size on OPTIONS). */
  preferredPartSize(): number {
    return choosePartSize(undefined, this.partSizeOption);
  }

  override async create(upload: Upload): Promise<Upload> {
    if (!isValidId(upload.id)) throw new TusError(400, 'upload id must be URL-safe');
    if (upload.size !== undefined && upload.size > S3_MAX_OBJECT_SIZE) {
      throw new TusError(413, 'Upload-Length exceeds the S3 object limit of 5 TiB');
    }
    const request = currentRequest();
    const announced = upload.size === undefined ? request?.announcedLength : undefined;
    if (announced !== undefined) checkAnnouncedAtCreation(announced, this.maxSize);
    if (!this.quotas) return this.createUpload(upload, request);
    // A final consumes uploads counted already: only its size is held to the quota.
    const counted = request?.concat?.role !== 'final';
    return this.quotas.admit(request?.principal, upload.size ?? announced, counted, () =>
      this.createUpload(upload, request),
    );
  }

  private async createUpload(upload: Upload, request: RequestContext | undefined): Promise<Upload> {
    if (request?.concat?.role === 'final') {
      const created = await createFinal(this.finals, upload, request.concat.partials, {
        named: this.partialsSized.get(request),
        generation: lockGeneration(request, upload.id),
        findings: request.reply,
        principal: request.principal,
        digest: digestAtCreation(request.reprDigest, this.hashAll),
      });
      tell(request, created.info);
      return created.upload;
    }
    const partial = request?.concat?.role === 'partial';
    // A deferred upload's parts are sized for the most it may take: its announced length
    // (the IETF draft's) when it has one, else the server's maximum.
    const announcedLength = upload.size === undefined ? request?.announcedLength : undefined;
    const most = upload.size ?? announcedLength ?? this.maxSize;
    const partSize = choosePartSize(most, this.partSizeOption);
    const challenge = this.challengeFor(upload, request);
    const sealed =
      this.sealing && isSealedId(upload.id) ? await this.ctx.seals?.open(upload.id) : undefined;
    const info = await startUpload(this.ctx, upload, {
      ...ownershipOf(request?.principal),
      partSize,
      announcedLength,
      concat: partial ? { role: 'partial' } : undefined,
      digest: digestAtCreation(request?.reprDigest, this.hashAll, this.fullObjectCrc),
      instant: challenge,
      wholeBodyFollows: wholeBodyFollows(upload, request),
      sealed,
    });
    if (request && challenge) request.reply.instantChallenge = challengeHeader(challenge);
    // A partial may be adopted by a final (s3/concat/direct-final.ts), maybe on another instance,
    // before its first byte: what it is then must come from S3, not from this memory.
    if (!partial) {
      const state = { info, progress: emptyProgress(), loadedAt: Date.now() };
      this.states.remember(state, lockGeneration(request, info.id));
      // Exists nowhere but here until its write(): that must find it whatever the cache did.
      if (request && isUnwritten(info)) this.folding.set(request, state);
    }
    tell(request, info);
    upload.creation_date = info.createdAt;
    upload.storage = storageOf(this.ctx, info.id);
    return upload;
  }

  /**
   * A creation that asked for instant upload (its headers checked by the front) gets a
   * challenge drawn blind: nothing stored is looked at, so the answer is the same whether
   * or not the tenant has the content.
   */
  private challengeFor(
    upload: Upload,
    request: RequestContext | undefined,
  ): StoredChallenge | undefined {
    const declared = request?.reprDigest;
    if (!this.instantUpload || request?.instant !== true || declared === undefined) return;
    if (upload.size === undefined || upload.size <= 0) return;
    return makeChallenge(declared, upload.size, Date.now());
  }

  override async getUpload(id: string): Promise<Upload> {
    const request = currentRequest();
    const generation = lockGeneration(request, id);
    // A POST asks again for the upload it just created (for Upload-Expires): this request's
    // own memory of it is exact, and no other request knows its URL yet.
    const known =
      request?.method === 'PATCH'
        ? this.states.forPatchAt(id, request.uploadOffset, generation)
        : request?.method === 'POST'
          ? this.states.remembered(id, generation)
          : undefined;
    // A cut PATCH's write() may still be settling (its tail staged, folded segments
    // deleted) after @tus/server unlocked the upload: a look loaded meanwhile would answer,
    // and remember, state that write is about to change. Wait for it, as write() does.
    if (!known) await this.writing.get(id)?.then(noop, noop);
    const state = known ?? (await this.loadState(id, request?.reply));
    if (!known) this.states.remember(state, generation);
    assertMayUse(state.info, request?.principal);
    tell(request, state.info);
    if (request?.method === 'PATCH' && state.info.concat?.role === 'final') {
      // Checked here, before @tus/server compares offsets, so every PATCH on a final gets 403.
      throw new TusError(
        403,
        'a final upload is built from its partial uploads; it takes no PATCH',
      );
    }
    // A final that failed its digest answers every request 460; a DELETE still removes it.
    const failed = failedDigestFinal(state.info);
    if (failed && request !== undefined && request.method !== 'DELETE') throw failedFinalError();
    return toUpload(this.ctx, state);
  }

  /**
   * For Upload-Concat: final. Each must be a partial upload of this store of known length
   * that no final adopted (unless the POST repeats that final's creation); whether
   * finished or not is the final's business.
   */
  async sizeOfPartials(ids: readonly string[]): Promise<number[]> {
    const request = currentRequest();
    // A cut PATCH of a partial may still be making its bytes durable (see write()): the final
    // must see its state after that, and the PATCH must not then overwrite the final's mark.
    await Promise.allSettled(ids.map((id) => this.writing.get(id)));
    const named = await namedPartials(this.finals, ids, request?.reply, request?.principal);
    // create() follows in the same request: each partial read costs S3 three round trips.
    if (request) this.partialsSized.set(request, named);
    return named.states.map(partialLength);
  }

  override async declareUploadLength(id: string, length: number): Promise<void> {
    const request = currentRequest();
    const generation = lockGeneration(request, id);
    const state = this.states.take(id, generation) ?? (await this.loadState(id, request?.reply));
    assertMayUse(state.info, request?.principal);
    checkDeclaredLength(state.info, length);
    await this.quotas?.checkSize(request?.principal, length);
    if (length > capacityOf(state.info.partSize)) {
      throw new TusError(413, 'Upload-Length exceeds what this upload can hold');
    }
    if (length < state.progress.offset)
      throw new TusError(400, 'Upload-Length is below the offset');
    state.info = { ...state.info, size: length };
    fenceOf(request, id).assertHeld();
    await writeInfo(this.ctx, state.info);
    this.states.remember(state, generation);
  }

  /**
   * Resolves once no write() is running. @tus/server may answer a cut PATCH before the
   * store has made what arrived durable; closing waits for this, not for the answers.
   */
  async drained(): Promise<void> {
    while (this.writing.size > 0) await Promise.allSettled([...this.writing.values()]);
    // Open markers still waiting: the sweep may need them once this process is gone.
    await this.ctx.markers?.flush();
  }

  /**
   * One write per upload at a time in this process: @tus/server unlocks a cut PATCH's
   * upload before the store's write() returns (it answers when the body fails, while the
   * tail is still being staged), so the lock alone would let the client's retry run
   * beside it. The retry waits, then sees the offset the cut one reached.
   */
  override write(readable: Readable, id: string, offset: number): Promise<number> {
    const prior = this.writing.get(id);
    const start = prior ? prior.then(noop, noop) : Promise.resolve();
    const writing = start.then(() => this.writeTracked(readable, id, offset));
    this.writing.set(id, writing);
    const forget = () => {
      if (this.writing.get(id) === writing) this.writing.delete(id);
    };
    writing.then(forget, forget);
    return writing;
  }

  private async writeTracked(readable: Readable, id: string, offset: number): Promise<number> {
    const request = currentRequest();
    // Leaving a loop over it early must not destroy the body: @tus/server would answer the
    // PATCH and unlock the upload on that premature close while parts of it are in flight.
    const body: AsyncIterableIterator<Buffer> = request?.body
      ? request.body.claim(readable, this.idleTimeout)
      : readable.iterator({ destroyOnReturn: false });
    try {
      return await this.writeBody(body, id, offset, request);
    } finally {
      // Whatever path led out, the body stops being read (and a direct one is drained).
      await body.return?.();
    }
  }

  private async writeBody(
    body: AsyncIterableIterator<Buffer>,
    id: string,
    offset: number,
    request: RequestContext | undefined,
  ): Promise<number> {
    const generation = lockGeneration(request, id);
    const state =
      this.foldingState(request, id) ??
      this.states.take(id, generation) ??
      (await this.loadState(id, request?.reply));
    assertMayUse(state.info, request?.principal);
    const { info, progress } = state;
    if (info.completedAt !== undefined) {
      for await (const chunk of body) {
        if ((chunk as Buffer).length === 0) continue;
        if (info.concat?.role === 'final') {
          throw new TusError(
            403,
            'a final upload is built from its partial uploads; it takes no bytes',
          );
        }
        throw ERRORS.ERR_SIZE_EXCEEDED;
      }
      return info.size ?? 0;
    }
    if (offset !== progress.offset) throw ERRORS.INVALID_OFFSET;
    if (this.instantUpload && request?.instantProof) {
      // Read to its end (it is empty, the front checked): a direct body's placeholder
      // ends only then, and @tus/server answers only once it has.
      for await (const chunk of body) if ((chunk as Buffer).length > 0) throw PROOF_WITH_BODY;
      return this.proveInstant(state, request, this.instantUpload.floorMs);
    }
    if (request?.reprDigest !== undefined) await this.declareDigest(state, request);
    if (request?.announcedLength !== undefined) await this.announceLength(state, request);
    checkWithinAnnounced(state.info, offset, request?.contentLength);
    let written: Progress;
    try {
      written = await this.receiver.receive(body, state, {
        checksum: request?.checksum,
        declaredLength: request?.contentLength,
        maxSize: this.maxSize,
        fence: fenceOf(request, id),
      });
    } catch (err) {
      if (request?.method === 'PATCH' && isUnwritten(state.info)) {
        // A sealed id's PATCH cut short (s3/sealed/): the bytes it staged count only once the
        // upload exists in S3, as they would for any other upload. A look that finds no
        // .info drops them (state/load.ts).
        await this.writeCreatedLocked(state.info, request).catch((e: unknown) =>
          this.ctx.log.warn({ err: e, id }, 'could not write the info of a cut PATCH'),
        );
      }
      if (
        request?.method === 'POST' &&
        (err as TusError).status_code === CHECKSUM_MISMATCH_STATUS &&
        !isUnwritten(state.info)
      ) {
        // Creation-with-upload failed its checksum: the client gets no Location, so the
        // upload could never be resumed. Leave nothing behind.
        await this.removeNow(id).catch((e: unknown) =>
          this.ctx.log.warn({ err: e, id }, 'cleanup failed'),
        );
      }
      throw err;
    }
    const size = state.info.size;
    let after = state.info;
    if (isUnwritten(state.info) && written.offset !== size) {
      // A folded creation whose body stopped short (cut, or shorter than it said), or a
      // sealed id's PATCH that did not finish it: what it brought is durable, so the upload
      // must exist before the answer gives its URL or its offset.
      await this.writeCreatedLocked(state.info, request);
    }
    if (size !== undefined && written.offset === size) {
      after = await this.finish(state.info, written, state.staged === true, request?.reply);
    } else {
      this.parts.remember(info, written.parts);
    }
    this.states.remember({ ...state, info: after, progress: written }, generation);
    return written.offset;
  }

  /** The .info (and marker) of an upload created without them, under the request's lock. */
  private async writeCreatedLocked(
    info: UploadInfo,
    request: RequestContext | undefined,
  ): Promise<void> {
    fenceOf(request, info.id).assertHeld();
    await writeCreated(this.ctx, info);
  }

  /** A PATCH with Upload-Instant-Proof (s3/instant/prove.ts): the offset it answers. */
  private async proveInstant(
    state: UploadState,
    request: RequestContext,
    floorMs: number,
  ): Promise<number> {
    const { id } = state.info;
    const { proof, receivedAt } = request.instantProof as { proof: Uint8Array; receivedAt: number };
    // The proof replaces the bytes from the start; anywhere else it would be a resume.
    if (state.progress.offset !== 0) throw ERRORS.INVALID_OFFSET;
    const deps = {
      ctx: { ...this.ctx, fence: fenceOf(request, id) },
      floorMs,
      concurrency: this.finals.concurrency,
      finish: (info: UploadInfo, progress: Progress, staged: boolean) =>
        this.finish(info, progress, staged, request.reply),
    };
    const answer = await answerProof(deps, state, proof, receivedAt);
    this.states.remember({ ...state, ...answer }, lockGeneration(request, id));
    return answer.progress.offset;
  }

  /** A Repr-Digest on a PATCH (s3/digest/: when it can still be verified). */
  private async declareDigest(state: UploadState, request: RequestContext): Promise<void> {
    const info = await declaredOnPatch(state, request.reprDigest as string);
    if (info === state.info) return;
    fenceOf(request, info.id).assertHeld();
    await writeInfo(this.ctx, info);
    state.info = info;
  }

  /** A length an IETF draft append announced without completing (s3/announced-length.ts). */
  private async announceLength(state: UploadState, request: RequestContext): Promise<void> {
    const { info, progress } = state;
    const announced = request.announcedLength as number;
    const next = withAnnouncedLength(info, announced, progress.offset, this.maxSize);
    if (next === info) return;
    fenceOf(request, info.id).assertHeld();
    await writeInfo(this.ctx, next);
    state.info = next;
  }

  /** Termination (DELETE), the sweep and `uploads abort`. */
  override async remove(id: string): Promise<void> {
    // A cut PATCH's write() may still be settling after @tus/server unlocked the upload (as in
    // getUpload): it may yet write the info of a sealed id, which must not outlive this.
    await this.writing.get(id)?.then(noop, noop);
    return this.removeNow(id);
  }

  /**
   * What remove() does, without waiting for the upload's write: for removals made by a
   * write itself (a direct final completed by its last partial's PATCH removes that
   * partial), which would otherwise wait for themselves.
   */
  private async removeNow(id: string): Promise<void> {
    const request = currentRequest();
    const info = await readInfo(this.ctx, id);
    assertMayUse(info, request?.principal);
    const final = await unfinishedFinalOf(this.ctx, info);
    const lockUploads = request?.lockUploads ?? noLocks;
    if (final) await terminateGroup(this.termination, final, info, lockUploads);
    else await this.removeUpload(info);
    // A sealed id still opens after its upload is gone: its tombstone says it is gone, and
    // expires with it (the sweep removes it then). One that expired opens no more anyway.
    if (isSealedId(id) && !isExpired(info, this.expiration)) {
      await writeInfo(this.ctx, tombstoneOf(info));
    }
  }

  private async removeUpload(info: UploadInfo): Promise<void> {
    const { client, bucket, prefix } = this.ctx;
    const { id } = info;
    if (info.uploadId !== undefined) await abortMultipart(this.ctx, id, info.uploadId);
    this.parts.forget(info);
    this.states.forget(id);
    const staged = await listStaged(client, bucket, prefix, id);
    if (this.instantUpload) await forgetRemoved(this.ctx, info);
    await Promise.all([
      deleteKeys(client, bucket, stagedKeys(staged)),
      // One still waiting to be written (s3/pending-markers.ts) never will be.
      needsOpenMarker(info) && !this.ctx.markers?.cancel(id)
        ? deleteOpenMarker(this.ctx, id)
        : undefined,
    ]);
    // A one-part upload's object may exist while its info does not say complete (see
    // objectRecordsCompletion).
    if (info.completedAt !== undefined || info.uploadId === undefined) {
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: objectKey(prefix, id) }));
    }
    // The info goes last: while it exists, the upload can still be found and removed.
    await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: infoKey(prefix, id) }));
    // Once more for a one-part upload: a PutObject of a holder that lost its lock may have
    // landed in between; one landing later finds no info and removes itself (s3/parts/upload.ts).
    if (info.uploadId === undefined && this.sharedLocks) {
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: objectKey(prefix, id) }));
    }
    this.ctx.log.debug({ id }, 'upload removed');
  }

  /** The state of the upload this request created unwritten (see `folding`), once. */
  private foldingState(request: RequestContext | undefined, id: string): UploadState | undefined {
    const state = request && this.folding.get(request);
    if (!request || state?.info.id !== id) return undefined;
    this.folding.delete(request);
    this.states.forget(id);
    return state;
  }

  private loadState(id: string, findings?: Findings): Promise<UploadState> {
    return loadState(this.loading, id, findings);
  }
}

/** The store's instant-upload settings from its option; undefined when off. */
function instantSettings(option: S3StoreOptions['instantUpload']): { floorMs: number } | undefined {
  if (!option) return undefined;
  const floorMs = option === true ? undefined : option.floorMs;
  if (floorMs !== undefined && !(Number.isFinite(floorMs) && floorMs >= 0)) {
    throw new Error(`instantUpload.floorMs must be a number of ms >= 0, not ${floorMs}`);
  }
  return { floorMs: floorMs ?? DEFAULT_ANSWER_FLOOR_MS };
}

/** What ties the request's writes to its lock on `id` (UNFENCED without a shared locker). */
function fenceOf(request: RequestContext | undefined, id: string): Fence {
  return request?.fences?.get(id) ?? UNFENCED;
}

/**
 * A tus creation-with-upload whose body may be all of the upload (Content-Length, if any, is
 * Upload-Length), under an id made for it (nameUpload): its info may be folded into the
 * object (s3/folded-info.ts); a body that proves short gets the .info after all (write()).
 * Only a body @tus/server hands to write() qualifies: a creation answered without one
 * would name an upload that is nowhere.
 */
function wholeBodyFollows(upload: Upload, request: RequestContext | undefined): boolean {
  return (
    request?.method === 'POST' &&
    isFoldableId(upload.id) &&
    request.offsetBody === true &&
    upload.size !== undefined &&
    upload.size > 0 &&
    (request.contentLength === undefined || request.contentLength === upload.size)
  );
}

/** The generation of the shared lock `request` took on `id`, if any. */
function lockGeneration(request: RequestContext | undefined, id: string): number | undefined {
  return request?.lockGenerations?.get(id);
}

/** Hands the response what it says about the request's upload (front/handler.ts). */
function tell(request: RequestContext | undefined, info: UploadInfo): void {
  if (request) Object.assign(request.reply, uploadReply(info));
}

const PROOF_WITH_BODY = new TusError(
  400,
  'a PATCH with Upload-Instant-Proof takes no body (Content-Length: 0)',
);

/** Outside a request (the expiration sweep) no other upload's lock is taken. */
const noLocks: LockUploads = async () => async () => {};

function noop(): void {}
