/**
 * Node-only hashers for Upload-Checksum: node:crypto (OpenSSL) and zlib's crc32, native
 * code and so several times faster than the plain-JS ones (figures: the client README,
 * Checksums). Imported only by Node-only modules.
 */
import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import type { ChecksumAlgorithm } from './algorithms.js';
import type { Hasher } from './types.js';

export function nodeHasher(algorithm: ChecksumAlgorithm): Hasher {
  if (algorithm === 'crc32') {
    let value = 0;
    return {
      update(data: Uint8Array) {
        value = crc32(data, value);
      },
      digest() {
        const out = new Uint8Array(4);
        new DataView(out.buffer).setUint32(0, value >>> 0);
        return out;
      },
    };
  }
  const h = createHash(algorithm);
  return {
    update(data: Uint8Array) {
      h.update(data);
    },
    digest() {
      return new Uint8Array(h.digest());
    },
  };
}
