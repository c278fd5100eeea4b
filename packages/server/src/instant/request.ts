// What the instant-upload headers ask of a request, checked before any S3 work. Every
// refusal here depends only on the request's own headers, never on what is stored.
import { TusError } from '../errors.js';

export const INSTANT_HEADER = 'upload-instant';

/** Whether a creation asks for instant upload: `Upload-Instant: ?1` (RFC 8941 boolean). */
export function parseInstantHeader(value: string | undefined): boolean {
  if (value === undefined) return false;
  const v = value.trim();
  if (v === '?1') return true;
  if (v === '?0') return false;
  throw new TusError(400, 'Upload-Instant must be ?1 or ?0');
}

export interface InstantCreation {
  /** Upload-Length, or undefined when deferred. */
  length: number | undefined;
  /** Whether Repr-Digest declared a sha-256 digest. */
  hasDigest: boolean;
  /** Bytes the creation request carries (creation-with-upload). */
  bodyLength: number;
  /** Whether it has Upload-Concat. */
  concat: boolean;
}

/** Refuses an instant creation that could not be proven: 400 with the reason. */
export function checkInstantCreation(c: InstantCreation): void {
  if (c.length === undefined || c.length <= 0) {
    throw new TusError(400, 'Upload-Instant needs Upload-Length greater than 0');
  }
  if (!c.hasDigest) throw new TusError(400, 'Upload-Instant needs Repr-Digest with sha-256');
  if (c.bodyLength > 0) throw new TusError(400, 'Upload-Instant creation takes no body');
  if (c.concat) throw new TusError(400, 'Upload-Instant does not apply to Upload-Concat');
}

/** Refuses a proof PATCH that carries bytes: the proof replaces them. */
export function checkProofRequest(contentLength: number): void {
  if (contentLength !== 0) {
    throw new TusError(400, 'a PATCH with Upload-Instant-Proof takes no body (Content-Length: 0)');
  }
}
