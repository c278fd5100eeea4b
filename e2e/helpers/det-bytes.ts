// Deterministic bytes of any length without holding them: block i (of BLOCK bytes) is the
// AES-128-CTR keystream at counter i * BLOCK / 16, so any range is computed on demand, and a
// 500 MiB upload costs a few MiB of memory in the test.
import { createCipheriv, createHash } from 'node:crypto';

export const BLOCK = 1024 * 1024;

export class DetBytes {
  private readonly key: Buffer;

  constructor(
    readonly size: number,
    seed: string,
  ) {
    this.key = createHash('sha256').update(seed).digest().subarray(0, 16);
  }

  /** Bytes [from, to). */
  range(from: number, to: number): Buffer {
    const first = Math.floor(from / BLOCK);
    const out: Buffer[] = [];
    for (let b = first; b * BLOCK < to; b++) out.push(this.block(b));
    const all = Buffer.concat(out);
    return all.subarray(from - first * BLOCK, to - first * BLOCK);
  }

  private block(b: number): Buffer {
    const iv = Buffer.alloc(16);
    iv.writeBigUInt64BE(BigInt((b * BLOCK) / 16), 8);
    const len = Math.min(BLOCK, this.size - b * BLOCK);
    return createCipheriv('aes-128-ctr', this.key, iv).update(Buffer.alloc(len));
  }

  /** SHA-256 (hex) of all of it, streamed. */
  sha256(): string {
    const h = createHash('sha256');
    for (let at = 0; at < this.size; at += BLOCK)
      h.update(this.range(at, Math.min(at + BLOCK, this.size)));
    return h.digest('hex');
  }
}

/** A seeded PRNG (mulberry32): the same run every time. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
