/** The tus-upload flags that are more than a string: parsed, checked, or collected. */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { type ChecksumOption, isChecksumAlgorithm } from '../checksum/algorithms.js';
import { parseHeader } from './format.js';

export const DEFAULT_STORE =
  process.env.TUS_UPLOAD_STORE || join(homedir(), '.tus-upload', 'store.json');

/** commander's argParser for a repeatable flag. */
export const collect = (v: string, prev: string[]) => [...prev, v];

export function checksumOf(v: string | false | undefined): ChecksumOption {
  if (v === undefined || v === 'auto') return 'auto';
  if (v === false) return false;
  const name = v.toLowerCase();
  if (!isChecksumAlgorithm(name)) {
    throw new RangeError(`--checksum: unknown algorithm ${v} (sha256, sha1, md5, crc32, auto)`);
  }
  return name;
}

export function parallelOf(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 64) {
    throw new RangeError(`--parallel: not a number of uploads from 1 to 64: ${v}`);
  }
  return n;
}

export function headersOf(list: string[]): Record<string, string> {
  const h: Record<string, string> = {};
  for (const line of list) {
    const [k, v] = parseHeader(line);
    h[k] = v;
  }
  return h;
}
