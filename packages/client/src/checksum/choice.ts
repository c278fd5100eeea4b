/**
 * Which checksum one upload sends (chosen once, from the option and the server's caps)
 * and the Upload-Checksum of each chunk, with the next chunk hashed ahead.
 */

import { isTusError } from '../errors.js';
import { checksumCaps, type ServerCaps, unknownCaps } from '../protocol/caps.js';
import type { SourceChunk, UploadSource } from '../sources/types.js';
import { DigestAhead } from './ahead.js';
import { type ChecksumAlgorithm, type ChecksumOption, chooseChecksum } from './algorithms.js';
import { type ChecksummedBody, checksumChunk } from './digest.js';

export class ChecksumChoice {
  /** undefined until decided (needs OPTIONS unless checksum is false). */
  algorithm: ChecksumAlgorithm | null | undefined;
  private readonly ahead: DigestAhead;

  constructor(
    private readonly source: UploadSource,
    private readonly option: ChecksumOption,
    /** Told the algorithm when it is chosen, and null when 'auto' gives up on it. */
    private readonly onChoice: (algorithm: ChecksumAlgorithm | null) => void,
  ) {
    this.ahead = new DigestAhead(source);
  }

  get decided(): boolean {
    return this.algorithm !== undefined;
  }

  /** Whether choosing needs the server's caps (OPTIONS). */
  get needsCaps(): boolean {
    return this.option !== false;
  }

  choose(caps: ServerCaps | null): void {
    this.algorithm = chooseChecksum(this.option, checksumCaps(caps ?? unknownCaps()));
    this.onChoice(this.algorithm);
  }

  /**
   * Upload-Checksum of a chunk (null: checksums off), and the next chunk hashed ahead:
   * [end of this chunk, + `nextSize`) within `total` (none while the length is deferred).
   */
  async forChunk(
    chunk: SourceChunk,
    offset: number,
    nextSize: number,
    total: number | null,
  ): Promise<ChecksummedBody | null> {
    if (!this.algorithm) return null;
    let c: ChecksummedBody;
    try {
      c = await checksumChunk(this.source, chunk, offset, this.algorithm, this.ahead);
    } catch (e) {
      // 'auto' only uses checksums where it can: a Blob that cannot be read back (React
      // Native) goes without. An algorithm asked for by name fails instead.
      if (this.option !== 'auto' || !isTusError(e, 'unsupported')) throw e;
      this.algorithm = null;
      this.onChoice(null);
      return null;
    }
    const from = offset + chunk.size;
    if (total !== null) this.ahead.prefetch(from, Math.min(from + nextSize, total), this.algorithm);
    return c;
  }
}
