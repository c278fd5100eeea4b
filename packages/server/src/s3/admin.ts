// What an operator sees and does outside any request (the CLI's `uploads` subcommands, or
// an app's own tooling): the unfinished uploads under a prefix as S3 says they are,
// aborting one, sweeping the expired. Everything goes through the store's own reading and
// removal, so an upload listed here is what a HEAD would find and an abort is a DELETE.
import type { S3Client } from '@aws-sdk/client-s3';
import type { Logger } from 'pino';
import { ERRORS } from '../errors.js';
import { UNFENCED } from '../locks/fence.js';
import { silentLogger } from '../log.js';
import type { StoreContext } from './context.js';
import { findCandidates } from './expiration/listings.js';
import { objectRecordsCompletion, type UploadInfo } from './info.js';
import { readInfo } from './info-io.js';
import { isValidId } from './keys.js';
import { newMetrics } from './metrics.js';
import { SealKeeper } from './sealed/seal-key.js';
import { recordCompletionIfWhole } from './state/object.js';
import { S3MultipartStore } from './store.js';

export interface UploadsAdminOptions {
  client: S3Client;
  bucket: string;
  prefix?: string;
  /** What `sweep` treats as expired, in ms (0: nothing expires). */
  expiration?: number;
  logger?: Logger;
}

/** One unfinished upload as S3 has it. */
export interface UnfinishedUpload {
  id: string;
  /** Who created it ('' when the info records no owner: an open server). */
  owner: string;
  /** Declared length; undefined while deferred. */
  size: number | undefined;
  /** The offset the store derives, which a HEAD would answer. */
  offset: number;
  /** Whole parts in S3 (offset / part size: the mapping is arithmetic). */
  parts: number;
  /** Bytes past the last whole part, staged as segments. */
  staged: number;
  partSize: number;
  createdAt: string;
  /** Milliseconds since creation, at the time of the listing. */
  ageMs: number;
}

export interface ListFilter {
  /** Only this owner's uploads. */
  owner?: string;
  /** Only uploads created longer ago than this, in ms. */
  olderThan?: number;
  /** The clock (tests). */
  now?: number;
}

export type AbortResult = 'aborted' | 'missing' | 'finished';

/**
 * The owner the info records. Read defensively: records written before owners existed,
 * or by an open server, have none.
 */
export function ownerOf(info: UploadInfo): string {
  const owner = (info as UploadInfo & { owner?: unknown }).owner;
  return typeof owner === 'string' ? owner : '';
}

// Uploads read at once: each is a few small requests.
const CONCURRENCY = 8;

export class UploadsAdmin {
  private readonly ctx: StoreContext;
  private readonly store: S3MultipartStore;

  constructor(opts: UploadsAdminOptions) {
    const { client, bucket } = opts;
    const prefix = opts.prefix ?? '';
    const log = opts.logger ?? silentLogger;
    this.store = new S3MultipartStore({
      client,
      bucket,
      prefix,
      expiration: opts.expiration ?? 0,
      logger: log,
    });
    // Only listings and info reads go through it: no part is written with it.
    this.ctx = {
      client,
      bucket,
      prefix,
      metrics: newMetrics(),
      partChecksum: 'md5',
      log,
      fence: UNFENCED,
      // A sealed id nothing was written for yet is an upload a client may still PATCH.
      seals: new SealKeeper({ client, bucket, prefix, log }, opts.expiration ?? 0),
    };
  }

  /**
   * The unfinished uploads: those the sweep's two listings name (a multipart upload, or an
   * open marker for uploads without one), oldest first. An id whose info is gone (an
   * orphan the sweep will collect) or which finished meanwhile is left out.
   */
  async list(filter: ListFilter = {}): Promise<UnfinishedUpload[]> {
    const now = filter.now ?? Date.now();
    // Old by the listings' dates: a cheap first cut; createdAt below decides.
    const found = await findCandidates(this.ctx, filter.olderThan ?? 0, now);
    const ids = [...found.keys()];
    const out: UnfinishedUpload[] = [];
    let next = 0;
    const worker = async () => {
      while (next < ids.length) {
        const one = await this.describe(ids[next++] as string, now);
        if (one && matches(one, filter)) out.push(one);
      }
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, ids.length) }, worker));
    return out.sort((a, b) => b.ageMs - a.ageMs || a.id.localeCompare(b.id));
  }

  /** Removes an unfinished upload as termination does (store.remove). */
  async abort(id: string): Promise<AbortResult> {
    if (!isValidId(id)) return 'missing';
    const info = await this.infoOrUndefined(id);
    if (!info) return 'missing';
    if (info.completedAt !== undefined) return 'finished';
    // A one-part upload's info need not say it finished: its whole object does (and the
    // info learns it here, as on any first look). Removing it would delete a finished file.
    if (objectRecordsCompletion(info) && (await recordCompletionIfWhole(this.ctx, info))) {
      return 'finished';
    }
    try {
      await this.store.remove(id);
    } catch (err) {
      if (err === ERRORS.FILE_NOT_FOUND) return 'missing';
      throw err;
    }
    return 'aborted';
  }

  /** One run of the store's expiration sweep; how many uploads went. */
  sweep(): Promise<number> {
    return this.store.deleteExpired();
  }

  private async describe(id: string, now: number): Promise<UnfinishedUpload | undefined> {
    const info = await this.infoOrUndefined(id);
    if (!info || info.completedAt !== undefined) return undefined;
    let offset: number;
    try {
      // Outside any request: the state is derived from S3 as for a fresh instance.
      ({ offset = 0 } = await this.store.getUpload(id));
    } catch (err) {
      if (err === ERRORS.FILE_NOT_FOUND) return undefined;
      throw err;
    }
    const parts = Math.floor(offset / info.partSize);
    return {
      id,
      owner: ownerOf(info),
      size: info.size,
      offset,
      parts,
      staged: offset - parts * info.partSize,
      partSize: info.partSize,
      createdAt: info.createdAt,
      ageMs: Math.max(0, now - Date.parse(info.createdAt)),
    };
  }

  private async infoOrUndefined(id: string): Promise<UploadInfo | undefined> {
    try {
      return await readInfo(this.ctx, id);
    } catch (err) {
      if (err === ERRORS.FILE_NOT_FOUND) return undefined;
      throw err;
    }
  }
}

function matches(u: UnfinishedUpload, filter: ListFilter): boolean {
  if (filter.owner !== undefined && u.owner !== filter.owner) return false;
  return filter.olderThan === undefined || u.ageMs > filter.olderThan;
}
