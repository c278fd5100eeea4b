// Marks over parts uploaded under an Upload-Checksum before the checksum could be checked.
// A checksummed PATCH streams its whole parts straight into the multipart upload (no
// second copy of the bytes), so S3 holds them before anyone knows they are right; and S3
// cannot take a part back out. A zero-byte mark object <id>.unv.<from>-<to>, written
// before the first such part, keeps parts from..to out of the offset (s3/state/progress.ts) until
// the request's body matched and the mark is removed. A mismatch, a cut body or a crash
// leaves the mark, so those parts never count; the requests that later rewrite those part
// numbers with good bytes shrink the mark from below (settle) until nothing is left.
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Fence } from '../../locks/fence.js';
import { unverifiedKey } from '../keys.js';
import type { UnverifiedRange } from '../state/progress.js';
import { deleteKeys } from './listing.js';

export interface Settlement {
  /** Marks to write first (what remains of shrunk marks above `upTo`). */
  add: Array<{ from: number; to: number }>;
  /** Marks to delete once those exist. */
  drop: UnverifiedRange[];
}

/**
 * Parts up to `upTo` now hold good, durable bytes. Every mark starts at or above the first
 * part the request wrote (marked parts never count, so no request starts past them): a
 * mark shrinks to what lies above `upTo`, or goes.
 */
export function settleRanges(marks: readonly UnverifiedRange[], upTo: number): Settlement {
  const out: Settlement = { add: [], drop: [] };
  for (const m of marks) {
    if (m.from > upTo) continue;
    out.drop.push(m);
    if (m.to > upTo) out.add.push({ from: upTo + 1, to: m.to });
  }
  return out;
}

export class UnverifiedMarks {
  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
    private readonly prefix: string,
  ) {}

  /** Under `fence`'s generation: a late mark is told from a newer holder's (s3/state/generations.ts). */
  async put(id: string, from: number, to: number, fence: Fence): Promise<UnverifiedRange> {
    const { generation } = fence;
    const key = unverifiedKey(this.prefix, id, from, to, generation);
    fence.assertHeld();
    await this.client.send(
      new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: '', ContentLength: 0 }),
    );
    return { key, from, to, generation };
  }

  /**
   * Applies settleRanges: replacements are durable before a mark they replace goes.
   * Returns the marks that remain.
   */
  async settle(
    id: string,
    marks: readonly UnverifiedRange[],
    upTo: number,
    fence: Fence,
  ): Promise<UnverifiedRange[]> {
    const s = settleRanges(marks, upTo);
    const added = await Promise.all(s.add.map((r) => this.put(id, r.from, r.to, fence)));
    fence.assertHeld();
    await deleteKeys(
      this.client,
      this.bucket,
      s.drop.map((m) => m.key),
    );
    return [...marks.filter((m) => !s.drop.includes(m)), ...added];
  }
}
