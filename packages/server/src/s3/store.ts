// S3MultipartStore: a @tus/utils DataStore that streams every upload into one S3
// multipart upload. Truth lives in S3 (parts, staged segments, the info record), so any
// instance can serve any request and a restarted one loses nothing acknowledged.
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { DataStore, Upload } from '@tus/utils';
import type { Logger } from 'pino';
import { ERRORS, isS3NotFound, TusError } from '../errors.js';
import {
  CHECKSUM_MISMATCH_STATUS,
  createDigester,
  type ExpectedChecksum,
  verifyChecksum,
} from '../extensions/checksum.js';
import type { ConcatenatingStore } from '../extensions/concatenation.js';
import { Extension, TUS_SERVER_CONCATENATION_SPELLING } from '../extensions/names.js';
import { silentLogger } from '../log.js';
import { currentRequest } from '../request-context.js';
import { BufferPool } from './buffer-pool.js';
import { buildFinalParts, type ConcatCounters } from './concat.js';
import { chooseFinalPartSize } from './concat-plan.js';
import { isExpired, parseInfo, serializeInfo, type UploadInfo } from './info.js';
import { idFromInfoKey, infoKey, isValidId, objectKey } from './keys.js';
import { contentDispositionOf, contentTypeOf } from './object-headers.js';
import {
  deriveProgress,
  type Progress,
  type StoredPart,
  type StoredSegment,
  type UnverifiedRange,
} from './offset.js';
import { PartPipeline } from './part-pipeline.js';
import {
  capacityOf,
  choosePartSize,
  expectedPartLength,
  partCount,
  partEndAt,
  partNumberAt,
  S3_MAX_OBJECT_SIZE,
  S3_MAX_PARTS,
  S3_MIN_PART_SIZE,
} from './parts.js';
import { type PendingPart, PendingParts } from './pending.js';
import { bareEtag, quotedEtag } from './s3-client.js';
import { SegmentStaging } from './segments.js';
import { deleteKeys, listStaged, stagedKeys } from './staging.js';
import { UnverifiedMarks } from './unverified.js';

/** A whole part cut from a request body, with the staged segments folded into it. */
interface FullPart {
  partNumber: number;
  body: Buffer;
  /** The pool buffer backing `body`, returned once S3 has the part. */
  pooled?: Buffer;
  /** Segments of earlier requests this part contains: deleted once the part is durable. */
  segs: StoredSegment[];
}

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
  /** Part uploads in flight per PATCH while the next part is received. */
  queueSize?: number;
  logger?: Logger;
}

/** What S3 says about one upload right now. */
interface UploadState {
  info: UploadInfo;
  progress: Progress;
  loadedAt: number;
}

/** Counters for tests and operators: what the store asked of S3. */
export interface StoreMetrics extends ConcatCounters {
  partsUploaded: number;
  partBytesUploaded: number;
  segmentsWritten: number;
  segmentBytesWritten: number;
  segmentBytesReadBack: number;
  completed: number;
  /** Requests whose body matched its Upload-Checksum, and those that did not (460). */
  checksumsVerified: number;
  checksumMismatches: number;
  /** Whole parts of checksummed requests staged before verification, then made parts. */
  pendingPartsStaged: number;
  pendingPartsCommitted: number;
  pendingBytesCommitted: number;
}

const FRESH_MS = 30_000;
const PART_CACHE_LIMIT = 1000;

export class S3MultipartStore extends DataStore implements ConcatenatingStore {
  readonly metrics: StoreMetrics = {
    partsUploaded: 0,
    partBytesUploaded: 0,
    segmentsWritten: 0,
    segmentBytesWritten: 0,
    segmentBytesReadBack: 0,
    completed: 0,
    partsCopied: 0,
    bytesCopied: 0,
    partsAssembled: 0,
    bytesAssembled: 0,
    checksumsVerified: 0,
    checksumMismatches: 0,
    pendingPartsStaged: 0,
    pendingPartsCommitted: 0,
    pendingBytesCommitted: 0,
  };
  readonly bucket: string;
  readonly prefix: string;
  private readonly client: S3Client;
  private readonly partSizeOption: number | undefined;
  private readonly maxSize: number | undefined;
  private readonly expiration: number;
  private readonly queueSize: number;
  private readonly log: Logger;
  private readonly segments: SegmentStaging;
  private readonly pending: PendingParts;
  private readonly marks: UnverifiedMarks;
  private readonly pool: BufferPool;
  // State read by getUpload/create, handed to the write that follows under the same lock,
  // so a PATCH lists S3 once.
  private readonly fresh = new Map<string, UploadState>();
  // Parts that count toward an upload's offset never change, so only newer ones are listed.
  private readonly partCache = new Map<string, StoredPart[]>();

