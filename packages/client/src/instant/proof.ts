// The answer to an instant-upload challenge: SHA-256(nonce || range_1 || ... || range_K)
// over the source's bytes. At most K ranges of a few KiB, read one at a time. hash-wasm
// where WebAssembly exists (Node, browsers); @noble/hashes (pure JS) where it does not,
// such as React Native on Hermes.
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { createSHA256 } from 'hash-wasm';
import type { SourceChunk, UploadSource } from '../sources/types.js';
import type { InstantChallenge } from './challenge.js';

interface Hasher {
  update(bytes: Uint8Array): void;
  digest(): Uint8Array;
}

async function sha256Hasher(): Promise<Hasher> {
  if (typeof WebAssembly !== 'undefined') {
    const h = await createSHA256();
    h.init();
    return {
      update: (bytes) => {
        h.update(bytes);
      },
      digest: () => h.digest('binary'),
    };
  }
  const h = nobleSha256.create();
  return { update: (bytes) => h.update(bytes), digest: () => h.digest() };
}

/** The proof for `challenge` over `source`'s bytes; throws when a range cannot be read whole. */
export async function computeInstantProof(
  challenge: InstantChallenge,
  source: Pick<UploadSource, 'read'>,
): Promise<Uint8Array> {
  const hash = await sha256Hasher();
  hash.update(challenge.nonce);
  for (const offset of challenge.offsets) {
    const bytes = await bytesOf(await source.read(offset, offset + challenge.length));
    if (bytes.length !== challenge.length) {
      throw new RangeError(`instant upload: range at ${offset} read ${bytes.length} bytes`);
    }
    hash.update(bytes);
  }
  return hash.digest();
}

async function bytesOf(chunk: SourceChunk): Promise<Uint8Array> {
  const { body } = chunk;
  if (body instanceof Uint8Array) return body;
  if (typeof (body as ReadableStream<Uint8Array>).getReader === 'function') {
    const parts: Uint8Array[] = [];
    const reader = (body as ReadableStream<Uint8Array>).getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      parts.push(value);
    }
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }
  return new Uint8Array(await (body as Blob).arrayBuffer());
}
