// Checksum extension (issue 4): OPTIONS advertises it where the store implements it; a
// PATCH or creation-with-upload under Upload-Checksum is verified over exactly its bytes
// before any of them count. A proxy flips one byte of one PATCH body: with a checksum the
// server answers 460 and keeps nothing, without one the flipped byte lands in the object.
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Transform } from 'node:stream';
import zlib from 'node:zlib';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { createTusServer, type S3MultipartStore } from '@tus-s3/server';
import { forward } from './helpers/forward.js';
import { listKeys, testS3Client } from './helpers/s3.js';
import {
  type Backend,
  createUpload,
  fileBackend,
  headOffset,
  idOf,
  patch,
  type RunningServer,
  rawPatch,
  s3Backend,
  sha256Hex,
  startInProcess,
  tus,
  uploadRest,
} from './helpers/server.js';

const MiB = 1024 * 1024;
const PS = 5 * MiB;

const digest = (alg: string, data: Uint8Array) =>
  createHash(alg).update(data).digest().toString('base64');
const sha256Header = (data: Uint8Array) => `sha256 ${digest('sha256', data)}`;

/** An HTTP proxy that, when armed, flips one byte of the next PATCH body it forwards. */
interface FlipProxy {
  origin: string;
  /** Flip body byte `at` (XOR 0xff) of the next PATCH. */
  arm(at: number): void;
  readonly flips: number;
  close(): Promise<void>;
}