  constructor(opts: S3StoreOptions) {
    super();
    this.client = opts.client;
    this.bucket = opts.bucket;
    this.prefix = opts.prefix ?? '';
    this.partSizeOption = opts.partSize;
    this.maxSize = opts.maxSize && opts.maxSize > 0 ? opts.maxSize : undefined;
    this.expiration = opts.expiration ?? 0;
    this.queueSize = Math.max(1, opts.queueSize ?? 2);
    this.log = opts.logger ?? silentLogger;
    this.segments = new SegmentStaging(this.client, this.bucket, this.prefix);
    this.pending = new PendingParts(this.client, this.bucket, this.prefix);
    this.marks = new UnverifiedMarks(this.client, this.bucket, this.prefix);
    this.pool = new BufferPool(this.queueSize + 1);
    // What this store implements is what OPTIONS advertises (front.ts).
    this.extensions = [
      Extension.Creation,
      Extension.CreationWithUpload,
      Extension.CreationDeferLength,
      Extension.Termination,
      ...(this.expiration > 0 ? [Extension.Expiration] : []),
      Extension.Checksum,
      Extension.Concatenation,
      // @tus/server's PostHandler looks for this spelling before it lets Upload-Concat in.
      TUS_SERVER_CONCATENATION_SPELLING,
    ];
  }

  /** The part size an upload of unknown size gets (Tus-S3-Part-Size on OPTIONS). */
  preferredPartSize(): number {
    return choosePartSize(undefined, this.partSizeOption);
  }

  override getExpiration(): number {
    return this.expiration;
  }

  override async create(upload: Upload): Promise<Upload> {
    if (!isValidId(upload.id)) throw new TusError(400, 'upload id must be URL-safe');
    if (upload.size !== undefined && upload.size > S3_MAX_OBJECT_SIZE) {
      throw new TusError(413, 'Upload-Length exceeds the S3 object limit of 5 TiB');
    }
    const request = currentRequest();
    if (request?.concat?.role === 'final') {
      return this.createFinal(upload, request.concat.partials);
    }
    const info = await this.startUpload(upload, {
      partSize: choosePartSize(upload.size ?? this.maxSize, this.partSizeOption),
      concat: request?.concat?.role === 'partial' ? { role: 'partial' } : undefined,
    });
    this.rememberFresh({
      info,
      progress: emptyProgress(),
      loadedAt: Date.now(),
    });
    this.tellRequest(info);
    upload.creation_date = info.createdAt;
    upload.storage = { type: 's3', path: objectKey(this.prefix, info.id), bucket: this.bucket };
    return upload;
  }

  override async getUpload(id: string): Promise<Upload> {
    const state = await this.loadState(id);
    this.rememberFresh(state);
    this.tellRequest(state.info);
    if (currentRequest()?.method === 'PATCH' && state.info.concat?.role === 'final') {
      // Checked here, before @tus/server compares offsets, so every PATCH on a final gets 403.
      throw new TusError(
        403,
        'a final upload is built from its partial uploads; it takes no PATCH',
      );
    }
    return this.toUpload(state);
  }

  /** For Upload-Concat: final. Each must be a finished partial upload of this store. */
  async sizeOfPartials(ids: readonly string[]): Promise<number[]> {
    const infos = await Promise.all(ids.map((id) => this.finishedPartial(id)));
    return infos.map((info) => info.size ?? 0);
  }

  override async declareUploadLength(id: string, length: number): Promise<void> {
    const state = this.takeFresh(id) ?? (await this.loadState(id));
    if (length > capacityOf(state.info.partSize)) {
      throw new TusError(413, 'Upload-Length exceeds what this upload can hold');
    }
    if (length < state.progress.offset)
      throw new TusError(400, 'Upload-Length is below the offset');
    state.info = { ...state.info, size: length };
    await this.writeInfo(state.info);
    this.rememberFresh(state);
  }

