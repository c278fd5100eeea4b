/**
 * Hashes the next chunk while the current one is on the wire. The Upload-Checksum header
 * must be known before a body starts, so without this every request waits for a pass over
 * its bytes, which on a CPU without SHA extensions is a large share of the upload time. The
 * prefetch starts at the next offset with the current chunk size; when the next chunk turns
 * out longer (adaptive sizes grow) the same hash state is fed the rest; when it is shorter
 * or starts elsewhere (shrink, 409, retry) it is hashed afresh.
 */
import type { RangeDigester, UploadSource } from '../sources/types.js';
import type { ChecksumAlgorithm } from './algorithms.js';

interface Pending {
  start: number;
  algorithm: ChecksumAlgorithm;
  digester: RangeDigester;
  work: Promise<void>;
}

export class DigestAhead {
  private pending: Pending | null = null;

  constructor(private readonly source: UploadSource) {}

  /** Starts hashing [start, end) in the background (no-op for sources without a digester). */
  prefetch(start: number, end: number, algorithm: ChecksumAlgorithm): void {
    if (!this.source.digester || end <= start) return;
    const digester = this.source.digester(start, algorithm);
    const work = digester.advance(end);
    work.catch(() => {}); // a failed prefetch is redone in digest()
    this.pending = { start, algorithm, digester, work };
  }

  /** Digest of [start, end): from the prefetch when it fits, else a fresh pass. */
  async digest(start: number, end: number, algorithm: ChecksumAlgorithm): Promise<Uint8Array> {
    const p = this.pending;
    this.pending = null;
    if (p && p.start === start && p.algorithm === algorithm) {
      try {
        await p.work;
        if (p.digester.position <= end) {
          await p.digester.advance(end);
          return p.digester.digest();
        }
      } catch {
        // read error in the background: try once more below
      }
    }
    const d = this.source.digester!(start, algorithm);
    await d.advance(end);
    return d.digest();
  }
}
