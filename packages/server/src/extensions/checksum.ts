// tus checksum extension: the Upload-Checksum request header, the algorithms this server
// can compute while a body streams, and the answers the spec names (400 for a value we
// cannot check, 460 when the bytes do not match).
import { createHash, timingSafeEqual } from 'node:crypto';
import zlib from 'node:zlib';
import { TusError } from '../errors.js';
import { Crc32cDigester, loadCrc32c } from './crc32c.js';

/** Algorithms in the order OPTIONS lists them (Tus-Checksum-Algorithm). */
export const CHECKSUM_ALGORITHMS = ['sha1', 'md5', 'crc32', 'sha256', 'crc32c'] as const;
export type ChecksumAlgorithm = (typeof CHECKSUM_ALGORITHMS)[number];

export const CHECKSUM_MISMATCH_STATUS = 460;

const DIGEST_BYTES: Record<ChecksumAlgorithm, number> = {
  sha1: 20,
  md5: 16,
  crc32: 4,
  sha256: 32,
  crc32c: 4,
};

export interface ExpectedChecksum {
  algorithm: ChecksumAlgorithm;
  /** The digest the client computed over the request body. */
  digest: Buffer;
}

/** Hashes a body chunk by chunk, in arrival order. */
export interface Digester {
  update(chunk: Uint8Array): void;
  digest(): Buffer;
}

function isAlgorithm(name: string): name is ChecksumAlgorithm {
  return (CHECKSUM_ALGORITHMS as readonly string[]).includes(name);
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Parses `Upload-Checksum: <algorithm> <base64 digest>`. Throws TusError 400 for anything
 * the store cannot check (`supported`: what it verifies): the spec forbids accepting bytes
 * under a checksum it ignores.
 */
export function parseUploadChecksum(
  value: string,
  supported: readonly ChecksumAlgorithm[] = CHECKSUM_ALGORITHMS,
): ExpectedChecksum {
  const m = /^\s*(\S+) +(\S+)\s*$/.exec(value);
  if (!m) {
    throw new TusError(400, 'Upload-Checksum must be "<algorithm> <base64 digest>"');
  }
  const algorithm = (m[1] as string).toLowerCase();
  const encoded = m[2] as string;
  if (!isAlgorithm(algorithm) || !supported.includes(algorithm)) {
    throw new TusError(
      400,
      `Upload-Checksum algorithm "${m[1]}" is not supported (supported: ${supported.join(', ')})`,
    );
  }
  const digest = Buffer.from(encoded, 'base64');
  if (!BASE64.test(encoded) || digest.length !== DIGEST_BYTES[algorithm]) {
    throw new TusError(
      400,
      `Upload-Checksum ${algorithm} digest must be ${DIGEST_BYTES[algorithm]} bytes in base64`,
    );
  }
  return { algorithm, digest };
}

class CrcDigester implements Digester {
  private crc = 0;
  constructor(private readonly fn: (bytes: Uint8Array, crc: number) => number) {}
  update(chunk: Uint8Array): void {
    this.crc = this.fn(chunk, this.crc);
  }
  digest(): Buffer {
    const out = Buffer.alloc(4);
    out.writeUInt32BE(this.crc >>> 0);
    return out;
  }
}

/** Resolves once createDigester(algorithm) can run (crc32c's wasm is loaded on first use). */
export async function digesterReady(algorithm: ChecksumAlgorithm): Promise<void> {
  if (algorithm === 'crc32c') await loadCrc32c();
}

/** A running digest; for crc32c, only once digesterReady('crc32c') resolved. */
export function createDigester(algorithm: ChecksumAlgorithm): Digester {
  switch (algorithm) {
    case 'crc32':
      // zlib.crc32 exists from Node 20.15 (the project needs 20.19).
      return new CrcDigester((bytes, crc) => zlib.crc32(bytes, crc));
    case 'crc32c':
      return new Crc32cDigester();
    default: {
      const hash = createHash(algorithm);
      return { update: (chunk) => hash.update(chunk), digest: () => hash.digest() };
    }
  }
}

/** Throws the 460 answer unless `actual` is the digest the client declared. */
export function verifyChecksum(expected: ExpectedChecksum, actual: Buffer): void {
  if (actual.length === expected.digest.length && timingSafeEqual(actual, expected.digest)) {
    return;
  }
  throw new TusError(
    CHECKSUM_MISMATCH_STATUS,
    `Upload-Checksum mismatch: the body's ${expected.algorithm} is ${actual.toString('base64')}, ` +
      `not ${expected.digest.toString('base64')}; none of its bytes were kept`,
  );
}
