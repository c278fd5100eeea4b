// Request-scoped facts shared by the layer in front of @tus/server (front/handler.ts) and the
// store behind it. @tus/server hands the store only (stream, id, offset), so what the
// store must know about the request (its Upload-Checksum, its Upload-Concat, its lock
// generations) and what the response must tell about the upload (its part size, its
// concat role) travel here. Only the front and the store's entry points (s3/store.ts)
// read or write it; the modules behind them get facts as arguments and hand facts back.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Principal } from '../auth/principal.js';
import type { DirectBody } from '../body/direct-body.js';
import type { ExpectedChecksum } from '../extensions/checksum.js';
import type { ConcatRequest } from '../extensions/concatenation.js';
import type { Fence } from '../locks/fence.js';

/** How long to wait for a lock, and what the 423 says if it stays taken. */
export interface LockWait {
  /** At most this long (ms); else the locker's own acquisition timeout. */
  ms?: number;
  /** The 423's reason. */
  busy?: string;
}

export interface RequestContext {
  /** URL path the uploads are served under for this request (the mount path). */
  baseUrl: string;
  method: string;
  /** Who the request acts for (the authenticate hook); absent on an open server. */
  principal?: Principal;
  /** Declared Content-Length of the request body, when there is one. */
  contentLength?: number;
  /** The body is upload bytes (Content-Type: application/offset+octet-stream). */
  offsetBody?: boolean;
  /** The Upload-Offset a PATCH claims, when well-formed. */
  uploadOffset?: number;
  /** Parsed Upload-Checksum: the store must verify the body against it before keeping it. */
  checksum?: ExpectedChecksum;
  /** The SHA-256 (hex) a Repr-Digest declares for the whole upload (s3/digest/). */
  reprDigest?: string;
  /**
   * The length an IETF draft request announced without completing the upload (front/draft/):
   * its tus length stays deferred, and the store records this as its maximum.
   */
  announcedLength?: number;
  /** Parsed Upload-Concat of a creation request. */
  concat?: ConcatRequest;
  /** A creation asked for instant upload (`Upload-Instant: ?1`), its headers checked. */
  instant?: boolean;
  /**
   * A PATCH's Upload-Instant-Proof (32 bytes), and when it arrived (performance.now()):
   * the answer is held to the floor from then (instant/answer-floor.ts).
   */
  instantProof?: { proof: Uint8Array; receivedAt: number };
  /** The request body for a store that reads it itself (body/direct-body.ts). */
  body?: DirectBody;
  /**
   * The generation of each upload lock this request took from a locker shared by several
   * instances (RedisLocker): every acquisition of an upload's lock, anywhere, counts one up.
   */
  lockGenerations?: Map<string, number>;
  /** What ties the store's S3 writes for each of those uploads to its lock (locks/fence.ts). */
  fences?: Map<string, Fence>;
  /**
   * Takes @tus/server's locks of other uploads than the request's own (in one global order)
   * until the returned release; TusError 423 when one stays taken.
   */
  lockUploads?: (ids: readonly string[], wait?: LockWait) => Promise<() => Promise<void>>;
  /**
   * Uploads whose tus lock this request holds now: the one @tus/server locked for a HEAD,
   * PATCH or DELETE, and finals the store locked on the way (s3/concat/final-lock.ts). A
   * lock is not reentrant: what is held here is not taken again.
   */
  holds?: Set<string>;
  /** Filled by the store for the response headers. */
  reply: {
    /** The upload's S3 part size (Tus-S3-Part-Size). */
    partSize?: number;
    /** The upload's concat role (Upload-Concat). */
    concat?: ConcatRequest;
    /** The length announced for a deferred upload (Tus-S3-Announced-Length). */
    announcedLength?: number;
    /** The upload is a final not complete yet: HEAD answers no Upload-Offset (tus spec). */
    unfinishedFinal?: boolean;
    /** A final upload this request completed (not its own upload: a direct final's). */
    finishedFinal?: string;
    /** Seconds the failure answered asks the client to wait (Retry-After). */
    retryAfter?: number;
    /** A finished upload's verified SHA-256 (hex): HEAD answers it as Repr-Digest. */
    digest?: string;
    /** The Upload-Instant-Challenge of an upload this creation made for instant upload. */
    instantChallenge?: string;
    /** The upload created by this request, once the store has created it. */
    created?: { id: string; size?: number };
  };
}

export const requestContext = new AsyncLocalStorage<RequestContext>();

export function currentRequest(): RequestContext | undefined {
  return requestContext.getStore();
}

/**
 * Records that the current request took `id`'s shared lock as its `generation`-th holder
 * (an AcquisitionListener of locks/redis-locker.ts, which the front registers).
 */
export function noteLockGeneration(id: string, generation: number, fence: Fence): void {
  const request = currentRequest();
  if (!request) return;
  request.lockGenerations ??= new Map();
  request.lockGenerations.set(id, generation);
  request.fences ??= new Map();
  request.fences.set(id, fence);
}
