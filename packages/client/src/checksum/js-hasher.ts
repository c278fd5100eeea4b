/**
 * Pure-JS hashers for platforms without WebAssembly (React Native on Hermes): @noble/hashes
 * for sha256, sha1 and md5. CRC-32 there would need a hand-written table (@noble/hashes has
 * none, and the common pure-JS one ships CommonJS only), so crc32 is refused on such a
 * platform: 'auto' then goes without a checksum where the server offers only crc32, and an
 * upload that asked for crc32 by name fails before sending anything (client README).
 */
import { md5, sha1 } from '@noble/hashes/legacy.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { TusError } from '../errors.js';
import type { ChecksumAlgorithm } from './algorithms.js';
import type { Hasher } from './types.js';

export function jsHasher(algorithm: ChecksumAlgorithm): Hasher {
  if (algorithm === 'crc32') {
    throw new TusError('checksum crc32 needs WebAssembly here: choose sha256, sha1 or md5', {
      kind: 'unsupported',
    });
  }
  const h = { sha256, sha1, md5 }[algorithm].create();
  return {
    update(data: Uint8Array) {
      h.update(data);
    },
    digest: () => h.digest(),
  };
}
