// An Upload-Checksum as the front layer parses it (extensions/checksum.ts), over `bytes`.
import { createHash } from 'node:crypto';
import type { ChecksumAlgorithm, ExpectedChecksum } from '../../src/extensions/checksum.js';

export function checksumOf(
  algorithm: ChecksumAlgorithm & ('sha1' | 'md5' | 'sha256'),
  bytes: Buffer,
): ExpectedChecksum {
  return { algorithm, digest: createHash(algorithm).update(bytes).digest() };
}