  override async write(readable: Readable, id: string, offset: number): Promise<number> {
    const state = this.takeFresh(id) ?? (await this.loadState(id));
    const { info, progress } = state;
    if (info.completedAt !== undefined) {
      for await (const chunk of readable) {
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
    const request = currentRequest();
    let written: Progress;
    try {
      written = await this.receive(readable, state, request?.checksum);
    } catch (err) {
      if (
        request?.method === 'POST' &&
        (err as TusError).status_code === CHECKSUM_MISMATCH_STATUS
      ) {
        // Creation-with-upload failed its checksum: the client gets no Location, so the
        // upload could never be resumed. Leave nothing behind.
        await this.remove(id).catch((e: unknown) =>
          this.log.warn({ err: e, id }, 'cleanup failed'),
        );
      }
      throw err;
    }
    const size = state.info.size;
    if (size !== undefined && written.offset === size) {
      await this.finish(state.info, written);
    } else {
      this.cacheParts(info.uploadId, written.parts);
    }
    return written.offset;
  }

  override async remove(id: string): Promise<void> {
    const info = await this.readInfo(id);
    await this.client
      .send(
        new AbortMultipartUploadCommand({
          Bucket: this.bucket,
          Key: objectKey(this.prefix, id),
          UploadId: info.uploadId,
        }),
      )
      .catch((err: unknown) => {
        if (!isS3NotFound(err)) throw err;
      });
    this.partCache.delete(info.uploadId);
    this.fresh.delete(id);
    const staged = await listStaged(this.client, this.bucket, this.prefix, id);
    await deleteKeys(this.client, this.bucket, stagedKeys(staged));
    if (info.completedAt !== undefined) {
      await this.client.send(
        new DeleteObjectCommand({ Bucket: this.bucket, Key: objectKey(this.prefix, id) }),
      );
    }
    // The info goes last: while it exists, the upload can still be found and removed.
    await this.client.send(
      new DeleteObjectCommand({ Bucket: this.bucket, Key: infoKey(this.prefix, id) }),
    );
    this.log.debug({ id }, 'upload removed');
  }

  /**
   * Removes unfinished uploads older than the expiration, and multipart uploads under this
   * prefix that lost their info record. Touches nothing outside this store's prefix.
   */
  override async deleteExpired(): Promise<number> {
    if (this.expiration <= 0) return 0;
    const now = Date.now();
    let removed = 0;
    const known = new Set<string>();
    let token: string | undefined;
    do {
      const res = await this.client.send(
        new ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: this.prefix,
          ContinuationToken: token,
        }),
      );
      for (const obj of res.Contents ?? []) {
        const id = obj.Key ? idFromInfoKey(this.prefix, obj.Key) : undefined;
        if (!id) continue;
        known.add(id);
        const info = await this.readInfo(id).catch(() => undefined);
        if (info && isExpired(info, this.expiration, now)) {
          await this.remove(id);
          removed++;
        }
      }
      token = res.IsTruncated ? res.NextContinuationToken : undefined;
    } while (token);
    removed += await this.abortOrphans(known, now);
    return removed;
  }

  // ---- creation and concatenation --------------------------------------------------------

  /** CreateMultipartUpload and the info record: the upload exists once both do. */
  private async startUpload(
    upload: Upload,
    extra: Pick<UploadInfo, 'partSize' | 'concat'>,
  ): Promise<UploadInfo> {
    const mpu = await this.client.send(
      new CreateMultipartUploadCommand({
        Bucket: this.bucket,
        Key: objectKey(this.prefix, upload.id),
        ContentType: contentTypeOf(upload.metadata),
        ContentDisposition: contentDispositionOf(upload.metadata),
      }),
    );
    if (!mpu.UploadId) throw new Error('CreateMultipartUpload returned no UploadId');
    const info: UploadInfo = {
      version: 1,
      id: upload.id,
      size: upload.size,
      metadata: upload.metadata,
      uploadId: mpu.UploadId,
      createdAt: new Date().toISOString(),
      ...extra,
    };
    if (info.concat === undefined) delete info.concat;
    await this.writeInfo(info);
    this.log.debug({ id: info.id, partSize: info.partSize, size: info.size }, 'upload created');
    return info;
  }

  /** Tells the response layer about the request's upload (Tus-S3-Part-Size, Upload-Concat). */
  private tellRequest(info: UploadInfo): void {
    const request = currentRequest();
    if (!request) return;
    request.reply.partSize = info.partSize;
    request.reply.concat =
      info.concat?.role === 'final'
        ? { role: 'final', partials: info.concat.partials.map((p) => p.id) }
        : info.concat;
  }

