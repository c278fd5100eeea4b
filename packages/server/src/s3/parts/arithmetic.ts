// Offset <-> part arithmetic. The mapping is pure: part N always covers
// [(N-1) * partSize, N * partSize), so any instance can tell where a byte goes
// without shared state.

export const KiB = 1024;
export const MiB = 1024 * KiB;
export const GiB = 1024 * MiB;
export const TiB = 1024 * GiB;

export const S3_MIN_PART_SIZE = 5 * MiB;
export const S3_MAX_PART_SIZE = 5 * GiB;
export const S3_MAX_PARTS = 10_000;
export const S3_MAX_OBJECT_SIZE = 5 * TiB;

/** Default preferred part size; measured in bench/ (8 MiB keeps memory low at full speed). */
export const DEFAULT_PART_SIZE = 8 * MiB;

/**
 * The part size for one upload, fixed at creation. `size` is the declared length, or, for a
 * deferred-length upload, the largest size it may reach (the server's max size) if known.
 * Raised so that size fits in 10,000 parts; never under 5 MiB; never over 5 GiB.
 */
export function choosePartSize(size: number | undefined, preferred = DEFAULT_PART_SIZE): number {
  let partSize = Math.min(Math.max(Math.floor(preferred), S3_MIN_PART_SIZE), S3_MAX_PART_SIZE);
  if (size !== undefined && size > partSize * S3_MAX_PARTS) {
    // Round up to a whole MiB so part sizes stay readable in listings.
    partSize = Math.ceil(size / S3_MAX_PARTS / MiB) * MiB;
  }
  return Math.min(partSize, S3_MAX_PART_SIZE);
}

/** The largest upload a part size can hold. */
export function capacityOf(partSize: number): number {
  return Math.min(partSize * S3_MAX_PARTS, S3_MAX_OBJECT_SIZE);
}

/** 1-based number of the part that holds byte `offset`. */
export function partNumberAt(offset: number, partSize: number): number {
  return Math.floor(offset / partSize) + 1;
}

/** First byte of part `partNumber`. */
export function partStart(partNumber: number, partSize: number): number {
  return (partNumber - 1) * partSize;
}

/** How many parts an upload of `size` bytes has (0 for an empty upload). */
export function partCount(size: number, partSize: number): number {
  return Math.ceil(size / partSize);
}

/** Exact byte length part `partNumber` must have in an upload of `size` bytes. */
export function expectedPartLength(partNumber: number, partSize: number, size?: number): number {
  if (size === undefined) return partSize;
  return Math.min(partSize, size - partStart(partNumber, partSize));
}

/** Last byte (exclusive) of the part holding `offset`, bounded by the upload's size if known. */
export function partEndAt(offset: number, partSize: number, size?: number): number {
  const end = partStart(partNumberAt(offset, partSize), partSize) + partSize;
  return size === undefined ? end : Math.min(end, size);
}
