// Object naming under the server's prefix. Every key this server writes is derived
// here, so the expiration sweep can tell its own objects from anything else.

import { randomBytes } from 'node:crypto';

export const INFO_SUFFIX = '.info';
const SEGMENT_INFIX = '.seg.';
const PENDING_INFIX = '.pend.';
const UNVERIFIED_INFIX = '.unv.';
const HASH_INFIX = '.sha.';
// Zero-padded so lexical listing order is offset order (5 TiB < 10^15).
const OFFSET_DIGITS = 15;
// A lock generation (fencing token) after a staged key's position; 10^16 > 2^53.
const GENERATION_DIGITS = 16;

/**
 * `.<generation>` for a holder of a fenced lock (locks/fence.ts); nothing for generation 0
 * (no shared locker), so those keys stay what they always were.
 */
function generationSuffix(generation: number): string {
  return generation > 0 ? `.${String(generation).padStart(GENERATION_DIGITS, '0')}` : '';
}

// What follows a segment's or a mark's infix: its position, then its generation if not 0.
const SEGMENT_TAIL = /^(\d{15})(?:\.(\d{16}))?$/;
const UNVERIFIED_TAIL = /^(\d{5})-(\d{5})(?:\.(\d{16}))?$/;
const HASH_TAIL = /^(\d{15})(?:\.(\d{16}))?\.([A-Za-z0-9_-]+)$/;

function generationOf(digits: string | undefined): number {
  return digits === undefined ? 0 : Number(digits);
}

export function objectKey(prefix: string, id: string): string {
  return `${prefix}${id}`;
}

export function infoKey(prefix: string, id: string): string {
  return `${prefix}${id}${INFO_SUFFIX}`;
}

export function segmentPrefix(prefix: string, id: string): string {
  return `${prefix}${id}${SEGMENT_INFIX}`;
}

/**
 * A segment staged at `offset` by the holder of lock generation `generation`: two holders
 * never write the same key, and the derivation prefers the newer at one offset.
 */
export function segmentKey(prefix: string, id: string, offset: number, generation: number): string {
  const at = String(offset).padStart(OFFSET_DIGITS, '0');
  return `${segmentPrefix(prefix, id)}${at}${generationSuffix(generation)}`;
}

/**
 * Prefix of the parts a checksummed request staged before its checksum was verified.
 * Nothing under it ever counts toward an upload's offset.
 */
export function pendingPrefix(prefix: string, id: string): string {
  return `${prefix}${id}${PENDING_INFIX}`;
}

/** `token` is unique per request, so a retry never writes over an older request's object. */
export function pendingKey(prefix: string, id: string, token: string, partNumber: number): string {
  return `${pendingPrefix(prefix, id)}${token}.${String(partNumber).padStart(5, '0')}`;
}

/**
 * A mark over parts [from, to] uploaded under an Upload-Checksum not verified yet: while
 * it exists, those parts never count toward the offset (see s3/staging/marks.ts).
 */
export function unverifiedKey(
  prefix: string,
  id: string,
  from: number,
  to: number,
  generation: number,
): string {
  const pad = (n: number) => String(n).padStart(5, '0');
  return `${prefix}${id}${UNVERIFIED_INFIX}${pad(from)}-${pad(to)}${generationSuffix(generation)}`;
}

/**
 * The upload's running SHA-256 state after `offset` bytes, for a PATCH that ended on a part
 * boundary (s3/digest/state.ts): the state itself is in the key, so the listing that derives
 * the offset reads it too.
 */
export function hashStateKey(
  prefix: string,
  id: string,
  offset: number,
  generation: number,
  state: Uint8Array,
): string {
  const at = String(offset).padStart(OFFSET_DIGITS, '0');
  const body = Buffer.from(state).toString('base64url');
  return `${prefix}${id}${HASH_INFIX}${at}${generationSuffix(generation)}.${body}`;
}

/** Everything staged for an upload (segments, pending parts, marks) shares this prefix. */
export function stagingPrefix(prefix: string, id: string): string {
  return `${prefix}${id}.`;
}

export type StagingKey =
  | { kind: 'segment'; offset: number; generation: number }
  | { kind: 'pending' }
  | { kind: 'hash'; offset: number; generation: number; state: Uint8Array }
  | { kind: 'unverified'; from: number; to: number; generation: number };

