/**
 * React Native: an UploadSource over a file on the device that reads only the ranges the
 * upload asks for, through a file-system module such as react-native-fs
 * (`RNFS.read(path, length, position, 'base64')`, `RNFS.stat(path)`), injected so this
 * file needs no native module to typecheck or test. At most one request's body is in
 * memory (a chunk, e.g. 4 MiB), never the whole file: tus-js-client's React Native path
 * instead loads the file into a Blob first.
 */
import {
  type SourceChunk,
  type SourceIdentity,
  sampleHash,
  type UploadSource,
} from '@tus-s3/client';

/** The two calls the source needs; react-native-fs's default export has both. */
export interface RangeReader {
  /** Bytes [position, position + length) as base64 (fewer at the end of the file). */
  read(path: string, length: number, position: number, encoding: 'base64'): Promise<string>;
  stat(path: string): Promise<{ size: number | string; mtime?: Date | number | string }>;
}

export interface RangeFileSourceOptions {
  /** `filename` metadata (default: the path's last segment). */
  name?: string;
  /** `filetype` metadata. */
  type?: string;
  /** Bytes per native read (default 1 MiB): the bridge passes strings, so keep them short. */
  pieceSize?: number;
}

/** base64 -> bytes with the platform's atob (Hermes has it since React Native 0.74). */
export function decodeBase64(b64: string): Uint8Array {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** Reads [start, end) in pieces into one buffer of exactly that size. */
async function readRange(
  fs: RangeReader,
  path: string,
  start: number,
  end: number,
  piece: number,
): Promise<Uint8Array> {
  const out = new Uint8Array(end - start);
  let at = start;
  while (at < end) {
    const bytes = decodeBase64(await fs.read(path, Math.min(piece, end - at), at, 'base64'));
    if (bytes.length === 0) throw new Error(`${path}: ended at byte ${at}, expected ${end}`);
    out.set(bytes, at - start);
    at += bytes.length;
  }
  return out;
}

function millis(t: Date | number | string | undefined): number | null {
  if (t === undefined) return null;
  const ms = t instanceof Date ? t.getTime() : typeof t === 'number' ? t : Date.parse(t);
  return Number.isFinite(ms) ? ms : null;
}

/** Stats the file once; every read after that is ranged. */
export async function rangeFileSource(
  fs: RangeReader,
  path: string,
  o: RangeFileSourceOptions = {},
): Promise<UploadSource> {
  const st = await fs.stat(path);
  const size = Number(st.size);
  if (!Number.isSafeInteger(size) || size < 0) throw new Error(`${path}: bad size ${st.size}`);
  const piece = o.pieceSize ?? 1024 * 1024;
  return {
    size,
    name: o.name ?? path.split('/').pop(),
    type: o.type,
    rereadable: true,
    async read(start: number, end: number): Promise<SourceChunk> {
      const e = Math.min(end, size);
      const body = await readRange(fs, path, start, e, piece);
      return { body, size: body.length, last: e >= size };
    },
    async identity(): Promise<SourceIdentity> {
      const hash = await sampleHash(size, (s, e) => readRange(fs, path, s, e, piece));
      return { size, lastModified: millis(st.mtime), sampleHash: hash };
    },
    async close() {},
  };
}
