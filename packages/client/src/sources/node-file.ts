/**
 * Node file path source with ranged reads: the file never sits in memory. Each request
 * body is a stream read from disk in `pieceSize` pieces (or, in 'buffer' mode, one
 * Uint8Array per chunk).
 */
import { open } from 'node:fs/promises';
import { basename } from 'node:path';
import type { ChecksumAlgorithm } from '../checksum/algorithms.js';
import { nodeHasher } from '../checksum/node-hasher.js';
import { sampleHash } from '../fingerprint.js';
import type { RangeDigester, SourceChunk, UploadSource } from './types.js';

export interface NodeFileSourceOptions {
  /**
   * 'stream' (default): each chunk streams from disk (memory: a few pieces, whatever the
   * chunk size). 'buffer': each chunk is read into one Uint8Array (memory: one chunk).
   */
  bodyMode?: 'stream' | 'buffer';
  /**
   * Read size in 'stream' mode and for checksums (default 1 MiB). Each piece is one body
   * chunk for fetch, so fewer, larger pieces cost less CPU per byte sent.
   */
  pieceSize?: number;
  /** Default `filetype` metadata. */
  type?: string;
}

type FileHandle = Awaited<ReturnType<typeof open>>;

export async function nodeFileSource(
  path: string,
  o: NodeFileSourceOptions = {},
): Promise<UploadSource> {
  const { fh, st } = await openRegularFile(path);
  const size = st.size;
  const piece = o.pieceSize ?? 1024 * 1024;
  const mode = o.bodyMode ?? 'stream';
  const readExact = exactReader(fh, path);
  // One hashing pass at a time over this file, in the order they were asked for (see
  // rangeDigester).
  const lane: Lane = { tail: Promise.resolve() };

  return {
    size,
    name: basename(path),
    type: o.type,
    rereadable: true,
    async read(start: number, end: number): Promise<SourceChunk> {
      const e = Math.min(end, size);
      const last = e >= size;
      if (mode === 'buffer') return { body: await readExact(start, e), size: e - start, last };
      return { body: pieceStream(readExact, start, e, piece), size: e - start, last };
    },
    digester: (start: number, algorithm: ChecksumAlgorithm) =>
      rangeDigester(fh, path, lane, { size, piece, start, algorithm }),
    async identity() {
      return {
        size,
        lastModified: Math.floor(st.mtimeMs),
        sampleHash: await sampleHash(size, readExact),
      };
    },
    async close() {
      await fh.close();
    },
  };
}

async function openRegularFile(path: string) {
  const fh = await open(path, 'r');
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new Error(`not a regular file: ${path}`);
    return { fh, st };
  } catch (e) {
    await fh.close();
    throw e;
  }
}

type ReadExact = (start: number, end: number) => Promise<Uint8Array>;

/** Bytes [start, end) of the file, all of them (a file that shrank is an error). */
function exactReader(fh: FileHandle, path: string): ReadExact {
  return async (start, end) => {
    // Not zeroed: the read overwrites every byte, so zeroing first would be wasted work.
    const out: Uint8Array = Buffer.allocUnsafe(end - start);
    let off = 0;
    while (off < out.length) {
      const { bytesRead } = await fh.read(out, off, out.length - off, start + off);
      if (bytesRead === 0)
        throw new Error(`${path} shrank while uploading (at byte ${start + off})`);
      off += bytesRead;
    }
    return out;
  };
}

/** [start, end) as a body stream read on demand, one `piece` at a time. */
function pieceStream(
  readExact: ReadExact,
  start: number,
  end: number,
  piece: number,
): ReadableStream<Uint8Array> {
  let pos = start;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (pos >= end) {
          controller.close();
          return;
        }
        const n = Math.min(piece, end - pos);
        const buf = await readExact(pos, pos + n);
        pos += n;
        controller.enqueue(buf);
      },
    },
    { highWaterMark: 0 },
  );
}

/** The end of the queue of hashing passes over one file. */
interface Lane {
  tail: Promise<void>;
}

function rangeDigester(
  fh: FileHandle,
  path: string,
  lane: Lane,
  r: { size: number; piece: number; start: number; algorithm: ChecksumAlgorithm },
): RangeDigester {
  // A pass over the range before it is streamed again as the body: the header must be
  // known before the body starts, and re-reading (page cache) beats holding a whole
  // chunk in memory. One piece in memory at a time.
  //
  // Passes over the same file queue up (the file's lane) rather than share the thread
  // piece by piece: the partials of a parallel upload all ask for their first chunk's
  // digest at once, and, interleaved, every one of them would be ready only when all are,
  // with no byte sent meanwhile. Queued, the first partial starts sending after its own
  // pass, while the others are hashed.
  const h = nodeHasher(r.algorithm);
  let pos = r.start;
  let buf: Uint8Array | null = null;
  const advance = async (to: number) => {
    buf ??= new Uint8Array(r.piece);
    const end = Math.min(to, r.size);
    while (pos < end) {
      const n = Math.min(buf.length, end - pos);
      const { bytesRead } = await fh.read(buf, 0, n, pos);
      if (bytesRead === 0) throw new Error(`${path} shrank while uploading (at byte ${pos})`);
      h.update(buf.subarray(0, bytesRead));
      pos += bytesRead;
    }
  };
  return {
    get position() {
      return pos;
    },
    advance(to: number) {
      const pass = lane.tail.catch(() => {}).then(() => advance(to));
      lane.tail = pass;
      return pass;
    },
    digest: () => h.digest(),
  };
}
