/** What a server's OPTIONS answer says it can do. Pure parsing. */
import type { ChecksumCaps } from '../checksum/algorithms.js';
import { parseAlgorithmList } from '../checksum/algorithms.js';

export interface ServerCaps {
  /** False when OPTIONS failed or was refused: nothing below is known. */
  known: boolean;
  extensions: Set<string>;
  /** Tus-Max-Size. */
  maxSize: number | null;
  /** Tus-Checksum-Algorithm, lower-cased; null when absent. */
  checksumAlgorithms: string[] | null;
  /** Tus-S3-Part-Size (our server): partial uploads aligned to it concatenate by copy. */
  partSize: number | null;
}

export function unknownCaps(): ServerCaps {
  return {
    known: false,
    extensions: new Set(),
    maxSize: null,
    checksumAlgorithms: null,
    partSize: null,
  };
}

export function parseCaps(headers: { get(name: string): string | null }): ServerCaps {
  const extensions = new Set<string>();
  for (const x of (headers.get('Tus-Extension') ?? '').split(',')) {
    if (x.trim()) extensions.add(x.trim());
  }
  return {
    known: true,
    extensions,
    maxSize: positiveInt(headers.get('Tus-Max-Size')),
    checksumAlgorithms: parseAlgorithmList(headers.get('Tus-Checksum-Algorithm')),
    partSize: positiveInt(headers.get('Tus-S3-Part-Size')),
  };
}

export function checksumCaps(caps: ServerCaps): ChecksumCaps {
  return {
    known: caps.known,
    extension: caps.extensions.has('checksum'),
    algorithms: caps.checksumAlgorithms,
  };
}

function positiveInt(v: string | null): number | null {
  if (v === null || !/^\d+$/.test(v.trim())) return null;
  const n = Number(v.trim());
  return Number.isSafeInteger(n) && n > 0 ? n : null;
}