/** What a key under stagingPrefix is, or undefined (the info record, or not ours). */
export function parseStagingKey(prefix: string, id: string, key: string): StagingKey | undefined {
  const segment = parseSegmentKey(prefix, id, key);
  if (segment) return { kind: 'segment', ...segment };
  if (key.startsWith(pendingPrefix(prefix, id))) return { kind: 'pending' };
  const hashHead = `${prefix}${id}${HASH_INFIX}`;
  const h = key.startsWith(hashHead) ? HASH_TAIL.exec(key.slice(hashHead.length)) : null;
  if (h) {
    const state = new Uint8Array(Buffer.from(h[3] ?? '', 'base64url'));
    return { kind: 'hash', offset: Number(h[1]), generation: generationOf(h[2]), state };
  }
  const head = `${prefix}${id}${UNVERIFIED_INFIX}`;
  const m = key.startsWith(head) ? UNVERIFIED_TAIL.exec(key.slice(head.length)) : null;
  if (!m) return undefined;
  return {
    kind: 'unverified',
    from: Number(m[1]),
    to: Number(m[2]),
    generation: generationOf(m[3]),
  };
}

/** Offset and generation of a segment key, or undefined when the key is not one of ours. */
export function parseSegmentKey(
  prefix: string,
  id: string,
  key: string,
): { offset: number; generation: number } | undefined {
  const head = segmentPrefix(prefix, id);
  if (!key.startsWith(head)) return undefined;
  const m = SEGMENT_TAIL.exec(key.slice(head.length));
  return m ? { offset: Number(m[1]), generation: generationOf(m[2]) } : undefined;
}

/** Upload id of a staged object's key under `prefix`, or undefined when it is not one. */
export function idFromStagingKey(prefix: string, key: string): string | undefined {
  if (!key.startsWith(prefix)) return undefined;
  const dot = key.indexOf('.', prefix.length);
  const id = key.slice(prefix.length, dot);
  if (dot < 0 || !isValidId(id)) return undefined;
  return parseStagingKey(prefix, id, key) ? id : undefined;
}

/** Upload id of an info key under `prefix`, or undefined when it is not one. */
export function idFromInfoKey(prefix: string, key: string): string | undefined {
  if (!key.startsWith(prefix) || !key.endsWith(INFO_SUFFIX)) return undefined;
  const id = key.slice(prefix.length, -INFO_SUFFIX.length);
  return isValidId(id) ? id : undefined;
}

/**
 * A new upload id: 128 random bits in hex, as @tus/server makes them, or, for a creation whose
 * info may be folded into its object (s3/folded-info.ts), the same after an `s`, which no hex
 * id starts with. So a lookup knows where to look first, and a miss on any other id costs
 * what it did before folding: one GET of the .info.
 */
export function newUploadId(foldable: boolean): string {
  const id = randomBytes(16).toString('hex');
  return foldable ? `${FOLDABLE_MARK}${id}` : id;
}

const FOLDABLE_MARK = 's';
const FOLDABLE_ID = /^s[0-9a-f]{32}$/;

/** An id made for a creation whose info may be folded into its object. */
export function isFoldableId(id: string): boolean {
  return FOLDABLE_ID.test(id);
}

/** Ids are URL-safe and never contain a path separator or a dot (keys stay unambiguous). */
export function isValidId(id: string): boolean {
  return /^[A-Za-z0-9_-]{1,320}$/.test(id);
}

// Markers of unfinished uploads that have no multipart upload of their own (s3/open-marker.ts),
// in a folder of their own so the sweep lists them without listing every upload. Ids never
// start with a dot, so nothing here can be taken for an upload's key.
const OPEN_FOLDER = '.open/';

/** Where the open markers of the uploads under `prefix` live. */
export function openMarkerPrefix(prefix: string): string {
  return `${prefix}${OPEN_FOLDER}`;
}

export function openMarkerKey(prefix: string, id: string): string {
  return `${openMarkerPrefix(prefix)}${id}`;
}

/** Upload id of an open marker's key under `prefix`, or undefined when it is not one. */
export function idFromOpenMarkerKey(prefix: string, key: string): string | undefined {
  const head = openMarkerPrefix(prefix);
  if (!key.startsWith(head)) return undefined;
  const id = key.slice(head.length);
  return isValidId(id) ? id : undefined;
}

/** Upload id of an upload's object key under `prefix`, or undefined when it is not one. */
export function idFromObjectKey(prefix: string, key: string): string | undefined {
  if (!key.startsWith(prefix)) return undefined;
  const id = key.slice(prefix.length);
  return isValidId(id) ? id : undefined;
}

/** The key of sealed ids (s3/sealed/seal-key.ts); no id has a dot, so none is taken for it. */
export function sealKeyKey(prefix: string): string {
  return `${prefix}.seal-key`;
}

/** An empty object whose LastModified says when the last full sweep pass finished. */
export function fullSweepStampKey(prefix: string): string {
  return `${prefix}.sweep`;
}
