// The upload's info record: everything about an upload that S3 cannot tell us by
// itself, stored as JSON next to the object it describes.
import { parseStoredChallenge, type StoredChallenge } from '../instant/challenge.js';

export interface UploadInfo {
  version: 1;
  id: string;
  /** Declared length; absent while the length is deferred. */
  size?: number;
  /**
   * While the length is deferred: the length an IETF draft client announced without
   * completing (s3/announced-length.ts). The upload may not pass it, and its length can
   * only be declared as it.
   */
  announcedLength?: number;
  /** Upload-Metadata exactly as the client sent it (values UTF-8, null for key-only). */
  metadata?: Record<string, string | null>;
  /**
   * S3 multipart upload id. Absent for an upload of known size that fits in one part: its
   * object is written whole by one PutObject when the last byte arrives (two S3 requests
   * for a small file instead of ten: see `objectRecordsCompletion`).
   */
  uploadId?: string;
  /** Fixed at creation: every part but the last has exactly this size. */
  partSize: number;
  /** ISO 8601 creation time; expiration counts from it. */
  createdAt: string;
  /**
   * Set once CompleteMultipartUpload succeeded and the object was verified; for an upload
   * whose object records its completion, by the first look after it (s3/state/load.ts).
   */
  completedAt?: string;
  /** Role in the concatenation extension; absent for an ordinary upload. */
  concat?: ConcatInfo;
  /**
   * Who created it (the authenticate hook's owner) and the tenant its quotas count
   * against; both absent for an upload created on an open server, which stays open.
   */
  owner?: string;
  tenant?: string;
  /** The whole-file SHA-256 (s3/digest/): declared, and once complete, verified. */
  digest?: DigestInfo;
  /**
   * The instant-upload challenge of a creation with `Upload-Instant: ?1`, until a proof
   * consumes it (s3/instant/): single use, so it leaves the record before any lookup.
   */
  instant?: StoredChallenge;
  /**
   * A tombstone: the upload of a sealed id (s3/sealed/seal.ts) was terminated. The id
   * still opens, so this record says it is gone, until it expires with the id.
   */
  terminated?: true;
}

/** Hex SHA-256s of the whole file (see the server README, "Whole-file digest"). */
export interface DigestInfo {
  /** What the client declared (Repr-Digest); the upload completes only if it matches. */
  declared?: string;
  /** Declared at creation: the object's metadata (CreateMultipartUpload) carries it. */
  onObject?: boolean;
  /** Computed over every byte, set when the upload completes. */
  sha256?: string;
  /**
   * The S3 multipart upload verifies a full-object CRC64NVME (the store's
   * `fullObjectChecksum`, s3/digest/full-object-crc.ts): the hash state carries the CRC too.
   */
  fullObjectCrc?: boolean;
  /** That CRC (base64), computed over every byte, set with `sha256`. */
  crc64nvme?: string;
}

/**
 * Whether the server keeps a running SHA-256 of this upload: it was created with a declared
 * digest or under `digest: 'sha256'`, or declared one on its first PATCH.
 */
export function hashesUpload(info: UploadInfo): boolean {
  return info.digest !== undefined;
}

/**
 * A partial upload is an ordinary resumable upload that a final one may consume. A final
 * upload is built server-side from its partials (in order, with their sizes as they were
 * when it was created); `partialsRemoved` is set once their objects and infos are gone.
 *
 * A `direct` final was created before its partials had any bytes (concatenation-unfinished,
 * s3/concat/direct-final.ts): each partial is `adopted` and writes its parts straight into the
 * final's multipart upload, from part `firstPart` on, so the final is only completed,
 * never copied. An adopted partial has no multipart upload (nor object) of its own.
 *
 * A `waiting` final was created while some of its partials were unfinished, and not as a
 * direct one (s3/concat/waiting-final.ts): each partial records it as `awaitedBy`, and the
 * final is built by copy, like any other, once the last of them finishes.
 */
