/**
 * Fingerprint of a source for the resume store: endpoint + size + mtime/lastModified +
 * SHA-256 of sampled content. A file whose content changed (even with the same size and
 * mtime) gets another fingerprint, so it never resumes into the old upload.
 */
import { createHasher, toHex } from './checksum/hasher.js';

export interface SourceIdentity {
  size: number;
  /** ms since epoch; null when the source has no such notion. */
  lastModified: number | null;
  /** Hex SHA-256 over sampled ranges (see samplePlan). */
  sampleHash: string;
}

export interface SampleOptions {
  /** Bytes read at the start and at the end (default 64 KiB each). */
  edgeBytes?: number;
  /** Number of evenly spaced samples in between (default 16). */
  samples?: number;
  /** Bytes per inner sample (default 4 KiB). */
  sampleBytes?: number;
}

export type Range = readonly [start: number, end: number];

/** Byte ranges to hash: sorted, non-overlapping, within [0, size). Small sources are read whole. */
export function samplePlan(size: number, o: SampleOptions = {}): Range[] {
  const edge = o.edgeBytes ?? 64 * 1024;
  const n = o.samples ?? 16;
  const each = o.sampleBytes ?? 4 * 1024;
  if (size <= 2 * edge + n * each) return size > 0 ? [[0, size]] : [];
  const ranges: Range[] = [[0, edge]];
  const inner = size - 2 * edge;
  for (let i = 0; i < n; i++) {
    const start = edge + Math.floor(((inner - each) * (i + 0.5)) / n);
    ranges.push([start, start + each]);
  }
  ranges.push([size - edge, size]);
  // Merge overlaps (only possible with unusual options).
  const out: [number, number][] = [];
  for (const [s, e] of ranges) {
    const last = out[out.length - 1];
    if (last && s <= last[1]) last[1] = Math.max(last[1], e);
    else out.push([s, e]);
  }
  return out;
}

/** Hashes the planned ranges, read through `read(start, end)`. */
export async function sampleHash(
  size: number,
  read: (start: number, end: number) => Promise<Uint8Array>,
  o?: SampleOptions,
): Promise<string> {
  const h = await createHasher('sha256');
  const header = new TextEncoder().encode(`${size}\n`);
  h.update(header);
  for (const [s, e] of samplePlan(size, o)) {
    const bytes = await read(s, e);
    if (bytes.length !== e - s) throw new Error(`short read while fingerprinting at ${s}`);
    h.update(bytes);
  }
  return toHex(h.digest());
}

/** The store key. */
export function fingerprintKey(endpoint: string, id: SourceIdentity): string {
  return ['tus-s3', endpoint, id.size, id.lastModified ?? '-', id.sampleHash].join('::');
}
