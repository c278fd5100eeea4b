// The React Native example's source (examples/react-native/range-file-source.ts) with a
// fake react-native-fs over a Buffer: the upload is exact, every native read is one
// bounded piece, no read covers the file, and a second Upload resumes from the store.
// (Not run on a device or simulator: no React Native toolchain here.)
import { type RangeReader, rangeFileSource } from '../examples/react-native/range-file-source.js';
import { uploadFromDevice } from '../examples/react-native/upload.js';
import { MemoryStore } from '../src/stores/memory.js';
import { Upload } from '../src/upload.js';
import { bytes, FakeTusServer } from './fake-server.js';

const ENDPOINT = 'http://127.0.0.1:1/files';

/** react-native-fs's read/stat over one in-memory file; records every read's length. */
function fakeFs(data: Uint8Array, mtime = new Date(5000)) {
  const reads: number[] = [];
  const fs: RangeReader = {
    async read(_path, length, position) {
      reads.push(length);
      return Buffer.from(data.subarray(position, position + length)).toString('base64');
    },
    async stat() {
      return { size: String(data.length), mtime }; // older react-native-fs: size as a string
    },
  };
  return { fs, reads };
}

test('ranged reads only: exact bytes, each native read at most one piece', async () => {
  const data = bytes(50_000, 3);
  const { fs, reads } = fakeFs(data);
  const server = new FakeTusServer();
  const source = await rangeFileSource(fs, '/data/user/0/app/files/clip.mp4', { pieceSize: 4096 });
  expect(source.name).toBe('clip.mp4');
  const r = await new Upload(source, {
    endpoint: ENDPOINT,
    fetch: server.fetch,
    chunkSize: 10_000,
  }).start();
  expect(Buffer.from(server.bytesOf(r.url))).toEqual(Buffer.from(data));
  expect(Math.max(...reads)).toBeLessThanOrEqual(4096);
  // Bytes read: the file once for the upload plus the sampled fingerprint; never one whole read.
  expect(reads.reduce((a, b) => a + b, 0)).toBeLessThan(2 * data.length);
});

test('a stored upload resumes: a new Upload over the same file continues at the server offset', async () => {
  const data = bytes(30_000, 4);
  const { fs } = fakeFs(data);
  const server = new FakeTusServer();
  const store = new MemoryStore();
  const first = new Upload(await rangeFileSource(fs, '/f.bin'), {
    endpoint: ENDPOINT,
    fetch: server.fetch,
    chunkSize: 10_000,
    store,
  });
  first.on('chunk', (c) => c.bytesAcknowledged >= 10_000 && first.abort());
  await expect(first.start()).rejects.toMatchObject({ kind: 'aborted' });
  expect(await store.list()).toHaveLength(1);

  const acked: number[] = [];
  const { url, resumedAt } = await uploadFromDevice(
    fs,
    '/f.bin',
    ENDPOINT,
    store,
    (p) => acked.push(p.bytesAcknowledged),
    { fetch: server.fetch, chunkSize: 10_000 },
  );
  expect(url).toBe(first.url);
  expect(resumedAt).toBe(10_000);
  expect(acked[0]).toBeGreaterThanOrEqual(10_000);
  expect(Buffer.from(server.bytesOf(url))).toEqual(Buffer.from(data));
  expect(await store.list()).toHaveLength(0);
});

test('a file shorter than its stat says fails with the reason, not a short upload', async () => {
  const data = bytes(5_000, 5);
  const fs: RangeReader = {
    ...fakeFs(data).fs,
    stat: async () => ({ size: 8_000 }),
  };
  const source = await rangeFileSource(fs, '/short.bin');
  await expect(source.read(0, 8_000)).rejects.toThrow(
    '/short.bin: ended at byte 5000, expected 8000',
  );
});