export type ConcatInfo =
  | { role: 'partial'; adopted?: Adoption; awaitedBy?: string }
  | {
      role: 'final';
      partials: Array<{ id: string; size: number }>;
      partialsRemoved?: boolean;
      direct?: boolean;
      waiting?: boolean;
      /**
       * A waiting final whose partials, once all finished, did not match its declared
       * Repr-Digest (s3/concat/failed-final.ts): never built again, nothing at its key,
       * its looks answer 460. `partialsReleased` once its partials no longer name it.
       */
      digestFailed?: boolean;
      partialsReleased?: boolean;
    };

/** Where an adopted partial's parts go: the final's multipart upload, shifted. */
export interface Adoption {
  /** The final upload's id (its object key and info). */
  finalId: string;
  /** The final's multipart upload. */
  uploadId: string;
  /** The final's part number of this partial's part 1. */
  firstPart: number;
}

/** The final that adopted this partial, if any. */
export function adoptionOf(info: UploadInfo): Adoption | undefined {
  return info.concat?.role === 'partial' ? info.concat.adopted : undefined;
}

/**
 * A one-part upload outside any concatenation exists as an object only once all of its
 * bytes are there (one PutObject writes it whole), so the object records its completion
 * and the info is not rewritten when it completes: one S3 request less per small file.
 * The first look at it from anywhere else (s3/state/load.ts), or the expiration sweep, finds
 * the object and writes `completedAt` then. Partials keep the rewrite: a final reads their
 * infos to know they are done.
 */
export function objectRecordsCompletion(info: UploadInfo): boolean {
  return info.uploadId === undefined && info.concat === undefined;
}

/** The unfinished final this partial belongs to (adopted by, or awaited by), if any. */
export function finalOfPartial(info: UploadInfo): string | undefined {
  if (info.concat?.role !== 'partial') return undefined;
  return info.concat.adopted?.finalId ?? info.concat.awaitedBy;
}

/** A waiting final (s3/concat/waiting-final.ts) not complete yet, nor failed its digest. */
export function isUnfinishedWaiting(info: UploadInfo): boolean {
  return (
    info.concat?.role === 'final' &&
    info.concat.waiting === true &&
    info.completedAt === undefined &&
    !info.concat.digestFailed
  );
}

/** A waiting final that failed its declared digest (s3/concat/failed-final.ts). */
export function failedDigestFinal(info: UploadInfo): boolean {
  return info.concat?.role === 'final' && info.concat.digestFailed === true;
}

/** A final whose partials live and die with it until it completes (direct or waiting). */
export function isUnfinishedGroup(info: UploadInfo): boolean {
  return isUnfinishedDirect(info) || isUnfinishedWaiting(info);
}

/** A direct final (s3/concat/direct-final.ts) not complete yet. */
export function isUnfinishedDirect(info: UploadInfo): boolean {
  return (
    info.concat?.role === 'final' && info.concat.direct === true && info.completedAt === undefined
  );
}

/** The multipart upload id of an upload that must have one (finals, deferred lengths). */
export function multipartId(info: UploadInfo): string {
  if (!info.uploadId) throw new Error(`upload ${info.id} has no multipart upload`);
  return info.uploadId;
}

/** Whether an upload of this size, at this part size, is written whole by one PutObject. */
export function fitsOnePart(size: number | undefined, partSize: number): boolean {
  return size !== undefined && size <= partSize;
}

