// The instant-upload challenge: a nonce and byte ranges the server picks at creation, sent
// as Upload-Instant-Challenge and kept with the upload until the proof consumes it. It is
// drawn without looking at the index, so it is the same kind of answer whether or not the
// tenant has the content (README: Instant upload (protocol)).
import { randomBytes, randomInt } from 'node:crypto';

export const CHALLENGE_HEADER = 'upload-instant-challenge';
export const NONCE_BYTES = 32;
/**
 * Ranges per challenge. A client missing a fraction m of the file passes with probability
 * about (1 - m)^16 (a quarter missing: about 1 %); each range costs one ranged GetObject,
 * read in parallel, inside the answer floor.
 */
export const RANGE_COUNT = 16;
/** Bytes per range (or the whole file when it is shorter). */
export const RANGE_LENGTH = 4096;
/** How long a challenge can be answered. */
export const CHALLENGE_TTL_MS = 10 * 60 * 1000;
// crypto.randomInt draws below max - min < 2^48; 5 TiB (S3's largest object) is below it.
const MAX_SIZE = 2 ** 48 - 1;

/** What the server keeps with the upload (its info record), as JSON. */
export interface StoredChallenge {
  version: 1;
  /** The nonce, base64. */
  nonce: string;
  /** Length of every range. */
  length: number;
  /** Where each range starts, ascending; the proof hashes them in this order. */
  offsets: number[];
  /** The whole-file digest the creation declared (hex) and its length: what the proof is for. */
  sha256: string;
  size: number;
  /** Epoch ms after which the proof no longer counts. */
  expiresAt: number;
}

export interface RandomSource {
  bytes(n: number): Uint8Array;
  /** An integer in [min, max), uniform. */
  int(min: number, max: number): number;
}

export const CRYPTO_RANDOM: RandomSource = {
  bytes: (n) => randomBytes(n),
  int: (min, max) => randomInt(min, max),
};

export interface ChallengeOptions {
  random?: RandomSource;
  count?: number;
  length?: number;
  ttlMs?: number;
}

/** A fresh challenge for an upload of `size` bytes (> 0) whose digest is `sha256` (hex). */
export function makeChallenge(
  sha256: string,
  size: number,
  now: number,
  opts: ChallengeOptions = {},
): StoredChallenge {
  if (!Number.isSafeInteger(size) || size <= 0 || size > MAX_SIZE) {
    throw new RangeError(`no challenge for an upload of ${size} bytes`);
  }
  const random = opts.random ?? CRYPTO_RANDOM;
  const length = Math.min(opts.length ?? RANGE_LENGTH, size);
  const count = opts.count ?? RANGE_COUNT;
  const offsets: number[] = [];
  for (let i = 0; i < count; i++) offsets.push(random.int(0, size - length + 1));
  offsets.sort((a, b) => a - b);
  return {
    version: 1,
    nonce: Buffer.from(random.bytes(NONCE_BYTES)).toString('base64'),
    length,
    offsets,
    sha256,
    size,
    expiresAt: now + (opts.ttlMs ?? CHALLENGE_TTL_MS),
  };
}

/**
 * The Upload-Instant-Challenge value, an RFC 8941 dictionary:
 * `nonce=:<base64>:, length=<L>, offsets=(<o1> <o2> ...)`. Range i is bytes
 * [o_i, o_i + L): a start and a length, not HTTP's inclusive first-last.
 */
export function challengeHeader(c: StoredChallenge): string {
  return `nonce=:${c.nonce}:, length=${c.length}, offsets=(${c.offsets.join(' ')})`;
}

export function isExpired(c: StoredChallenge, now: number): boolean {
  return now > c.expiresAt;
}

const HEX64 = /^[0-9a-f]{64}$/;
const NONCE_B64 = /^[A-Za-z0-9+/]{43}=$/;

/** A challenge read back from the info record, checked; undefined when it is not one. */
export function parseStoredChallenge(value: unknown): StoredChallenge | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const c = value as Partial<StoredChallenge>;
  const { length, size, offsets } = c;
  const ok =
    c.version === 1 &&
    typeof c.nonce === 'string' &&
    NONCE_B64.test(c.nonce) &&
    typeof c.sha256 === 'string' &&
    HEX64.test(c.sha256) &&
    isCount(size) &&
    size > 0 &&
    isCount(length) &&
    length > 0 &&
    length <= size &&
    Array.isArray(offsets) &&
    offsets.length > 0 &&
    offsets.every((o) => isCount(o) && o + length <= size) &&
    Number.isSafeInteger(c.expiresAt);
  return ok ? (c as StoredChallenge) : undefined;
}

function isCount(n: unknown): n is number {
  return Number.isSafeInteger(n) && (n as number) >= 0;
}
