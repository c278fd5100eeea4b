// What one PATCH may do, decided from the upload and the request's facts before its first
// byte: how far its body may go, which part its mark must reach, whether its parts stream.
import type { ExpectedChecksum } from '../../extensions/checksum.js';
import type { Fence } from '../../locks/fence.js';
import type { UploadInfo } from '../info.js';
import { capacityOf, partNumberAt } from '../parts/arithmetic.js';
import type { PartChecksum } from '../parts/part-checksum.js';
import { multipartTarget } from '../parts/target.js';

/** What the caller knows of the request: the receiver reads no request context. */
export interface PatchFacts {
  checksum?: ExpectedChecksum;
  /** The request's declared Content-Length, when it had one. */
  declaredLength?: number;
  /** The server's maximum upload size. */
  maxSize?: number;
  /** The request's lock on the upload: every S3 write of the request goes through it (absent: UNFENCED). */
  fence?: Fence;
}

export interface PatchPlan {
  /** The absolute offset the body may not reach past. */
  limit: number;
  declaredLength: number | undefined;
  /** The absolute offset this request can reach. */
  reach: number;
  /** The last part this request can reach: what its mark must cover. */
  lastPart: number;
  /** Under a checksum, with a deferred length: parts wait as pending objects, not under a mark. */
  viaPending: boolean;
  /**
   * Parts may stream to S3 as they fill (s3/parts/streamed.ts). Under an Upload-Checksum,
   * only those of a request that puts a mark anyway (`marked`).
   */
  canStream: boolean;
  /**
   * Under an Upload-Checksum, a known-length request declared to reach past its first part:
   * its parts go into the upload under a mark before the match whatever they do, so they may
   * as well stream (the mark goes first). A request within one part holds its part instead
   * and needs no mark (s3/patch/verify.ts).
   */
  marked: boolean;
  /** A part over the whole part memory may stream early (s3/parts/streamed.ts). */
  canStreamEarly: boolean;
}

export function planPatch(
  info: UploadInfo,
  offset: number,
  facts: PatchFacts,
  store: { prefix: string; partChecksum: PartChecksum },
): PatchPlan {
  const { partSize } = info;
  const { checksum, declaredLength } = facts;
  // A deferred length is bounded by the server's maximum size (as @tus/server's own
  // StreamLimiter would bound it), by what the part size can address and by the length
  // announced for it (s3/announced-length.ts).
  const limit =
    info.size ??
    Math.min(
      capacityOf(partSize),
      facts.maxSize ?? Number.POSITIVE_INFINITY,
      info.announcedLength ?? Number.POSITIVE_INFINITY,
    );
  const reach = Math.min(limit, declaredLength === undefined ? limit : offset + declaredLength);
  const lastPart = partNumberAt(Math.max(reach - 1, offset), partSize);
  const viaPending = checksum !== undefined && info.size === undefined;
  const marked =
    checksum !== undefined &&
    !viaPending &&
    declaredLength !== undefined &&
    lastPart > partNumberAt(offset, partSize);
  return {
    limit,
    declaredLength,
    reach,
    lastPart,
    viaPending,
    marked,
    canStream:
      (!checksum || marked) &&
      store.partChecksum === 'none' &&
      multipartTarget(store.prefix, info) !== undefined,
    canStreamEarly: !checksum && multipartTarget(store.prefix, info) !== undefined,
  };
}

/**
 * Whether the part of `size` bytes from `start` streams: a part this request brings whole,
 * with nothing staged before it, is in flight from its first byte.
 */
export function partStreams(
  plan: PatchPlan,
  start: number,
  size: number,
  carriedSegments: number,
): boolean {
  const whole = plan.declaredLength !== undefined && start + size <= plan.reach;
  return plan.canStream && whole && carriedSegments === 0;
}

/**
 * Whether a part larger than the whole part memory streams early: only a request that brings
 * the rest of the part whole can send it (S3 needs its length first); staged segments of it
 * go out ahead of the body's bytes.
 */
export function partStreamsEarly(plan: PatchPlan, start: number, size: number): boolean {
  const whole = plan.declaredLength !== undefined && start + size <= plan.reach;
  return plan.canStreamEarly && whole;
}
