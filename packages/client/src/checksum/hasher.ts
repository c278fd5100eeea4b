/**
 * Digests of request bodies for Upload-Checksum, without Node built-ins: SubtleCrypto
 * (native, one shot) for sha1/sha256 when the platform has it, plain JS otherwise and for
 * md5/crc32 (SubtleCrypto has neither). Sources that can do better (a Node file hashed with
 * node:crypto over ranged reads) implement UploadSource.digest instead.
 */

import type { ChecksumAlgorithm } from './algorithms.js';
import { Crc32 } from './crc32.js';
import { Md5 } from './md5.js';
import { Sha1 } from './sha1.js';
import { Sha256 } from './sha256.js';

export interface Hasher {
  update(data: Uint8Array): unknown;
  digest(): Uint8Array;
}

export function createHasher(algorithm: ChecksumAlgorithm): Hasher {
  switch (algorithm) {
    case 'sha256':
      return new Sha256();
    case 'sha1':
      return new Sha1();
    case 'md5':
      return new Md5();
    case 'crc32':
      return new Crc32();
  }
}

const SUBTLE_NAMES: Partial<Record<ChecksumAlgorithm, string>> = {
  sha256: 'SHA-256',
  sha1: 'SHA-1',
};

function subtle(): SubtleCrypto | null {
  const c = (globalThis as { crypto?: Crypto }).crypto;
  return typeof c?.subtle?.digest === 'function' ? c.subtle : null;
}

/** Digest of bytes held in memory. */
export async function digestBytes(
  algorithm: ChecksumAlgorithm,
  bytes: Uint8Array,
): Promise<Uint8Array> {
  const name = SUBTLE_NAMES[algorithm];
  const s = subtle();
  if (name && s) {
    // Native code: much faster than the plain-JS hashers (client README, Checksums).
    return new Uint8Array(await s.digest(name, bytes as Uint8Array<ArrayBuffer>));
  }
  const h = createHasher(algorithm);
  h.update(bytes);
  return h.digest();
}
