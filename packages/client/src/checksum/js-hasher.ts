/**
 * Pure-JS hashers for platforms without WebAssembly (React Native on Hermes): @noble/hashes
 * for sha256, sha1 and md5. @noble/hashes has no CRC-32 and no maintained pure-JS CRC-32
 * is a dependency, so crc32 falls back to the small table-driven one in crc32.ts.
 */
import { md5, sha1 } from '@noble/hashes/legacy.js';
import { sha256 } from '@noble/hashes/sha2.js';
import type { ChecksumAlgorithm } from './algorithms.js';
import { Crc32 } from './crc32.js';
import type { Hasher } from './types.js';

export function jsHasher(algorithm: ChecksumAlgorithm): Hasher {
  if (algorithm === 'crc32') return new Crc32();
  const h = { sha256, sha1, md5 }[algorithm].create();
  return {
    update(data: Uint8Array) {
      h.update(data);
    },
    digest: () => h.digest(),
  };
}
