// A request body that begins with staged bytes (a run of segments streamed from S3) and
// ends with bytes in memory. Streaming keeps the staged bytes out of memory whatever their
// size, at the cost of a body the SDK cannot resend by itself.
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { type Bytes, bodyOf, chunksOf } from '../memory/bytes.js';
import type { PartChecksum } from '../parts/part-checksum.js';
import type { StoredSegment } from '../state/progress.js';

/** Staged segments, in offset order, as bytes to read from S3 (SegmentStaging.run). */
export interface StagedRun {
  readonly segments: readonly StoredSegment[];
  readonly size: number;
  /** A fresh read of the run's bytes from S3, in order. */
  open(): AsyncIterable<Buffer>;
}

/** The body of `head`'s bytes then `tail`'s; `tail` alone without a head. */
export function bodyAfter(head: StagedRun | undefined, tail: Bytes): Buffer | Readable {
  if (head === undefined || head.segments.length === 0) return bodyOf(tail);
  async function* all(): AsyncGenerator<Buffer> {
    yield* (head as StagedRun).open();
    yield* chunksOf(tail);
  }
  return Readable.from(all(), { objectMode: false });
}

/**
 * The Content-MD5 of `head`'s bytes then `tail`'s under `mode` (undefined when bodies go
 * unchecked). A head is read from S3 for it: the header goes before the first byte, and
 * an object that replaces another (a merged segment, s3/patch/part-cutter.ts) must be
 * refused by S3 if it arrives damaged, not found damaged once it replaced the old one.
 */
export async function md5After(
  mode: PartChecksum,
  head: StagedRun | undefined,
  tail: Bytes,
): Promise<string | undefined> {
  if (mode !== 'md5') return undefined;
  const hash = createHash('md5');
  if (head) for await (const chunk of head.open()) hash.update(chunk);
  for (const c of chunksOf(tail)) hash.update(c);
  return hash.digest('base64');
}