async function startFlipProxy(target: string): Promise<FlipProxy> {
  const upstream = new URL(target);
  let armedAt: number | undefined;
  let flips = 0;
  const server = http.createServer((req, res) => {
    let flipAt: number | undefined;
    if (req.method === 'PATCH' && armedAt !== undefined) {
      flipAt = armedAt;
      armedAt = undefined;
    }
    let seen = 0;
    const flipper = new Transform({
      transform(chunk: Buffer, _enc, done) {
        if (flipAt !== undefined && flipAt >= seen && flipAt < seen + chunk.length) {
          const copy = Buffer.from(chunk);
          copy[flipAt - seen] = (copy[flipAt - seen] as number) ^ 0xff;
          flips++;
          chunk = copy;
        }
        seen += chunk.length;
        done(null, chunk);
      },
    });
    const out = forward(req, res, upstream);
    out.on('error', () => res.destroy());
    req.pipe(flipper).pipe(out);
  });
  server.listen(0, '127.0.0.1');
  await new Promise<void>((r) => server.once('listening', () => r()));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    arm: (at) => {
      armedAt = at;
    },
    get flips() {
      return flips;
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

const viaProxy = (url: string, proxy: FlipProxy) => {
  const u = new URL(url);
  return `${proxy.origin}${u.pathname}`;
};

async function objectBytes(bucket: string, key: string): Promise<Buffer> {
  const res = await testS3Client().send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(
    await (res.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
  );
}

describe('checksum on S3', () => {
  let backend: Backend;
  let server: RunningServer;
  let proxy: FlipProxy;
  let store: S3MultipartStore;
  beforeAll(async () => {
    backend = await s3Backend('ck/');
    server = await startInProcess({ ...backend.options, partSize: PS });
    store = server.tus.datastore as S3MultipartStore;
    proxy = await startFlipProxy(server.url);
  });
  afterAll(async () => {
    await proxy?.close();
    await server?.close();
    await backend?.cleanup();
  });
  const pendingKeys = async (id: string) =>
    (await listKeys(backend.bucket as string, `ck/${id}`)).filter((k) => k.includes('.pend.'));
  const marks = async (id: string) =>
    (await listKeys(backend.bucket as string, `ck/${id}`))
      .filter((k) => k.includes('.unv.'))
      .map((k) => k.slice(k.indexOf('.unv.') + 5));

  it('OPTIONS advertises checksum, its algorithms and the part size', async () => {
    const res = await tus(server.url, 'OPTIONS');
    expect(res.status).toBe(204);
    expect(res.headers.get('tus-extension')?.split(',')).toEqual(
      expect.arrayContaining(['checksum', 'concatenation']),
    );
    expect(res.headers.get('tus-extension')).not.toContain('concatentation');
    expect(res.headers.get('tus-checksum-algorithm')).toBe('sha1,md5,crc32,sha256,crc32c');
    expect(res.headers.get('tus-s3-part-size')).toBe(String(PS));
    // Browsers may read them.
    const cors = await tus(server.url, 'OPTIONS', { Origin: 'http://app.example' });
    expect(cors.headers.get('access-control-expose-headers')).toContain('Tus-S3-Part-Size');
    expect(cors.headers.get('access-control-allow-headers')).toContain('Upload-Checksum');
  });

  it.each([
    ['sha1', (d: Buffer) => digest('sha1', d)],
    ['md5', (d: Buffer) => digest('md5', d)],
    ['sha256', (d: Buffer) => digest('sha256', d)],
    [
      'crc32',
      (d: Buffer) => {
        const b = Buffer.alloc(4);
        b.writeUInt32BE(zlib.crc32(d));
        return b.toString('base64');
      },
    ],
  ])('accepts matching %s checksums across parts, staging and tails', async (alg, sum) => {
    const data = randomBytes(2 * PS + 3 * MiB + 7);
    const url = await createUpload(server.url, data.length);
    // A tail segment, then a PATCH over two part boundaries, then the rest.
    const cuts = [0, MiB + 1, 2 * PS + MiB, data.length];
    for (let i = 0; i + 1 < cuts.length; i++) {
      const body = data.subarray(cuts[i], cuts[i + 1]);
      const res = await patch(url, cuts[i] as number, body, {
        'Upload-Checksum': `${alg} ${sum(body)}`,
      });
      expect(res.status).toBe(204);
      expect(res.headers.get('upload-offset')).toBe(String(cuts[i + 1]));
    }
    expect(await backend.sha256Of(idOf(url))).toBe(sha256Hex(data));
    expect(await pendingKeys(idOf(url))).toEqual([]);
    expect(await marks(idOf(url))).toEqual([]);
  });

  it('a flipped byte under Upload-Checksum: 460, nothing counts, resend is exact', async () => {
    const data = randomBytes(3 * PS + 2 * MiB);
    const url = await createUpload(server.url, data.length);
    const id = idOf(url);
    expect(await uploadRest(url, data.subarray(0, 2 * MiB), 0)).toBe(2 * MiB);
    const before = { ...store.metrics };

    // 13 MiB from 2 MiB: parts 1 and 2 stream into the upload under a mark before the
    // body ends (part 1 with the staged 2 MiB before it), part 3 is held; then refused.
    const body = data.subarray(2 * MiB, 2 * MiB + 13 * MiB);
    proxy.arm(9 * MiB + 12345);
    const bad = await patch(viaProxy(url, proxy), 2 * MiB, body, {
      'Upload-Checksum': sha256Header(body),
    });
    expect(proxy.flips).toBe(1);
    expect(bad.status).toBe(460);
    const reason = await bad.text();
    expect(reason.trim().split('\n')).toHaveLength(1);
    expect(reason).toContain('mismatch');
    expect(store.metrics.checksumMismatches - before.checksumMismatches).toBe(1);
    expect(store.metrics.partsUploaded - before.partsUploaded).toBe(2);
    // The mark spans every part the request could reach (Content-Length): 1..3.
    expect(await marks(id)).toEqual(['00001-00003']);
    expect(await headOffset(url)).toBe(2 * MiB);

    // The client resends the same bytes: accepted, the mark is gone, the object exact.
    const ok = await patch(url, 2 * MiB, body, { 'Upload-Checksum': sha256Header(body) });
    expect(ok.status).toBe(204);
    expect(await marks(id)).toEqual([]);
    expect(await uploadRest(url, data, 15 * MiB)).toBe(data.length);
    expect(await backend.sha256Of(id)).toBe(sha256Hex(data));
  });

  it('bad parts left by a mismatch count only once rewritten, even in small PATCHes', async () => {
    const data = randomBytes(4 * PS + 7);
    const url = await createUpload(server.url, data.length);
    const id = idOf(url);
    proxy.arm(3 * PS + 5);
    const bad = await patch(viaProxy(url, proxy), 0, data, {
      'Upload-Checksum': sha256Header(data),
    });
    expect(bad.status).toBe(460);
    expect(await marks(id)).toEqual(['00001-00005']);
    expect(await headOffset(url)).toBe(0);
    // Plain PATCHes of 3 MiB rewrite the parts one by one; the mark shrinks from below and
    // the offset never runs ahead into a bad part.
    let at = 0;
    while (at < 3 * PS) {
      const res = await patch(url, at, data.subarray(at, at + 3 * MiB));
      expect(res.status).toBe(204);
      at = Number(res.headers.get('upload-offset'));
      expect(await headOffset(url)).toBe(at);
    }
    expect((await marks(id))[0]).toMatch(/^0000[3-4]-00005$/);
    expect(await uploadRest(url, data, at, 4 * MiB)).toBe(data.length);
    expect(await backend.sha256Of(id)).toBe(sha256Hex(data));
    expect(await listKeys(backend.bucket as string, `ck/${id}`)).toEqual([
      `ck/${id}`,
      `ck/${id}.info`,
    ]);
  });

  it('a deferred-length upload stages unverified parts as objects instead', async () => {
    const data = randomBytes(3 * PS + MiB);
    const url = await createUpload(server.url, 'deferred');
    const id = idOf(url);
    const before = { ...store.metrics };
    proxy.arm(2 * PS + 1);
    const bad = await patch(viaProxy(url, proxy), 0, data, {
      'Upload-Checksum': sha256Header(data),
    });
    expect(bad.status).toBe(460);
    // Parts 1-3 were staged (each sent on when the next byte came); none reached the upload.
    expect(store.metrics.pendingPartsStaged - before.pendingPartsStaged).toBe(3);
    expect(store.metrics.partsUploaded).toBe(before.partsUploaded);
    expect(await pendingKeys(id)).toEqual([]);
    expect(await headOffset(url)).toBe(0);
    const ok = await patch(url, 0, data, { 'Upload-Checksum': sha256Header(data) });
    expect(ok.status).toBe(204);
    // Verified: the three staged parts are copied in; the tail is a segment.
    expect(store.metrics.pendingPartsCommitted - before.pendingPartsCommitted).toBe(3);
    const done = await patch(url, data.length, new Uint8Array(), {
      'Upload-Length': String(data.length),
    });
    expect(done.status).toBe(204);
    expect(await backend.sha256Of(id)).toBe(sha256Hex(data));
    expect(await pendingKeys(id)).toEqual([]);
  });

  it('the same flip without a checksum lands in the object (what the checksum prevents)', async () => {
    const data = randomBytes(3 * PS + 2 * MiB);
    const url = await createUpload(server.url, data.length);
    const at = 4 * MiB + 99;
    proxy.arm(at);
    const res = await patch(viaProxy(url, proxy), 0, data);
    expect(res.status).toBe(204);
    const stored = await objectBytes(backend.bucket as string, `ck/${idOf(url)}`);
    expect(stored.length).toBe(data.length);
    expect(stored[at]).toBe((data[at] as number) ^ 0xff);
    stored[at] = data[at] as number;
    expect(stored.equals(data)).toBe(true);
  });

  it('creation-with-upload: verified; a mismatch answers 460 and leaves no upload', async () => {
    const data = randomBytes(PS + MiB);
    const first = data.subarray(0, PS + 10);
    const created = await tus(
      server.url,
      'POST',
      {
        'Upload-Length': String(data.length),
        'Content-Type': 'application/offset+octet-stream',
        'Upload-Checksum': `md5 ${digest('md5', first)}`,
      },
      first,
    );
    expect(created.status).toBe(201);
    expect(created.headers.get('upload-offset')).toBe(String(first.length));
    const url = new URL(created.headers.get('location') as string, server.url).toString();
    expect(await uploadRest(url, data, first.length)).toBe(data.length);
    expect(await backend.sha256Of(idOf(url))).toBe(sha256Hex(data));

    const keysBefore = await listKeys(backend.bucket as string, 'ck/');
    const wrong = await tus(
      server.url,
      'POST',
      {
        'Upload-Length': String(data.length),
        'Content-Type': 'application/offset+octet-stream',
        'Upload-Checksum': `md5 ${digest('md5', randomBytes(4))}`,
      },
      first,
    );
    expect(wrong.status).toBe(460);
    expect(wrong.headers.get('location')).toBeNull();
    expect(await listKeys(backend.bucket as string, 'ck/')).toEqual(keysBefore);
  });

  it('400 for an unknown algorithm or a malformed value; the upload is intact', async () => {
    const data = randomBytes(PS + 5);
    const url = await createUpload(server.url, data.length);
    expect(await uploadRest(url, data.subarray(0, 1000), 0)).toBe(1000);
    const body = data.subarray(1000);
    for (const value of [
      `sha512 ${digest('sha512', body)}`,
      'sha256',
      'sha256 %%%%',
      `sha256 ${digest('md5', body)}`,
      `sha256  ${digest('sha256', body)} x`,
    ]) {
      const res = await patch(url, 1000, body, { 'Upload-Checksum': value });
      expect({ value, status: res.status }).toEqual({ value, status: 400 });
      expect((await res.text()).trim()).toMatch(/Upload-Checksum/);
      expect(await headOffset(url)).toBe(1000);
    }
    expect(await uploadRest(url, data, 1000)).toBe(data.length);
    expect(await backend.sha256Of(idOf(url))).toBe(sha256Hex(data));
  });

  it('a checksummed PATCH cut mid-body keeps none of its bytes (they cannot be verified)', async () => {
    const data = randomBytes(3 * PS);
    const url = await createUpload(server.url, data.length);
    await rawPatch(
      url,
      0,
      data.length,
      // Two whole parts and a bit, then the connection drops.
      (req) =>
        req.write(data.subarray(0, 2 * PS + MiB), () => setTimeout(() => req.destroy(), 300)),
      { 'Upload-Checksum': sha256Header(data) },
    );
    // The server notices the cut; the offset stays at 0: the parts that reached the upload
    // are under a mark.
    let offset = -1;
    for (let i = 0; i < 50 && offset !== 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      offset = await headOffset(url);
    }
    expect(offset).toBe(0);
    expect(await marks(idOf(url))).toEqual(['00001-00003']);
    expect(await uploadRest(url, data, 0)).toBe(data.length);
    expect(await marks(idOf(url))).toEqual([]);
    expect(await backend.sha256Of(idOf(url))).toBe(sha256Hex(data));
  });
});

describe('checksum on S3, parts streaming (partChecksum none)', () => {
  let backend: Backend;
  let server: RunningServer;
  let proxy: FlipProxy;
  let store: S3MultipartStore;
  beforeAll(async () => {
    backend = await s3Backend('cks/');
    const { s3 } = backend.options;
    server = await startInProcess({
      ...backend.options,
      s3: s3 && { ...s3, partChecksum: 'none' },
      partSize: PS,
    });
    store = server.tus.datastore as S3MultipartStore;
    proxy = await startFlipProxy(server.url);
  });
  afterAll(async () => {
    await proxy?.close();
    await server?.close();
    await backend?.cleanup();
  });
  const marks = async (id: string) =>
    (await listKeys(backend.bucket as string, `cks/${id}`))
      .filter((k) => k.includes('.unv.'))
      .map((k) => k.slice(k.indexOf('.unv.') + 5));

  it('a PATCH of several parts streams them all under its mark; a flip is still 460', async () => {
    const data = randomBytes(3 * PS + 2 * MiB);
    const url = await createUpload(server.url, data.length);
    const id = idOf(url);
    const body = data.subarray(0, 3 * PS);
    let before = { ...store.metrics };
    proxy.arm(2 * PS + 12345);
    const bad = await patch(viaProxy(url, proxy), 0, body, {
      'Upload-Checksum': sha256Header(body),
    });
    expect(proxy.flips).toBe(1);
    expect(bad.status).toBe(460);
    // Every part streamed as it filled, the last too: all in the upload, none counts.
    expect(store.metrics.partsStreamed - before.partsStreamed).toBe(3);
    expect(store.metrics.checksumMismatches - before.checksumMismatches).toBe(1);
    expect(await marks(id)).toEqual(['00001-00003']);
    expect(await headOffset(url)).toBe(0);

    before = { ...store.metrics };
    const ok = await patch(url, 0, body, { 'Upload-Checksum': sha256Header(body) });
    expect(ok.status).toBe(204);
    expect(ok.headers.get('upload-offset')).toBe(String(3 * PS));
    expect(store.metrics.partsStreamed - before.partsStreamed).toBe(3);
    expect(await marks(id)).toEqual([]);
    // The rest in one checksummed PATCH within one part: held, no mark.
    const rest = data.subarray(3 * PS);
    const last = await patch(url, 3 * PS, rest, { 'Upload-Checksum': sha256Header(rest) });
    expect(last.status).toBe(204);
    expect(await backend.sha256Of(id)).toBe(sha256Hex(data));
    expect(await listKeys(backend.bucket as string, `cks/${id}`)).toEqual([
      `cks/${id}`,
      `cks/${id}.info`,
    ]);
  });
});

describe('createTusServer().handle() without Express', () => {
  let backend: Backend;
  beforeAll(async () => {
    backend = await s3Backend('ckh/');
  });
  afterAll(async () => {
    await backend?.cleanup();
  });

  it('serves Fetch API requests with the extensions', async () => {
    const tusS3 = createTusServer({ ...backend.options, path: '/up', partSize: PS });
    const call = (
      method: string,
      url: string,
      headers: Record<string, string>,
      body?: Uint8Array<ArrayBuffer>,
    ) =>
      tusS3.handle(
        new Request(`http://h.example${url}`, {
          method,
          headers: { 'Tus-Resumable': '1.0.0', ...headers },
          body,
        }),
      );
    const opts = await call('OPTIONS', '/up', {});
    expect(opts.headers.get('tus-extension')).toContain('checksum');
    expect(opts.headers.get('tus-s3-part-size')).toBe(String(PS));
    const data = randomBytes(1000);
    const created = await call('POST', '/up', { 'Upload-Length': String(data.length) });
    const location = new URL(created.headers.get('location') as string).pathname;
    const headers = {
      'Upload-Offset': '0',
      'Content-Type': 'application/offset+octet-stream',
    };
    const bad = await call(
      'PATCH',
      location,
      { ...headers, 'Upload-Checksum': sha256Header(Buffer.alloc(3)) },
      data,
    );
    expect(bad.status).toBe(460);
    const ok = await call(
      'PATCH',
      location,
      { ...headers, 'Upload-Checksum': sha256Header(data) },
      data,
    );
    expect(ok.status).toBe(204);
    expect(await backend.sha256Of(location.split('/').pop() as string)).toBe(sha256Hex(data));
  });
});

describe('checksum on the file store', () => {
  let backend: Backend;
  let server: RunningServer;
  beforeAll(async () => {
    backend = await fileBackend();
    server = await startInProcess({ ...backend.options });
  });
  afterAll(async () => {
    await server?.close();
    await backend?.cleanup();
  });

  it('is not advertised, and a checksummed PATCH is refused with 400 rather than unchecked', async () => {
    const opts = await tus(server.url, 'OPTIONS');
    expect(opts.headers.get('tus-extension')).not.toContain('checksum');
    expect(opts.headers.get('tus-extension')).not.toContain('concatenation');
    expect(opts.headers.get('tus-checksum-algorithm')).toBeNull();
    const data = randomBytes(1000);
    const url = await createUpload(server.url, data.length);
    const res = await patch(url, 0, data, { 'Upload-Checksum': sha256Header(data) });
    expect(res.status).toBe(400);
    expect(await headOffset(url)).toBe(0);
    expect(await uploadRest(url, data, 0)).toBe(data.length);
  });
});