  private async finishedPartial(id: string): Promise<UploadInfo> {
    let state: UploadState;
    try {
      // loadState also completes a partial whose bytes are all durable.
      state = await this.loadState(id);
    } catch (err) {
      if (err === ERRORS.FILE_NOT_FOUND) throw new TusError(404, `partial upload ${id} not found`);
      throw err;
    }
    const { info, progress } = state;
    if (info.concat?.role !== 'partial') {
      throw new TusError(400, `upload ${id} was not created with Upload-Concat: partial`);
    }
    if (info.completedAt === undefined || info.size === undefined) {
      const of = info.size === undefined ? 'a deferred length' : `${info.size}`;
      throw new TusError(
        400,
        `partial upload ${id} is not finished (${progress.offset} of ${of} bytes)`,
      );
    }
    return info;
  }

  /**
   * Upload-Concat: final. Within the creation request: the partials are checked, the final
   * multipart upload and its info (which records the partials) are written, then its parts
   * are copied from the partials and it is completed. A crash anywhere is resumed by the
   * next look at the final (loadState), since the partials stay until the final is done.
   */
  private async createFinal(upload: Upload, ids: readonly string[]): Promise<Upload> {
    const partials = await Promise.all(ids.map((id) => this.finishedPartial(id)));
    const sizes = partials.map((p) => p.size ?? 0);
    const size = sizes.reduce((a, b) => a + b, 0);
    if (upload.size !== undefined && upload.size !== size) {
      throw new TusError(400, `Upload-Length ${upload.size} is not the partials' total ${size}`);
    }
    if (size > S3_MAX_OBJECT_SIZE) {
      throw new TusError(413, 'the partial uploads exceed the S3 object limit of 5 TiB');
    }
    upload.size = size;
    const info = await this.startUpload(upload, {
      partSize: chooseFinalPartSize(sizes, this.partSizeOption),
      concat: {
        role: 'final',
        partials: partials.map((p) => ({ id: p.id, size: p.size ?? 0 })),
      },
    });
    this.tellRequest(info);
    const done = await this.completeFinal(info, []);
    this.rememberFresh({ info: done, progress: completeProgress(done), loadedAt: Date.now() });
    upload.offset = size;
    upload.storage = { type: 's3', path: objectKey(this.prefix, info.id), bucket: this.bucket };
    // Complete at birth: nothing to expire (and no Upload-Expires on the response).
    upload.creation_date = undefined;
    return upload;
  }

  /** Builds (or resumes building) a final's parts, completes it, removes its partials. */
  private async completeFinal(info: UploadInfo, existing: StoredPart[]): Promise<UploadInfo> {
    let parts: StoredPart[];
    try {
      parts = await buildFinalParts(
        {
          client: this.client,
          bucket: this.bucket,
          prefix: this.prefix,
          concurrency: Math.max(this.queueSize, 4),
          uploadPart: (i, n, body) => this.uploadPart(i, n, body),
          counters: this.metrics,
        },
        info,
        existing,
      );
    } catch (err) {
      if (!isS3NotFound(err)) throw err;
      // A partial vanished mid-build (deleted, or consumed by another final built at the
      // same time): this final can never be complete, so it goes rather than linger.
      await this.remove(info.id).catch((e: unknown) =>
        this.log.warn({ err: e, id: info.id }, 'could not remove a broken final upload'),
      );
      throw new TusError(400, 'a partial upload of this final disappeared while it was built');
    }
    const size = info.size ?? 0;
    const done = await this.finish(info, { ...emptyProgress(), offset: size, parts });
    this.log.debug({ id: info.id, partials: info.concat }, 'final upload built');
    return this.removePartials(done);
  }

  /** After the final is complete: its partials' objects and infos go, then the flag is set. */
  private async removePartials(info: UploadInfo): Promise<UploadInfo> {
    if (info.concat?.role !== 'final' || info.concat.partialsRemoved) return info;
    const removing = new PartPipeline(4);
    for (const p of info.concat.partials) {
      await removing.add(() =>
        this.remove(p.id).catch((err: unknown) => {
          if (err !== ERRORS.FILE_NOT_FOUND) throw err;
        }),
      );
    }
    await removing.drain();
    const done: UploadInfo = { ...info, concat: { ...info.concat, partialsRemoved: true } };
    await this.writeInfo(done);
    return done;
  }

