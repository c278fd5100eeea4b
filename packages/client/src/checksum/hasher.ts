/**
 * Digests of request bodies for Upload-Checksum and the whole-file digest, without Node
 * built-ins: hash-wasm where WebAssembly exists, @noble/hashes where it does not (React
 * Native on Hermes). One-shot sha1/sha256 use SubtleCrypto where the platform has it:
 * native, and faster than hash-wasm in Chromium (client README, Checksums). Sources that
 * can do better (a Node file hashed with node:crypto over ranged reads) implement
 * UploadSource.digester instead.
 */
import type { ChecksumAlgorithm } from './algorithms.js';
import { jsHasher } from './js-hasher.js';
import type { Hasher } from './types.js';
import { wasmDigest, wasmHasher } from './wasm-hasher.js';

export type { Hasher } from './types.js';

export function hasWebAssembly(): boolean {
  return typeof WebAssembly !== 'undefined' && typeof WebAssembly.instantiate === 'function';
}

export async function createHasher(algorithm: ChecksumAlgorithm): Promise<Hasher> {
  return hasWebAssembly() ? wasmHasher(algorithm) : jsHasher(algorithm);
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
  if (name && s) return new Uint8Array(await s.digest(name, bytes as Uint8Array<ArrayBuffer>));
  if (hasWebAssembly()) return wasmDigest(algorithm, bytes);
  const h = jsHasher(algorithm);
  h.update(bytes);
  return h.digest();
}

export function toHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}
