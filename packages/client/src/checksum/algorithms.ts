/**
 * Upload-Checksum (tus checksum extension): which algorithm to use, and the header value.
 * Pure: the upload asks, this module answers.
 */
import { TusError } from '../errors.js';
import { base64Encode } from '../protocol/metadata.js';

export type ChecksumAlgorithm = 'sha256' | 'sha1' | 'md5' | 'crc32';

/** 'auto' (default): sha256 (or the best we share) when the server advertises `checksum`. */
export type ChecksumOption = ChecksumAlgorithm | 'auto' | false;

export const CHECKSUM_ALGORITHMS: readonly ChecksumAlgorithm[] = ['sha256', 'sha1', 'md5', 'crc32'];

export function isChecksumAlgorithm(x: unknown): x is ChecksumAlgorithm {
  return typeof x === 'string' && (CHECKSUM_ALGORITHMS as readonly string[]).includes(x);
}

/** What OPTIONS told about checksums. `known` is false when OPTIONS gave no answer. */
export interface ChecksumCaps {
  known: boolean;
  extension: boolean;
  /** Lower-cased names from Tus-Checksum-Algorithm; null when the header was absent. */
  algorithms: string[] | null;
}

/** "sha1,md5, SHA256" -> ['sha1', 'md5', 'sha256']. */
export function parseAlgorithmList(header: string | null): string[] | null {
  if (header === null) return null;
  return header
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== '');
}

/**
 * The algorithm for this upload, or null for none. 'auto' picks sha256 when the server
 * advertises it (else the strongest other one we share), and nothing when the server has
 * no checksum extension. An explicit algorithm the server says it lacks is an error: the
 * caller asked for integrity, and a server that ignores the header would not check it.
 */
export function chooseChecksum(
  option: ChecksumOption,
  caps: ChecksumCaps,
): ChecksumAlgorithm | null {
  if (option === false) return null;
  if (option === 'auto') {
    if (!caps.extension) return null;
    if (caps.algorithms === null) return 'sha256';
    return CHECKSUM_ALGORITHMS.find((a) => caps.algorithms!.includes(a)) ?? null;
  }
  if (!isChecksumAlgorithm(option)) {
    throw new TypeError(
      `checksum: unknown algorithm ${String(option)} (${CHECKSUM_ALGORITHMS.join(', ')})`,
    );
  }
  // OPTIONS unanswered (some proxies refuse it): send it; the server has the last word.
  if (!caps.known) return option;
  if (!caps.extension) {
    throw new TusError(
      `checksum ${option} requested but the server does not advertise the checksum extension`,
      { kind: 'unsupported' },
    );
  }
  if (caps.algorithms !== null && !caps.algorithms.includes(option)) {
    throw new TusError(
      `checksum ${option} requested but the server supports only: ${caps.algorithms.join(', ') || 'none'}`,
      { kind: 'unsupported' },
    );
  }
  return option;
}

/** `Upload-Checksum` value: "<algorithm> <base64 of the raw digest>". */
export function checksumHeader(algorithm: ChecksumAlgorithm, digest: Uint8Array): string {
  return `${algorithm} ${base64Encode(digest)}`;
}
