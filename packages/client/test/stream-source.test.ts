import { Readable } from 'node:stream';
import { TusError } from '../src/errors.js';
import { nodeStreamSource } from '../src/sources/node-stream.js';
import { streamSource } from '../src/sources/stream.js';
import { bytes } from './fake-server.js';

/** An async iterable of `total` bytes in `piece`-sized pieces that reports how much was pulled. */
function counted(data: Uint8Array, piece: number) {
  const state = { pulled: 0 };
  async function* gen() {
    for (let o = 0; o < data.length; o += piece) {
      const p = data.subarray(o, o + piece);
      state.pulled += p.length;
      yield p;
    }
  }
  return { iterable: gen(), state };
}

async function drain(body: unknown): Promise<Uint8Array> {
  expect(body).toBeInstanceOf(Uint8Array);
  return body as Uint8Array;
}

describe('stream source (unknown length)', () => {
  const data = bytes(10_000, 7);

  test('reads consecutive chunks, marks the last, pulls at most one piece ahead', async () => {
    const { iterable, state } = counted(data, 300);
    const src = streamSource(iterable);
    expect(src.size).toBeNull();
    expect(src.rereadable).toBe(false);
    const got: number[] = [];
    let off = 0;
    for (;;) {
      const c = await src.read(off, off + 1024);
      const b = await drain(c.body);
      expect(Buffer.from(b)).toEqual(Buffer.from(data.subarray(off, off + c.size)));
      // Buffered = chunk + at most one piece of look-ahead.
      expect(state.pulled - off).toBeLessThanOrEqual(1024 + 300);
      got.push(c.size);
      off += c.size;
      if (c.last) break;
    }
    expect(off).toBe(data.length);
    expect(got.every((n, i) => n === 1024 || i === got.length - 1)).toBe(true);
  });

  test('can re-read any part of the current chunk (partial acknowledgement), not before it', async () => {
    const src = streamSource(counted(data, 500).iterable);
    await src.read(0, 2000);
    const again = await src.read(1500, 3500);
    expect(Buffer.from(again.body as Uint8Array)).toEqual(Buffer.from(data.subarray(1500, 3500)));
    await expect(src.read(1000, 2000)).rejects.toBeInstanceOf(TusError);
  });

  test('a stream ending exactly at a chunk boundary marks that chunk last', async () => {
    const src = streamSource(counted(data.subarray(0, 2048), 512).iterable);
    const a = await src.read(0, 1024);
    expect(a.last).toBe(false);
    const b = await src.read(1024, 2048);
    expect(b.size).toBe(1024);
    expect(b.last).toBe(true);
  });

  test('empty stream', async () => {
    const src = streamSource(counted(new Uint8Array(0), 10).iterable);
    const c = await src.read(0, 100);
    expect(c.size).toBe(0);
    expect(c.last).toBe(true);
  });

  test('Web ReadableStream and Node Readable inputs', async () => {
    const web = streamSource(new Blob([data]).stream());
    const c1 = await web.read(0, 20_000);
    expect(c1.size).toBe(data.length);
    expect(c1.last).toBe(true);
    const node = nodeStreamSource(
      Readable.from([Buffer.from(data.subarray(0, 10)), Buffer.from(data.subarray(10))]),
    );
    const c2 = await node.read(0, 20_000);
    expect(Buffer.from(c2.body as Uint8Array)).toEqual(Buffer.from(data));
    expect(await node.identity()).toBeNull();
  });
});
