// Random input files in bench/.work, made fast (AES-256-CTR keystream) and reused across
// runs when a sidecar records the same size and seed.
import { createCipheriv, createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';

const BLOCK = 1024 * 1024;
const ZEROS = Buffer.alloc(BLOCK);

/** { path, size, sha256, name }; content is a function of `seed`. */
export async function randomFile(dir, name, size, seed = name) {
  const file = path.join(dir, name);
  const side = `${file}.sha256`;
  if (existsSync(file) && existsSync(side)) {
    const meta = JSON.parse(readFileSync(side, 'utf8'));
    if (meta.size === size && meta.seed === seed && statSync(file).size === size) {
      return { path: file, size, sha256: meta.sha256, name };
    }
  }
  const key = createHash('sha256').update(`tus-s3-bench:${seed}`).digest();
  const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  const hash = createHash('sha256');
  const fh = await open(file, 'w');
  try {
    for (let left = size; left > 0; ) {
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
  const sha256 = hash.digest('hex');
  writeFileSync(side, JSON.stringify({ size, seed, sha256 }));
  return { path: file, size, sha256, name };
}
