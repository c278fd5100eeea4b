// Upload-Checksum in the state machine (fake server, no sockets): every request with a
// body carries the digest of exactly its bytes; 460 -> the same bytes again, bounded.
import { createHash } from 'node:crypto';
import { TusError } from '../src/errors.js';
import { blobSource } from '../src/sources/blob.js';
import { streamSource } from '../src/sources/stream.js';
import type { UploadSource } from '../src/sources/types.js';
import { Upload, type UploadOptions } from '../src/upload.js';
import { bytes, FakeTusServer, type SeenRequest } from './fake-server.js';

const ENDPOINT = 'http://127.0.0.1:1/files';
const ALL = 'creation,creation-with-upload,termination,checksum';

function setup(data: Uint8Array<ArrayBuffer>, o: Partial<UploadOptions> = {}, extensions = ALL) {
  const server = new FakeTusServer();
  server.extensions = extensions;
  const upload = new Upload(blobSource(new Blob([data])), {
    endpoint: ENDPOINT,
    fetch: server.fetch,
    chunkSize: 1000,
    retry: { delays: [0, 0, 0] },
    ...o,
  });
  const retries: TusError[] = [];
  upload.on('retry', (e) => retries.push(e.error));
  const algorithms: Array<string | null> = [];
  upload.on('checksum', (e) => algorithms.push(e.algorithm));
  return { server, upload, retries, algorithms };
}

const withBody = (s: FakeTusServer) => s.requests.filter((r) => r.bodySize > 0);

/** Flips one byte of the `nth` PATCH body (0-based), once. */
function flipOnce(nth: number) {
  let seen = 0;
  return (req: SeenRequest, body: Uint8Array) => {
    if (req.method !== 'PATCH' || seen++ !== nth) return body;
    const b = body.slice();
    b[17] = b[17]! ^ 0xff;
    return b;
  };
}

test('auto: sha256 on the POST body and every PATCH, each over exactly its bytes', async () => {
  const data = bytes(3500);
  const { server, upload, algorithms } = setup(data);
  const r = await upload.start();
  expect(algorithms).toEqual(['sha256']);
  const reqs = withBody(server);
  expect(reqs.map((q) => q.method)).toEqual(['POST', 'PATCH', 'PATCH', 'PATCH']);
  let off = 0;
  for (const q of reqs) {
    const want = createHash('sha256')
      .update(data.subarray(off, off + q.bodySize))
      .digest('base64');
    expect(q.headers['upload-checksum']).toBe(`sha256 ${want}`);
    off += q.bodySize;
  }
  expect(Buffer.from(server.bytesOf(r.url))).toEqual(Buffer.from(data));
});

test('a corrupted PATCH body: 460, the chunk is resent, bytes exact', async () => {
  const data = bytes(3500, 7);
  const { server, upload, retries } = setup(data);
  server.corrupt = flipOnce(1);
  const r = await upload.start();
  expect(server.checksumMismatches).toBe(1);
  expect(retries.map((e) => e.status)).toEqual([460]);
  const patches = server.requests.filter((q) => q.method === 'PATCH');
  // PATCH at 1000, PATCH at 2000 (460), PATCH at 2000 again, PATCH at 3000.
  expect(patches.map((q) => q.headers['upload-offset'])).toEqual(['1000', '2000', '2000', '3000']);
  expect(patches[1]!.headers['upload-checksum']).toBe(patches[2]!.headers['upload-checksum']);
  expect(Buffer.from(server.bytesOf(r.url))).toEqual(Buffer.from(data));
});

test('without checksum the same corruption lands (what the checksum prevents)', async () => {
  const data = bytes(3500, 7);
  const { server, upload } = setup(data, { checksum: false });
  server.corrupt = flipOnce(1);
  const r = await upload.start();
  expect(server.requests.every((q) => q.headers['upload-checksum'] === undefined)).toBe(true);
  const got = server.bytesOf(r.url);
  const diff = [...got].flatMap((b, i) => (b !== data[i] ? [i] : []));
  expect(diff).toEqual([2017]);
});

test('a corrupted POST body (creation-with-upload): 460, created again, exact', async () => {
  const data = bytes(2500, 3);
  const { server, upload } = setup(data);
  let first = true;
  server.corrupt = (req, body) => {
    if (req.method !== 'POST' || !first) return body;
    first = false;
    const b = body.slice();
    b[0] = b[0]! ^ 1;
    return b;
  };
  const r = await upload.start();
  expect(server.checksumMismatches).toBe(1);
  expect(Buffer.from(server.bytesOf(r.url))).toEqual(Buffer.from(data));
});

test('persistent corruption: 3 resends, then the server message', async () => {
  const data = bytes(2500, 3);
  const { server, upload, retries } = setup(data, { creationWithUpload: false });
  server.corrupt = (req, body) => {
    if (req.method !== 'PATCH') return body;
    const b = body.slice();
    b[3] = b[3]! ^ 1;
    return b;
  };
  const err = await upload.start().catch((e: unknown) => e);
  expect(err).toBeInstanceOf(TusError);
  expect((err as TusError).status).toBe(460);
  expect((err as TusError).serverMessage).toBe('Checksum Mismatch');
  expect((err as TusError).message).toMatch(/checksum mismatch 4 times in a row/);
  expect(retries).toHaveLength(3);
  expect(server.requests.filter((q) => q.method === 'PATCH')).toHaveLength(4);
});

