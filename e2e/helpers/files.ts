// Local file helpers for tests: temp dirs and large pseudo-random files, fast.
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { mkdtemp, open, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

const BLOCK = 1024 * 1024;
const ZEROS = Buffer.alloc(BLOCK);

/** A fresh empty directory under the OS temp dir. Remove it with removeDir(). */
export async function tmpDir(prefix = 'tus-s3-test-'): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), prefix));
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

export interface RandomFile {
  path: string;
  size: number;
  sha256: string;
}

/**
 * Writes `size` pseudo-random bytes to a new file in `dir` and returns its path and
 * SHA-256 (hex). Bytes are an AES-256-CTR keystream (GB/s with AES-NI); pass `seed` for
 * reproducible content, otherwise each file differs.
 */
export async function makeRandomFile(
  dir: string,
  size: number,
  opts: { name?: string; seed?: string } = {},
): Promise<RandomFile> {
  if (!Number.isSafeInteger(size) || size < 0) throw new Error(`bad size ${size}`);
  const key = opts.seed ? createHash('sha256').update(opts.seed).digest() : randomBytes(32);
  const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  const file = path.join(dir, opts.name ?? `random-${size}-${randomBytes(4).toString('hex')}.bin`);
  const hash = createHash('sha256');
  const fh = await open(file, 'wx');
  try {
    let left = size;
    while (left > 0) {
      const n = Math.min(BLOCK, left);
      const chunk = cipher.update(n === BLOCK ? ZEROS : ZEROS.subarray(0, n));
      hash.update(chunk);
      for (let off = 0; off < chunk.length; ) {
        off += (await fh.write(chunk, off, chunk.length - off)).bytesWritten;
      }
      left -= n;
    }
  } finally {
    await fh.close();
  }
  return { path: file, size, sha256: hash.digest('hex') };
}

/** SHA-256 (hex) of a Buffer/string — convenience for small in-memory payloads. */
export function sha256(data: Buffer | Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}
