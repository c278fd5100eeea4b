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
  const buf = new PieceBuffer(toIterator(input));
  return {
    size: o.size ?? null,
    name: o.name,
    type: o.type,
    rereadable: false,
    read: (start: number, end: number) => buf.window(start, end),
    async identity() {
      return null;
    },
    close: () => buf.close(),
  };
}

/** The pieces read from the stream and not yet left behind by the upload's offset. */
class PieceBuffer {
  /** Absolute offset of pieces[0][0]. */
  private start = 0;
  private pieces: Uint8Array[] = [];
  private buffered = 0;
  private ended = false;

  constructor(private readonly iterator: AsyncIterator<Uint8Array>) {}

  /** Bytes [start, end) (fewer at the end of the stream), as one array. */
  async window(start: number, end: number): Promise<SourceChunk> {
    await this.seek(start);
    const want = end - start;
    await this.fill(want);
    // Concatenate the window into one array (and keep it as the only buffered piece).
    const n = Math.min(want, this.buffered);
    const body = new Uint8Array(n);
    let off = 0;
    const rest: Uint8Array[] = [];
    for (const p of this.pieces) {
      if (off < n) {
        const take = Math.min(p.length, n - off);
        body.set(p.subarray(0, take), off);
        off += take;
        if (take < p.length) rest.push(p.subarray(take));
      } else {
        rest.push(p);
      }
    }
    this.pieces = [body, ...rest];
    return { body, size: n, last: this.ended && this.buffered === n };
  }

  async close(): Promise<void> {
    this.pieces = [];
    this.buffered = 0;
    await this.iterator.return?.();
  }

  /** Makes `start` the first buffered byte: forward only. */
  private async seek(start: number): Promise<void> {
    if (start < this.start) {
      throw new TusError(
        `stream source cannot go back to byte ${start}: bytes before ${this.start} are gone`,
        { kind: 'source' },
      );
    }
    this.drop(start);
    if (start > this.start) {
      // Skipping ahead (the server has more than we buffered): consume and discard.
      await this.fill(start - this.start);
      this.drop(start);
      if (start > this.start) {
        throw new TusError(`stream ended at byte ${this.start}, before ${start}`, {
          kind: 'source',
        });
      }
    }
  }

  private async fill(want: number): Promise<void> {
    // Read until more than `want` bytes are buffered (to know whether data follows) or EOF.
    while (!this.ended && this.buffered <= want) {
      const r = await this.iterator.next();
      if (r.done) {
        this.ended = true;
        break;
      }
      const piece = r.value instanceof Uint8Array ? r.value : new Uint8Array(r.value);
      if (piece.length === 0) continue;
      this.pieces.push(piece);
      this.buffered += piece.length;
    }
  }

  private drop(upTo: number): void {
    let n = upTo - this.start;
    while (n > 0 && this.pieces.length > 0) {
      const p = this.pieces[0]!;
      if (p.length <= n) {
        this.pieces.shift();
        n -= p.length;
        this.buffered -= p.length;
        this.start += p.length;
      } else {
        this.pieces[0] = p.subarray(n);
        this.buffered -= n;
        this.start += n;
        n = 0;
      }
    }
  }
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
