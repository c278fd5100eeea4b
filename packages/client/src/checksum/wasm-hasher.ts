/**
 * Hashers from hash-wasm (maintained, WebAssembly): the browser path, and anywhere
 * WebAssembly exists without node:crypto. Creating one instantiates a wasm module
 * (compiled once per algorithm), hence async.
 */
import { createCRC32, createMD5, createSHA1, createSHA256, type IHasher } from 'hash-wasm';
import type { ChecksumAlgorithm } from './algorithms.js';
import type { Hasher } from './types.js';

const CREATE: Record<ChecksumAlgorithm, () => Promise<IHasher>> = {
  sha256: createSHA256,
  sha1: createSHA1,
  md5: createMD5,
  crc32: () => createCRC32(),
};

function adapt(h: IHasher): Hasher {
  return {
    update(data: Uint8Array) {
      h.update(data);
    },
    digest: () => h.digest('binary'),
  };
}

export async function wasmHasher(algorithm: ChecksumAlgorithm): Promise<Hasher> {
  return adapt(await CREATE[algorithm]());
}

// One instance per algorithm for one-shot digests: init, update and digest run without a
// pause in between, so callers never interleave on it.
const oneShot = new Map<ChecksumAlgorithm, Promise<IHasher>>();

export async function wasmDigest(algorithm: ChecksumAlgorithm, bytes: Uint8Array) {
  let p = oneShot.get(algorithm);
  if (!p) {
    p = CREATE[algorithm]();
    oneShot.set(algorithm, p);
    p.catch(() => oneShot.delete(algorithm));
  }
  const h = await p;
  h.init();
  h.update(bytes);
  return h.digest('binary');
}
