// The proof of possession: SHA-256 over the nonce, then each challenged range in the
// challenge's order. The nonce comes first so nothing known about the file in advance
// (its digest included) helps compute it; a fresh nonce per challenge makes every answer
// new, so an answer seen once is worth nothing later.
import { createHash, timingSafeEqual } from 'node:crypto';
import { TusError } from '../errors.js';

export const PROOF_HEADER = 'upload-instant-proof';
export const PROOF_BYTES = 32;

/** SHA-256(nonce || range_1 || ... || range_K). */
export function computeProof(nonce: Uint8Array, ranges: Iterable<Uint8Array>): Buffer {
  const hash = createHash('sha256').update(nonce);
  for (const range of ranges) hash.update(range);
  return hash.digest();
}

// An RFC 8941 byte sequence holding exactly 32 bytes: 43 base64 digits and one pad.
const PROOF_VALUE = /^:([A-Za-z0-9+/]{43}=):$/;

/** The Upload-Instant-Proof value's 32 bytes; a 400 with a one-line reason when malformed. */
export function parseProofHeader(value: string): Buffer {
  const m = PROOF_VALUE.exec(value.trim());
  if (!m?.[1]) {
    throw new TusError(
      400,
      'Upload-Instant-Proof must be a byte sequence of 32 bytes (:<base64 of SHA-256>:)',
    );
  }
  return Buffer.from(m[1], 'base64');
}

/** Compares in constant time, so how much of a guess was right does not show. */
export function proofsMatch(expected: Uint8Array, received: Uint8Array): boolean {
  return expected.length === received.length && timingSafeEqual(expected, received);
}
