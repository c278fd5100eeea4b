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
   * chunk for fetch; at 256 KiB the client spent 1.45 CPU s per GiB sent, at 1 MiB 1.1.
   */
  pieceSize?: number;
  /** Default `filetype` metadata. */
  type?: string;
}

export async function nodeFileSource(
  path: string,
  o: NodeFileSourceOptions = {},
): Promise<UploadSource> {
  const fh = await open(path, 'r');
  let st: Awaited<ReturnType<typeof fh.stat>>;
  try {
    st = await fh.stat();
    if (!st.isFile()) throw new Error(`not a regular file: ${path}`);
  } catch (e) {
    await fh.close();
    throw e;
  }
  const size = st.size;
  const piece = o.pieceSize ?? 1024 * 1024;
  const mode = o.bodyMode ?? 'stream';

  async function readExact(start: number, end: number): Promise<Uint8Array> {
    // Not zeroed: the read fills it (measured: 0.54 -> 0.43 CPU s per GiB read).
    const out: Uint8Array = Buffer.allocUnsafe(end - start);
    let off = 0;
    while (off < out.length) {
      const { bytesRead } = await fh.read(out, off, out.length - off, start + off);
      if (bytesRead === 0)
        throw new Error(`${path} shrank while uploading (at byte ${start + off})`);
      off += bytesRead;
    }
    return out;
  }

  return {
    size,
    name: basename(path),
    type: o.type,
    rereadable: true,
    async read(start: number, end: number): Promise<SourceChunk> {
      const e = Math.min(end, size);
      const last = e >= size;
      if (mode === 'buffer') return { body: await readExact(start, e), size: e - start, last };
      let pos = start;
      const body = new ReadableStream<Uint8Array>(
        {
          async pull(controller) {
            if (pos >= e) {
              controller.close();
              return;
            }
            const n = Math.min(piece, e - pos);
            const buf = await readExact(pos, pos + n);
            pos += n;
            controller.enqueue(buf);
          },
        },
        { highWaterMark: 0 },
      );
      return { body, size: e - start, last };
    },
    digester(start: number, algorithm: ChecksumAlgorithm): RangeDigester {
      // A pass over the range before it is streamed again as the body: the header must be
      // known before the body starts, and re-reading (page cache) beats holding a whole
      // chunk in memory. One piece in memory at a time.
      const h = nodeHasher(algorithm);
      let pos = start;
      let chain: Promise<void> = Promise.resolve();
      let buf: Uint8Array | null = null;
      const advance = async (to: number) => {
        buf ??= new Uint8Array(piece);
        const end = Math.min(to, size);
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
          chain = chain.catch(() => {}).then(() => advance(to));
          return chain;
        },
        digest: () => h.digest(),
      };
    },
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