function isNonNegativeInteger(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/** Parses and validates an info record; throws on anything that is not one. */
export function parseInfo(text: string): UploadInfo {
  const raw: unknown = JSON.parse(text);
  if (typeof raw !== 'object' || raw === null) throw new Error('info record is not an object');
  const r = raw as Record<string, unknown>;
  const fail = (what: string): never => {
    throw new Error(`info record has an invalid ${what}`);
  };
  if (r.version !== 1) fail('version');
  if (typeof r.id !== 'string' || r.id === '') fail('id');
  if (r.size !== undefined && !isNonNegativeInteger(r.size)) fail('size');
  if (r.announcedLength !== undefined && !isNonNegativeInteger(r.announcedLength)) {
    fail('announcedLength');
  }
  if (r.uploadId !== undefined && (typeof r.uploadId !== 'string' || r.uploadId === '')) {
    fail('uploadId');
  }
  if (!isNonNegativeInteger(r.partSize) || r.partSize === 0) fail('partSize');
  if (typeof r.createdAt !== 'string' || Number.isNaN(Date.parse(r.createdAt))) fail('createdAt');
  if (r.completedAt !== undefined && typeof r.completedAt !== 'string') fail('completedAt');
  if (r.concat !== undefined) validateConcat(r.concat, fail);
  if (r.owner !== undefined && (typeof r.owner !== 'string' || r.owner === '')) fail('owner');
  if (r.tenant !== undefined && (typeof r.tenant !== 'string' || r.tenant === '')) fail('tenant');
  if (r.digest !== undefined) validateDigest(r.digest, fail);
  if (r.instant !== undefined && parseStoredChallenge(r.instant) === undefined) fail('challenge');
  if (r.terminated !== undefined && r.terminated !== true) fail('terminated');
  if (r.metadata !== undefined) {
    if (typeof r.metadata !== 'object' || r.metadata === null) fail('metadata');
    for (const v of Object.values(r.metadata as object)) {
      if (v !== null && typeof v !== 'string') fail('metadata value');
    }
  }
  return raw as UploadInfo;
}

const HEX256 = /^[0-9a-f]{64}$/;

function validateDigest(d: unknown, fail: (what: string) => never): void {
  if (typeof d !== 'object' || d === null) fail('digest');
  const r = d as Record<string, unknown>;
  for (const k of ['declared', 'sha256'] as const) {
    if (r[k] !== undefined && (typeof r[k] !== 'string' || !HEX256.test(r[k]))) fail('digest');
  }
  if (r.onObject !== undefined && typeof r.onObject !== 'boolean') fail('digest');
  if (r.fullObjectCrc !== undefined && typeof r.fullObjectCrc !== 'boolean') fail('digest');
  if (r.crc64nvme !== undefined && (typeof r.crc64nvme !== 'string' || !CRC64.test(r.crc64nvme))) {
    fail('digest');
  }
}

/** A CRC64NVME in base64: 8 bytes. */
const CRC64 = /^[A-Za-z0-9+/]{11}=$/;

function validateConcat(c: unknown, fail: (what: string) => never): void {
  if (typeof c !== 'object' || c === null) fail('concat');
  const r = c as Record<string, unknown>;
  if (r.role === 'partial') {
    if (r.adopted !== undefined) validateAdoption(r.adopted, fail);
    if (r.awaitedBy !== undefined && (typeof r.awaitedBy !== 'string' || r.awaitedBy === '')) {
      fail('concat');
    }
    return;
  }
  if (r.role !== 'final' || !Array.isArray(r.partials)) fail('concat');
  for (const p of r.partials as unknown[]) {
    const part = p as Record<string, unknown> | null;
    if (typeof part?.id !== 'string' || !isNonNegativeInteger(part.size)) fail('concat partial');
  }
  if (r.partialsRemoved !== undefined && typeof r.partialsRemoved !== 'boolean') fail('concat');
  if (r.direct !== undefined && typeof r.direct !== 'boolean') fail('concat');
  if (r.waiting !== undefined && typeof r.waiting !== 'boolean') fail('concat');
  if (r.digestFailed !== undefined && typeof r.digestFailed !== 'boolean') fail('concat');
  if (r.partialsReleased !== undefined && typeof r.partialsReleased !== 'boolean') fail('concat');
}

function validateAdoption(a: unknown, fail: (what: string) => never): void {
  const r = (typeof a === 'object' && a !== null ? a : {}) as Record<string, unknown>;
  if (typeof r.finalId !== 'string' || r.finalId === '') fail('adoption');
  if (typeof r.uploadId !== 'string' || r.uploadId === '') fail('adoption');
  if (!isNonNegativeInteger(r.firstPart) || r.firstPart === 0) fail('adoption');
}

export function serializeInfo(info: UploadInfo): string {
  return JSON.stringify(info);
}

/**
 * Unfinished uploads expire; so do finished partials, which only a final upload gives a
 * purpose (without it they would stay forever).
 */
export function isExpired(info: UploadInfo, expirationMs: number, now = Date.now()): boolean {
  return (
    expirationMs > 0 &&
    (info.completedAt === undefined || info.concat?.role === 'partial') &&
    Date.parse(info.createdAt) + expirationMs < now
  );
}