  // ---- reading state -------------------------------------------------------------------

  private async loadState(id: string): Promise<UploadState> {
    let info = await this.readInfo(id);
    if (info.completedAt !== undefined) {
      // A crash between completing a final and removing its partials: finish the job.
      if (info.concat?.role === 'final' && !info.concat.partialsRemoved) {
        info = await this.removePartials(info);
      }
      return { info, progress: completeProgress(info), loadedAt: Date.now() };
    }
    if (info.concat?.role === 'final') {
      // A final is never partly there for a client: resume building it from its partials.
      const parts = await this.listParts(info);
      if (parts === 'gone') return this.recoverVanishedUpload(info);
      const done = await this.completeFinal(info, parts);
      return { info: done, progress: completeProgress(done), loadedAt: Date.now() };
    }
    const [parts, staged] = await Promise.all([
      this.listParts(info),
      listStaged(this.client, this.bucket, this.prefix, id),
    ]);
    if (parts === 'gone') return this.recoverVanishedUpload(info);
    const progress = deriveProgress(
      parts,
      staged.segments,
      info.partSize,
      info.size,
      staged.unverified,
    );
    this.cacheParts(info.uploadId, progress.parts);
    const state = { info, progress, loadedAt: Date.now() };
    if (info.size !== undefined && progress.offset === info.size) {
      // Every byte is durable but completion did not happen (a crash, or a length declared
      // after the bytes): finish now so HEAD never reports a full offset for a missing object.
      return { info: await this.finish(info, progress), progress, loadedAt: Date.now() };
    }
    return state;
  }

  /** The multipart upload is gone: either completed before the info said so, or aborted. */
  private async recoverVanishedUpload(info: UploadInfo): Promise<UploadState> {
    const head = await this.client
      .send(new HeadObjectCommand({ Bucket: this.bucket, Key: objectKey(this.prefix, info.id) }))
      .catch((err: unknown) => {
        if (isS3NotFound(err)) return undefined;
        throw err;
      });
    if (head && info.size !== undefined && head.ContentLength === info.size) {
      const done = { ...info, completedAt: new Date().toISOString() };
      await this.writeInfo(done);
      return { info: done, progress: completeProgress(done), loadedAt: Date.now() };
    }
    throw ERRORS.FILE_NOT_FOUND;
  }

