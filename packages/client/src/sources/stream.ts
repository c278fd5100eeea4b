/**
 * Source of unknown length: a Web ReadableStream or any AsyncIterable of bytes (a Node
 * Readable is one). Uploads with deferred length. Buffers at most one chunk (plus the one
 * piece that told it whether more data follows), so it can re-send the part of the
 * current chunk the server did not acknowledge, but never anything before it.
 */
import { TusError } from '../errors.js';
import type { SourceChunk, UploadSource } from './types.js';

export interface StreamSourceOptions {
  /** Known total size, if any (otherwise deferred length). */
  size?: number;
  name?: string;
  type?: string;
}

export function streamSource(
  input: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>,
  o: StreamSourceOptions = {},
): UploadSource {
  const iterator = toIterator(input);
  /** Absolute offset of pieces[0][0]. */
  let bufStart = 0;
  let pieces: Uint8Array[] = [];
  let buffered = 0;
  let ended = false;

  async function fill(want: number): Promise<void> {
    // Read until more than `want` bytes are buffered (to know whether data follows) or EOF.
    while (!ended && buffered <= want) {
      const r = await iterator.next();
      if (r.done) {
        ended = true;
        break;
      }
      const piece = r.value instanceof Uint8Array ? r.value : new Uint8Array(r.value);
      if (piece.length === 0) continue;
      pieces.push(piece);
      buffered += piece.length;
    }
  }

  function drop(upTo: number): void {
    let n = upTo - bufStart;
    while (n > 0 && pieces.length > 0) {
      const p = pieces[0]!;
      if (p.length <= n) {
        pieces.shift();
        n -= p.length;
        buffered -= p.length;
        bufStart += p.length;
      } else {
        pieces[0] = p.subarray(n);
        buffered -= n;
        bufStart += n;
        n = 0;
      }
    }
  }

  return {
    size: o.size ?? null,
    name: o.name,
    type: o.type,
    rereadable: false,
    async read(start: number, end: number): Promise<SourceChunk> {
      if (start < bufStart) {
        throw new TusError(
          `stream source cannot go back to byte ${start}: bytes before ${bufStart} are gone`,
          { kind: 'source' },
        );
      }
      drop(start);
      if (start > bufStart) {
        // Skipping ahead (the server has more than we buffered): consume and discard.
        await fill(start - bufStart);
        drop(start);
        if (start > bufStart) {
          throw new TusError(`stream ended at byte ${bufStart}, before ${start}`, {
            kind: 'source',
          });
        }
      }
      const want = end - start;
      await fill(want);
      // Concatenate the window into one array (and keep it as the only buffered piece).
      const n = Math.min(want, buffered);
      const body = new Uint8Array(n);
      let off = 0;
      const rest: Uint8Array[] = [];
      for (const p of pieces) {
        if (off < n) {
          const take = Math.min(p.length, n - off);
          body.set(p.subarray(0, take), off);
          off += take;
          if (take < p.length) rest.push(p.subarray(take));
        } else {
          rest.push(p);
        }
      }
      pieces = [body, ...rest];
      return { body, size: n, last: ended && buffered === n };
    },
    async identity() {
      return null;
    },
    async close() {
      pieces = [];
      buffered = 0;
      await iterator.return?.();
    },
  };
}

function toIterator(
  input: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>,
): AsyncIterator<Uint8Array> {
  if (typeof (input as ReadableStream<Uint8Array>).getReader === 'function') {
    const reader = (input as ReadableStream<Uint8Array>).getReader();
    return {
      async next() {
        const r = await reader.read();
        return r.done ? { done: true, value: undefined } : { done: false, value: r.value };
      },
      async return() {
        await reader.cancel().catch(() => {});
        return { done: true, value: undefined };
      },
    };
  }
  return (input as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
}
