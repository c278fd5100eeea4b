/**
 * Splitting a file into partial uploads. Pure. Every partial but the last is a whole
 * number of `alignment` bytes (the server's S3 part size), so the server can build the
 * final object by copying whole parts (UploadPartCopy) instead of re-uploading bytes.
 */

export const MiB = 1024 * 1024;
/** Alignment when the server does not say (Tus-S3-Part-Size absent): a common S3 part size. */
export const DEFAULT_ALIGNMENT = 8 * MiB;
const S3_MAX_PARTS = 10_000;

export interface ByteRange {
  start: number;
  end: number;
}

/**
 * The alignment for a file of `size`: the server's part size, raised (to whole MiB) when
 * the file would need more than 10,000 parts of it, as the server raises it.
 */
export function alignmentFor(size: number, serverPartSize: number | null): number {
  let a = serverPartSize && serverPartSize > 0 ? serverPartSize : DEFAULT_ALIGNMENT;
  if (size > a * S3_MAX_PARTS) a = Math.ceil(size / S3_MAX_PARTS / MiB) * MiB;
  return a;
}

/**
 * Up to `n` contiguous ranges covering [0, size): whole aligned units dealt out as evenly
 * as possible (earlier ranges get the extra unit); only the last range may end unaligned.
 * Fewer than `n` ranges when the file has fewer units.
 */
export function splitAligned(size: number, n: number, alignment: number): ByteRange[] {
  if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`bad size ${size}`);
  if (!(alignment >= 1)) throw new RangeError(`bad alignment ${alignment}`);
  if (size === 0) return [];
  const units = Math.ceil(size / alignment);
  const k = Math.max(1, Math.min(Math.floor(n), units));
  const base = Math.floor(units / k);
  const extra = units % k;
  const out: ByteRange[] = [];
  let start = 0;
  for (let i = 0; i < k; i++) {
    const u = base + (i < extra ? 1 : 0);
    const end = Math.min(size, start + u * alignment);
    out.push({ start, end });
    start = end;
  }
  return out;
}