  private async readInfo(id: string): Promise<UploadInfo> {
    if (!isValidId(id)) throw ERRORS.FILE_NOT_FOUND;
    try {
      const res = await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: infoKey(this.prefix, id) }),
      );
      return parseInfo((await res.Body?.transformToString('utf-8')) ?? '');
    } catch (err) {
      if (isS3NotFound(err)) throw ERRORS.FILE_NOT_FOUND;
      throw err;
    }
  }

  private async writeInfo(info: UploadInfo): Promise<void> {
    const body = Buffer.from(serializeInfo(info), 'utf-8');
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: infoKey(this.prefix, info.id),
        Body: body,
        ContentLength: body.length,
        ContentType: 'application/json',
        ContentMD5: createHash('md5').update(body).digest('base64'),
      }),
    );
  }

  private async listParts(info: UploadInfo): Promise<StoredPart[] | 'gone'> {
    const known = this.partCache.get(info.uploadId) ?? [];
    const parts = [...known];
    let marker = known.length > 0 ? String(known[known.length - 1]?.partNumber) : undefined;
    try {
      for (;;) {
        const res = await this.client.send(
          new ListPartsCommand({
            Bucket: this.bucket,
            Key: objectKey(this.prefix, info.id),
            UploadId: info.uploadId,
            PartNumberMarker: marker,
          }),
        );
        for (const p of res.Parts ?? []) {
          if (p.PartNumber === undefined) continue;
          parts.push({ partNumber: p.PartNumber, size: p.Size ?? 0, etag: bareEtag(p.ETag) });
        }
        if (!res.IsTruncated || res.NextPartNumberMarker === undefined) break;
        marker = String(res.NextPartNumberMarker);
      }
    } catch (err) {
      if (isS3NotFound(err)) return 'gone';
      throw err;
    }
    return parts;
  }

  private cacheParts(uploadId: string, parts: StoredPart[]): void {
    this.partCache.delete(uploadId);
    this.partCache.set(uploadId, parts);
    if (this.partCache.size > PART_CACHE_LIMIT) {
      const oldest = this.partCache.keys().next().value;
      if (oldest !== undefined) this.partCache.delete(oldest);
    }
  }

  private rememberFresh(state: UploadState): void {
    this.fresh.delete(state.info.id);
    this.fresh.set(state.info.id, state);
    if (this.fresh.size > PART_CACHE_LIMIT) {
      const oldest = this.fresh.keys().next().value;
      if (oldest !== undefined) this.fresh.delete(oldest);
    }
  }

  private takeFresh(id: string): UploadState | undefined {
    const state = this.fresh.get(id);
    this.fresh.delete(id);
    return state && Date.now() - state.loadedAt < FRESH_MS ? state : undefined;
  }

  private toUpload(state: UploadState): Upload {
    const { info, progress } = state;
    return new Upload({
      id: info.id,
      size: info.size,
      offset: progress.offset,
      metadata: info.metadata,
      // A finished upload no longer expires, so it carries no creation date for the
      // handlers' expiration checks; a finished partial still does (see isExpired).
      creation_date:
        info.completedAt === undefined || info.concat?.role === 'partial'
          ? info.createdAt
          : undefined,
      storage: { type: 's3', path: objectKey(this.prefix, info.id), bucket: this.bucket },
    });
  }

  // ---- writing -------------------------------------------------------------------------

  /**
   * Cuts the body at absolute part boundaries. Whole parts go out as UploadPart while the
   * next is received; the rest is staged as a segment. Returns the progress once every
   * received byte is durable.
   *
   * Under an Upload-Checksum nothing of the request may count before its whole body
   * matched. Whole parts still stream to S3, under a mark that keeps them out of the
   * offset (unverified.ts), or, for a deferred length, as pending objects copied into
   * parts after the match (pending.ts). The tail stays in memory until the match, and so
   * does the last whole part: a PATCH of one part (a common case) needs neither. Segments
   * folded into this request's parts are deleted only once those parts count.
   */
  private async receive(
    readable: Readable,
    state: UploadState,
    checksum?: ExpectedChecksum,
  ): Promise<Progress> {
    const { info, progress } = state;
    const { partSize } = info;
    const limit = info.size ?? capacityOf(partSize);
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
    // Segments of earlier requests folded into this request's (first) part.
    const foldedSegs: StoredSegment[] = [];

    /** Takes the filled buffer (with the carried segments before it) as one part. */
    const takePart = async (): Promise<FullPart> => {
      const partNumber = partNumberAt(start, partSize);
      const segs = carried;
      carried = [];
      const head = segs.length > 0 ? await this.segments.read(segs) : [];
      for (const h of head) this.metrics.segmentBytesReadBack += h.length;
      const filled = buf;
      const own = (filled ?? Buffer.alloc(0)).subarray(0, fill);
      const body = head.length > 0 ? Buffer.concat([...head, own]) : own;
      // After a concat the part buffer is free at once; otherwise once S3 has the part.
      if (filled && body !== own) this.release(filled);
      start += fill;
      fill = 0;
      buf = undefined;
      return { partNumber, body, pooled: body === own ? filled : undefined, segs };
    };
    const upload = (part: FullPart, into: PartPipeline): Promise<void> => {
      // Folded segments go once the part counts (a mark may keep it out for a while).
      foldedSegs.push(...part.segs);
      return into.add(async () => {
        try {
          parts.push(await this.uploadPart(info, part.partNumber, part.body));
          written.add(part.partNumber);
        } finally {
          if (part.pooled) this.release(part.pooled);
        }
      });
    };
    /** A whole part of a checksummed request that is not its last: out before the match. */
    const stage = async (part: FullPart): Promise<void> => {
      if (!viaPending) {
        // The mark is durable before the first unverified byte reaches the upload.
        mark ??= await this.marks.put(info.id, part.partNumber, lastPart);
        return upload(part, pipeline);
      }
      return pipeline.add(async () => {
        try {
          const pending = await this.pending.put(info.id, token, part.partNumber, part.body);
          staged.push({ pending, segs: part.segs });
          this.metrics.pendingPartsStaged++;
        } finally {
          if (part.pooled) this.release(part.pooled);
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
      for await (const chunk of readable as AsyncIterable<Buffer>) {
        digester?.update(chunk);
        let pos = 0;
        while (pos < chunk.length) {
          if (start + fill >= limit) throw ERRORS.ERR_SIZE_EXCEEDED;
          if (held) {
            // More bytes follow the held part: it is not the request's last, send it on.
            const part = held;
            held = undefined;
            await stage(part);
          }
          // Allocated on first byte: an empty PATCH costs no part buffer.
          buf ??= this.acquire(partEndAt(start, partSize, info.size) - start, partSize);
          const n = Math.min(chunk.length - pos, buf.length - fill);
          chunk.copy(buf, fill, pos, pos + n);
          fill += n;
          pos += n;
          if (fill === buf.length) await flush();
        }
      }
    } catch (err) {
      // Keep what arrived intact before the failure; the error is still reported.
      streamError = err;
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
          this.metrics.checksumMismatches++;
        }
        if (held?.pooled) this.release(held.pooled);
        if (buf) this.release(buf);
        await this.deleteKeysQuietly(staged.map((x) => x.pending.key));
        throw err;
      }
      this.metrics.checksumsVerified++;
      if (staged.length > 0) {
        // Verified: the pending parts become parts.
        sink = new PartPipeline(Math.max(this.queueSize, 4));
        const target = {
          bucket: this.bucket,
          key: objectKey(this.prefix, info.id),
          uploadId: info.uploadId,
        };
        for (const { pending, segs } of staged) {
          foldedSegs.push(...segs);
          await sink.add(async () => {
            parts.push(await this.pending.commit(target, pending));
            written.add(pending.partNumber);
            this.metrics.pendingPartsCommitted++;
            this.metrics.pendingBytesCommitted += pending.size;
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
          const seg = await this.segments.put(info.id, start, (buf as Buffer).subarray(0, fill));
          this.release(buf as Buffer);
          this.metrics.segmentsWritten++;
          this.metrics.segmentBytesWritten += seg.size;
          carried = [...carried, seg];
        }
      }
      await sink.drain();
      if (sink !== pipeline) await pipeline.drain();
    } catch (error) {
      failure = { error };
    }
    await this.deleteKeysQuietly(staged.map((x) => x.pending.key));
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
      await this.deleteQuietly(foldedSegs);
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

  /** Whole-part buffers come from the pool; the odd first or last part is allocated. */
  private acquire(size: number, partSize: number): Buffer {
    return size === partSize ? this.pool.take(size) : Buffer.allocUnsafe(size);
  }

  private release(buf: Buffer): void {
    if (buf.length >= S3_MIN_PART_SIZE) this.pool.give(buf);
  }

  private async uploadPart(
    info: UploadInfo,
    partNumber: number,
    body: Buffer,
  ): Promise<StoredPart> {
    if (partNumber > S3_MAX_PARTS) throw ERRORS.ERR_SIZE_EXCEEDED;
    const res = await this.client.send(
      new UploadPartCommand({
        Bucket: this.bucket,
        Key: objectKey(this.prefix, info.id),
        UploadId: info.uploadId,
        PartNumber: partNumber,
        Body: body,
        ContentLength: body.length,
        ContentMD5: createHash('md5').update(body).digest('base64'),
      }),
    );
    this.metrics.partsUploaded++;
    this.metrics.partBytesUploaded += body.length;
    return { partNumber, size: body.length, etag: bareEtag(res.ETag) };
  }

  /**
   * Completes the object from a progress that reached the declared size: uploads the last
   * part from staged segments if needed, verifies the part list, completes, checks the
   * object's length, then marks the info complete and clears staging. Returns the info as
   * written.
   */
  private async finish(info: UploadInfo, progress: Progress): Promise<UploadInfo> {
    const size = info.size as number;
    const key = objectKey(this.prefix, info.id);
    let parts = [...progress.parts];
    if (size === 0) {
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: Buffer.alloc(0),
          ContentLength: 0,
          ContentType: contentTypeOf(info.metadata),
          ContentDisposition: contentDispositionOf(info.metadata),
        }),
      );
      await this.client
        .send(
          new AbortMultipartUploadCommand({
            Bucket: this.bucket,
            Key: key,
            UploadId: info.uploadId,
          }),
        )
        .catch((err: unknown) => {
          if (!isS3NotFound(err)) throw err;
        });
    } else {
      const total = partCount(size, info.partSize);
      if (parts.length < total && progress.liveSegments.length > 0) {
        const body = Buffer.concat(await this.segments.read(progress.liveSegments));
        this.metrics.segmentBytesReadBack += body.length;
        parts.push(await this.uploadPart(info, total, body));
      }
      parts = verifyPartList(parts, info.partSize, size);
      await this.client.send(
        new CompleteMultipartUploadCommand({
          Bucket: this.bucket,
          Key: key,
          UploadId: info.uploadId,
          MultipartUpload: {
            Parts: parts.map((p) => ({ PartNumber: p.partNumber, ETag: quotedEtag(p.etag) })),
          },
        }),
      );
    }
    // RGW answers Complete with an empty ETag: the object's length is the check.
    const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
    if (head.ContentLength !== size) {
      throw new Error(`completed object ${key} has ${head.ContentLength} bytes, expected ${size}`);
    }
    const done: UploadInfo = { ...info, completedAt: new Date().toISOString() };
    await this.writeInfo(done);
    this.metrics.completed++;
    this.partCache.delete(info.uploadId);
    // A final upload never staged anything.
    if (info.concat?.role !== 'final') await this.clearStaging(info.id);
    this.log.debug({ id: info.id, size, parts: parts.length }, 'upload completed');
    return done;
  }

  /** Segments, pending parts and marks of any request, once none of them matters. */
  private async clearStaging(id: string): Promise<void> {
    const staged = await listStaged(this.client, this.bucket, this.prefix, id);
    await this.deleteKeysQuietly(stagedKeys(staged));
  }

  private async deleteKeysQuietly(keys: readonly string[]): Promise<void> {
    if (keys.length === 0) return;
    // Pending objects never count toward an offset, nor do segments past the offset; a
    // lost delete only leaves garbage for completion or termination to clear.
    await deleteKeys(this.client, this.bucket, keys).catch((err: unknown) => {
      this.log.warn({ err }, 'could not delete staged objects');
    });
  }

  private async deleteQuietly(segs: Parameters<SegmentStaging['delete']>[0]): Promise<void> {
    if (segs.length === 0) return;
    // A segment that outlives its part is ignored by offset derivation; losing the
    // delete only leaves garbage for completion or termination to clear.
    await this.segments.delete(segs).catch((err: unknown) => {
      this.log.warn({ err }, 'could not delete staged segments');
    });
  }

  private async abortOrphans(known: Set<string>, now: number): Promise<number> {
    let aborted = 0;
    let keyMarker: string | undefined;
    let idMarker: string | undefined;
    do {
      const res = await this.client.send(
        new ListMultipartUploadsCommand({
          Bucket: this.bucket,
          Prefix: this.prefix,
          KeyMarker: keyMarker,
          UploadIdMarker: idMarker,
        }),
      );
      for (const u of res.Uploads ?? []) {
        const id = u.Key?.slice(this.prefix.length);
        if (!u.Key?.startsWith(this.prefix) || !id || !isValidId(id) || known.has(id)) continue;
        if ((u.Initiated?.getTime() ?? now) + this.expiration >= now) continue;
        await this.client.send(
          new AbortMultipartUploadCommand({
            Bucket: this.bucket,
            Key: u.Key,
            UploadId: u.UploadId,
          }),
        );
        aborted++;
      }
      keyMarker = res.IsTruncated ? res.NextKeyMarker : undefined;
      idMarker = res.IsTruncated ? res.NextUploadIdMarker : undefined;
    } while (keyMarker);
    return aborted;
  }
}

function emptyProgress(): Progress {
  return { offset: 0, parts: [], liveSegments: [], staleSegments: [], unverified: [] };
}

function completeProgress(info: UploadInfo): Progress {
  return { ...emptyProgress(), offset: info.size ?? 0 };
}

/** The part list must be 1..n, each of exactly the length its position demands. */
export function verifyPartList(parts: StoredPart[], partSize: number, size: number): StoredPart[] {
  const sorted = [...parts].sort((a, b) => a.partNumber - b.partNumber);
  const total = partCount(size, partSize);
  if (sorted.length !== total) {
    throw new Error(`part list has ${sorted.length} parts, the upload needs ${total}`);
  }
  sorted.forEach((p, i) => {
    const want = expectedPartLength(i + 1, partSize, size);
    if (p.partNumber !== i + 1 || p.size !== want || !p.etag) {
      throw new Error(`part ${i + 1} is missing or has ${p.size} bytes instead of ${want}`);
    }
  });
  return sorted;
}
