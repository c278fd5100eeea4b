// Client must-show 4: a stream of unknown length uploads with deferred length, exact —
// from a Node Readable and from a Web ReadableStream, also through a connection that is
// cut every few MiB (the client re-sends from its one buffered chunk).
import { createCipheriv, createHash } from 'node:crypto';
import { Readable } from 'node:stream';
// TypeScript's DOM lib has no ReadableStream.from; Node's global is this same class.
import { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { nodeStreamSource, streamSource, Upload, type UploadSource } from '@tus-s3/client/node';
import { type FaultProxy, startProxy } from './helpers/client-proxy.js';
import { type Target, targets } from './helpers/client-targets.js';

const MiB = 1024 * 1024;

/** `size` pseudo-random bytes in uneven pieces, produced lazily; also returns their SHA-256. */
function generated(size: number, seed: number) {
  const cipher = createCipheriv('aes-128-ctr', Buffer.alloc(16, seed), Buffer.alloc(16));
  const hash = createHash('sha256');
  let left = size;
  let n = 0;
  const sha = { value: '' };
  async function* gen() {
    while (left > 0) {
      const piece = Math.min(left, 16 * 1024 + ((n++ * 7919) % (200 * 1024)));
      const bytes = cipher.update(Buffer.alloc(piece));
      hash.update(bytes);
      left -= piece;
      yield bytes;
    }
    sha.value = hash.digest('hex');
  }
  return { gen, sha };
}

describe.each(targets)('stream of unknown length, deferred length: %s', (_name, start) => {
  let target: Target;
  let proxy: FaultProxy | undefined;
  beforeAll(async () => {
    target = await start();
  });
  afterEach(async () => {
    await proxy?.close();
    proxy = undefined;
  });
  afterAll(async () => {
    await target?.close();
  });

  async function upload(source: UploadSource, endpoint: string, chunkSize: number | 'auto') {
    const posts: Record<string, string>[] = [];
    const lengths: Array<string | undefined> = [];
    const up = new Upload(source, {
      endpoint,
      chunkSize,
      retry: { baseDelayMs: 20, maxDelayMs: 200 },
      onBeforeRequest: (req) => {
        if (req.method === 'POST') posts.push({ ...req.headers });
        if (req.method === 'PATCH') lengths.push(req.headers['Upload-Length']);
      },
    });
    const r = await up.start();
    return { r, posts, lengths };
  }

  test('Node Readable, 37 MiB + 12345 bytes', async () => {
    const size = 37 * MiB + 12345;
    const { gen, sha } = generated(size, 1);
    const { r, posts, lengths } = await upload(
      nodeStreamSource(Readable.from(gen())),
      target.endpoint,
      5 * MiB,
    );
    expect(r.size).toBe(size);
    expect(posts).toHaveLength(1);
    expect(posts[0]!['Upload-Defer-Length']).toBe('1');
    expect(posts[0]!['Upload-Length']).toBeUndefined();
    expect(lengths.filter((l) => l !== undefined)).toEqual([String(size)]);
    expect(lengths.at(-1)).toBe(String(size));
    expect(await target.sha256Of(r.url)).toBe(sha.value);
  });

  test('Web ReadableStream through a connection cut every 4 MiB', async () => {
    proxy = await startProxy({ targetPort: target.port, cutEveryBytes: 4 * MiB });
    const size = 23 * MiB + 7;
    const { gen, sha } = generated(size, 2);
    const web = NodeReadableStream.from(gen()) as unknown as ReadableStream<Uint8Array>;
    const { r } = await upload(streamSource(web), `${proxy.origin}${target.path}`, 'auto');
    expect(r.size).toBe(size);
    expect(proxy.cuts).toBeGreaterThanOrEqual(4);
    expect(await target.sha256Of(r.url)).toBe(sha.value);
  });
});
