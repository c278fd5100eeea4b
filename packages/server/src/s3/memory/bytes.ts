// A body held as a list of buffers (the slabs of a part, staged segments before them):
// sent to S3 without first copying it into one contiguous buffer outside the budget.
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { PartChecksum } from '../parts/part-checksum.js';

export type Bytes = Buffer | readonly Buffer[];

export function chunksOf(bytes: Bytes): readonly Buffer[] {
  return Buffer.isBuffer(bytes) ? [bytes] : bytes;
}

export function byteLength(bytes: Bytes): number {
  let n = 0;
  for (const c of chunksOf(bytes)) n += c.length;
  return n;
}

/** A request body for the SDK: a buffer as is (so its retries can resend it), else a stream. */
export function bodyOf(bytes: Bytes): Buffer | Readable {
  const chunks = chunksOf(bytes);
  if (chunks.length === 1) return chunks[0] as Buffer;
  if (chunks.length === 0) return Buffer.alloc(0);
  return Readable.from(chunks, { objectMode: false });
}

/** The Content-MD5 header for `bytes` under `mode`; undefined when bodies go unchecked. */
export function md5Of(mode: PartChecksum, bytes: Bytes): string | undefined {
  if (mode !== 'md5') return undefined;
  const hash = createHash('md5');
  for (const c of chunksOf(bytes)) hash.update(c);
  return hash.digest('base64');
}