test('explicit md5 / crc32 / sha1 headers', async () => {
  for (const alg of ['md5', 'crc32', 'sha1'] as const) {
    const data = bytes(1500, 9);
    const { server, upload } = setup(data, { checksum: alg });
    const r = await upload.start();
    for (const q of withBody(server)) expect(q.headers['upload-checksum']).toMatch(`${alg} `);
    expect(Buffer.from(server.bytesOf(r.url))).toEqual(Buffer.from(data));
  }
});

test('auto against a server without checksum: no header; explicit: fails up front', async () => {
  const a = setup(bytes(1500), {}, 'creation,creation-with-upload');
  await a.upload.start();
  expect(a.algorithms).toEqual([null]);
  expect(a.server.requests.some((q) => q.headers['upload-checksum'] !== undefined)).toBe(false);

  const b = setup(bytes(1500), { checksum: 'sha256' }, 'creation,creation-with-upload');
  const err = await b.upload.start().catch((e: unknown) => e);
  expect((err as TusError).kind).toBe('unsupported');
  expect(b.server.requests.map((q) => q.method)).toEqual(['OPTIONS']);

  const c = setup(bytes(1500), { checksum: 'md5' });
  c.server.checksumAlgorithms = 'sha256';
  expect(((await c.upload.start().catch((e: unknown) => e)) as TusError).message).toMatch(
    /supports only: sha256/,
  );
});

test('resuming a stored URL asks OPTIONS for the algorithm, then HEAD', async () => {
  const data = bytes(2500);
  const first = setup(data, { creationWithUpload: false });
  first.server.intercept = (req) =>
    req.method === 'PATCH' && req.headers['upload-offset'] === '1000' ? { status: 400 } : undefined;
  await first.upload.start().catch(() => {});
  first.server.intercept = null;
  const url = first.upload.url!;
  const again = new Upload(blobSource(new Blob([data])), {
    uploadUrl: url,
    fetch: first.server.fetch,
    chunkSize: 1000,
  });
  first.server.requests.length = 0;
  await again.start();
  expect(first.server.requests.map((q) => q.method)).toEqual(['OPTIONS', 'HEAD', 'PATCH', 'PATCH']);
  expect(first.server.requests[2]!.headers['upload-checksum']).toMatch(/^sha256 /);
});

test('deferred length (stream source) carries checksums too', async () => {
  const data = bytes(2600, 5);
  const server = new FakeTusServer();
  server.extensions = `${ALL},creation-defer-length`;
  const upload = new Upload(streamSource(new Blob([data]).stream()), {
    endpoint: ENDPOINT,
    fetch: server.fetch,
    chunkSize: 1000,
  });
  server.corrupt = flipOnce(0);
  const r = await upload.start();
  expect(server.checksumMismatches).toBe(1);
  expect(Buffer.from(server.bytesOf(r.url))).toEqual(Buffer.from(data));
});

/** React Native's Blob: has a size and can be sent, but cannot be read back in JS. */
class UnreadableBlob {
  constructor(readonly bytes: Uint8Array<ArrayBuffer>) {}
  get size() {
    return this.bytes.length;
  }
}

function unreadableSource(data: Uint8Array<ArrayBuffer>): UploadSource {
  return {
    size: data.length,
    rereadable: true,
    async read(s: number, e: number) {
      const end = Math.min(e, data.length);
      const body = new UnreadableBlob(data.subarray(s, end)) as unknown as Blob;
      return { body, size: end - s, last: end >= data.length };
    },
    identity: async () => null,
    close: async () => {},
  };
}

test("a Blob that cannot be read back (React Native): 'auto' goes without, an explicit algorithm fails", async () => {
  const data = bytes(2500, 21);
  const server = new FakeTusServer();
  server.extensions = ALL;
  // The fake server reads what a real fetch would send.
  const fetchImpl = ((url: string, init: RequestInit) =>
    server.fetch(url, {
      ...init,
      body: init.body instanceof UnreadableBlob ? init.body.bytes : init.body,
    })) as typeof fetch;
  const auto = new Upload(unreadableSource(data), {
    endpoint: ENDPOINT,
    fetch: fetchImpl,
    chunkSize: 1000,
    streamBodies: false,
  });
  const seen: Array<string | null> = [];
  auto.on('checksum', (e) => seen.push(e.algorithm));
  const r = await auto.start();
  expect(seen).toEqual(['sha256', null]);
  expect(server.requests.some((q) => q.headers['upload-checksum'] !== undefined)).toBe(false);
  expect(Buffer.from(server.bytesOf(r.url))).toEqual(Buffer.from(data));

  const named = new Upload(unreadableSource(data), {
    endpoint: ENDPOINT,
    fetch: fetchImpl,
    chunkSize: 1000,
    streamBodies: false,
    checksum: 'sha256',
  });
  const err = (await named.start().catch((e: unknown) => e)) as TusError;
  expect(err.kind).toBe('unsupported');
  expect(err.message).toMatch(/cannot be read back/);
});
