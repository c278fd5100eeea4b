// Layout of a final upload built from partial objects (pure). The final keeps this
// project's rule that every part but the last has one size (R2 and others demand it), so
// a part can be copied server-side (UploadPartCopy) only when it lies inside one partial.
// The part size is therefore chosen to divide the partials' sizes when it can: then every
// part is a copy and no byte passes through the server. Otherwise the parts that straddle
// a partial boundary are assembled from ranges of the partials and uploaded.
import {
  choosePartSize,
  partCount,
  S3_MAX_PART_SIZE,
  S3_MAX_PARTS,
  S3_MIN_PART_SIZE,
} from '../parts/arithmetic.js';

/** Bytes [start, end) of partial number `source`. */
export interface Piece {
  source: number;
  start: number;
  end: number;
}

export interface PlannedPart {
  partNumber: number;
  size: number;
  /** In order; one piece: a server-side copy, several: assembled by the server. */
  pieces: Piece[];
}

function gcd(a: number, b: number): number {
  let x = a;
  let y = b;
  while (y !== 0) [x, y] = [y, x % y];
  return x;
}

/**
 * The final's part size. When every partial but the last is a multiple of some size S3
 * accepts (5 MiB..5 GiB, at most 10,000 parts), the one closest to the usual choice for
 * the total; otherwise the usual choice, and boundary parts are assembled.
 */
export function chooseFinalPartSize(sizes: readonly number[], preferred?: number): number {
  const total = sizes.reduce((a, b) => a + b, 0);
  const usual = choosePartSize(total, preferred);
  // The last partial only ends the upload; the boundaries between the others must fall
  // on part boundaries.
  const g = sizes.slice(0, -1).reduce(gcd, 0);
  if (g === 0 || g % usual === 0) return usual;
  const lowest = Math.max(S3_MIN_PART_SIZE, Math.ceil(total / S3_MAX_PARTS));
  let best: number | undefined;
  const better = (d: number) =>
    d >= lowest &&
    d <= S3_MAX_PART_SIZE &&
    (best === undefined || Math.abs(Math.log(d / usual)) < Math.abs(Math.log(best / usual)));
  // Divisors d = g / k with d >= 5 MiB: k <= g / 5 MiB (at most ~10^6 for 5 TiB).
  const kMax = Math.floor(g / S3_MIN_PART_SIZE);
  for (let k = 1; k <= kMax; k++) {
    if (g % k === 0 && better(g / k)) best = g / k;
  }
  return best ?? usual;
}

/** Parts of the final upload over partials of `sizes`, each mapped to partial ranges. */
export function planFinal(sizes: readonly number[], partSize: number): PlannedPart[] {
  const total = sizes.reduce((a, b) => a + b, 0);
  const parts: PlannedPart[] = [];
  let source = 0;
  let within = 0; // offset inside partial `source`
  for (let n = 1; n <= partCount(total, partSize); n++) {
    const size = Math.min(partSize, total - (n - 1) * partSize);
    const pieces: Piece[] = [];
    let need = size;
    while (need > 0) {
      const available = (sizes[source] as number) - within;
      if (available <= 0) {
        source++;
        within = 0;
        continue;
      }
      const take = Math.min(available, need);
      pieces.push({ source, start: within, end: within + take });
      within += take;
      need -= take;
    }
    parts.push({ partNumber: n, size, pieces });
  }
  return parts;
}
