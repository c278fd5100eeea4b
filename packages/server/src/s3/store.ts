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
import { Extension } from '../extensions/names.js';
import { silentLogger } from '../log.js';
import { BufferPool } from './buffer-pool.js';
import { isExpired, parseInfo, serializeInfo, type UploadInfo } from './info.js';
import { idFromInfoKey, infoKey, isValidId, objectKey } from './keys.js';
import { contentDispositionOf, contentTypeOf } from './object-headers.js';
import { deriveProgress, type Progress, type StoredPart } from './offset.js';
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
import { bareEtag, quotedEtag } from './s3-client.js';
import { SegmentStaging } from './segments.js';

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
export interface StoreMetrics {
  partsUploaded: number;
  partBytesUploaded: number;
  segmentsWritten: number;
  segmentBytesWritten: number;
  segmentBytesReadBack: number;
  completed: number;
}

const FRESH_MS = 30_000;
const PART_CACHE_LIMIT = 1000;

export class S3MultipartStore extends DataStore {
  readonly metrics: StoreMetrics = {
    partsUploaded: 0,
    partBytesUploaded: 0,
    segmentsWritten: 0,
    segmentBytesWritten: 0,
    segmentBytesReadBack: 0,
    completed: 0,
  };
  readonly bucket: string;
  readonly prefix: string;
  private readonly client: S3Client;
  private readonly preferredPartSize: number | undefined;
  private readonly maxSize: number | undefined;
  private readonly expiration: number;
  private readonly queueSize: number;
  private readonly log: Logger;
  private readonly segments: SegmentStaging;
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
    this.preferredPartSize = opts.partSize;
    this.maxSize = opts.maxSize && opts.maxSize > 0 ? opts.maxSize : undefined;
    this.expiration = opts.expiration ?? 0;
    this.queueSize = Math.max(1, opts.queueSize ?? 2);
    this.log = opts.logger ?? silentLogger;
    this.segments = new SegmentStaging(this.client, this.bucket, this.prefix);
    this.pool = new BufferPool(this.queueSize + 1);
    this.extensions = [
      Extension.Creation,
      Extension.CreationWithUpload,
      Extension.CreationDeferLength,
      Extension.Termination,
      ...(this.expiration > 0 ? [Extension.Expiration] : []),
    ];
  }

  override getExpiration(): number {
    return this.expiration;
  }

  override async create(upload: Upload): Promise<Upload> {
    if (!isValidId(upload.id)) throw new TusError(400, 'upload id must be URL-safe');
    if (upload.size !== undefined && upload.size > S3_MAX_OBJECT_SIZE) {
      throw new TusError(413, 'Upload-Length exceeds the S3 object limit of 5 TiB');
    }
    const partSize = choosePartSize(upload.size ?? this.maxSize, this.preferredPartSize);
    const key = objectKey(this.prefix, upload.id);
    const mpu = await this.client.send(
      new CreateMultipartUploadCommand({
        Bucket: this.bucket,
        Key: key,
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
      partSize,
      createdAt: new Date().toISOString(),
    };
    await this.writeInfo(info);
    this.log.debug({ id: upload.id, partSize, size: upload.size }, 'upload created');
    this.rememberFresh({
      info,
      progress: { offset: 0, parts: [], liveSegments: [], staleSegments: [] },
      loadedAt: Date.now(),
    });
    upload.creation_date = info.createdAt;
    upload.storage = { type: 's3', path: key, bucket: this.bucket };
    return upload;
  }

  override async getUpload(id: string): Promise<Upload> {
    const state = await this.loadState(id);
    this.rememberFresh(state);
    return this.toUpload(state);
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
        if ((chunk as Buffer).length > 0) throw ERRORS.ERR_SIZE_EXCEEDED;
      }
      return info.size ?? 0;
    }
    if (offset !== progress.offset) throw ERRORS.INVALID_OFFSET;
    const written = await this.receive(readable, state);
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
    await this.segments.delete(await this.segments.list(id));
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

  // ---- reading state -------------------------------------------------------------------

  private async loadState(id: string): Promise<UploadState> {
    const info = await this.readInfo(id);
    if (info.completedAt !== undefined) {
      return { info, progress: completeProgress(info), loadedAt: Date.now() };
    }
    const [parts, segments] = await Promise.all([this.listParts(info), this.segments.list(id)]);
    if (parts === 'gone') return this.recoverVanishedUpload(info);
    const progress = deriveProgress(parts, segments, info.partSize, info.size);
    this.cacheParts(info.uploadId, progress.parts);
    const state = { info, progress, loadedAt: Date.now() };
    if (info.size !== undefined && progress.offset === info.size) {
      // Every byte is durable but completion did not happen (a crash, or a length declared
      // after the bytes): finish now so HEAD never reports a full offset for a missing object.
      await this.finish(info, progress);
      return {
        info: { ...info, completedAt: new Date().toISOString() },
        progress,
        loadedAt: Date.now(),
      };
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
      // handlers' expiration checks.
      creation_date: info.completedAt === undefined ? info.createdAt : undefined,
      storage: { type: 's3', path: objectKey(this.prefix, info.id), bucket: this.bucket },
    });
  }

  // ---- writing -------------------------------------------------------------------------

  /**
   * Cuts the body at absolute part boundaries. Whole parts go out as UploadPart while the
   * next is received; the rest is staged as a segment. Returns the progress once every
   * received byte is durable.
   */
  private async receive(readable: Readable, state: UploadState): Promise<Progress> {
    const { info, progress } = state;
    const { partSize } = info;
    const limit = info.size ?? capacityOf(partSize);
    const pipeline = new PartPipeline(this.queueSize);
    const parts = [...progress.parts];
    // Segments of the part being filled, staged by earlier requests.
    let carried = progress.liveSegments;
    let start = progress.offset; // absolute offset of buf[0]
    let buf: Buffer | undefined;
    let fill = 0;

    const flush = async (): Promise<void> => {
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
      const inFlight = body === own ? filled : undefined;
      start += fill;
      fill = 0;
      buf = undefined;
      await pipeline.add(async () => {
        try {
          parts.push(await this.uploadPart(info, partNumber, body));
        } finally {
          if (inFlight) this.release(inFlight);
        }
        if (segs.length > 0) await this.deleteQuietly(segs);
      });
    };

    let streamError: unknown;
    try {
      for await (const chunk of readable as AsyncIterable<Buffer>) {
        let pos = 0;
        while (pos < chunk.length) {
          if (start + fill >= limit) throw ERRORS.ERR_SIZE_EXCEEDED;
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

    const end = start + fill;
    if (fill > 0 && !pipeline.failed) {
      if (info.size !== undefined && end === info.size) {
        await flush();
      } else {
        const seg = await this.segments.put(info.id, start, (buf as Buffer).subarray(0, fill));
        this.release(buf as Buffer);
        this.metrics.segmentsWritten++;
        this.metrics.segmentBytesWritten += seg.size;
        carried = [...carried, seg];
      }
    }
    await pipeline.drain();
    if (streamError !== undefined) throw streamError;
    parts.sort((a, b) => a.partNumber - b.partNumber);
    return { offset: end, parts, liveSegments: carried, staleSegments: progress.staleSegments };
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
   * object's length, then marks the info complete and clears staging.
   */
  private async finish(info: UploadInfo, progress: Progress): Promise<void> {
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
    await this.writeInfo({ ...info, completedAt: new Date().toISOString() });
    this.metrics.completed++;
    this.partCache.delete(info.uploadId);
    await this.deleteQuietly(await this.segments.list(info.id));
    this.log.debug({ id: info.id, size, parts: parts.length }, 'upload completed');
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

function completeProgress(info: UploadInfo): Progress {
  return { offset: info.size ?? 0, parts: [], liveSegments: [], staleSegments: [] };
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
