// Must-show 5 and 6 of the server issue: every bad request gets the status the tus spec
// names and leaves the upload intact; two concurrent PATCHes never mix bytes.
import { randomBytes } from 'node:crypto';
import { MemoryLocker } from '@tus/server';
import {
  type Backend,
  backends,
  createUpload,
  headOffset,
  idOf,
  patch,
  type RunningServer,
  rawPatch,
  sha256Hex,
  startInProcess,
  tus,
  uploadRest,
} from './helpers/server.js';
import { stalledPatch } from './helpers/stalled-patch.js';

const MiB = 1024 * 1024;
const MAX = 20 * MiB;

describe.each(backends)('bad input on %s', (_name, makeBackend) => {
  let backend: Backend;
  let server: RunningServer;
  beforeAll(async () => {
    backend = await makeBackend();
    server = await startInProcess({ ...backend.options, partSize: 5 * MiB, maxSize: MAX });
  });
  afterAll(async () => {
    await server?.close();
    await backend?.cleanup();
  });

  it('answers each bad request with its tus status and the upload still completes exactly', async () => {
    const data = randomBytes(7 * MiB + 3);
    const url = await createUpload(server.url, data.length);
    expect(await uploadRest(url, data.subarray(0, 2 * MiB), 0)).toBe(2 * MiB);
    const at = 2 * MiB;
    const next = data.subarray(at, at + MiB);
    const expectStatus = async (res: Response, status: number) => {
      const body = await res.text();
      expect({ status: res.status, body }).toEqual({ status, body: expect.any(String) });
      expect(body.trim().length).toBeGreaterThan(0);
      expect(await headOffset(url)).toBe(at);
    };

    // 409: offset ahead of and behind the server's.
    await expectStatus(await patch(url, at + 1, next), 409);
    await expectStatus(await patch(url, at - 1, next), 409);
    // 404: unknown upload, for HEAD, PATCH and DELETE.
    const missing = `${server.url}/0123456789abcdef0123456789abcdef`;
    expect((await tus(missing, 'HEAD')).status).toBe(404);
    await expectStatus(await patch(missing, 0, next), 404);
    await expectStatus(await tus(missing, 'DELETE'), 404);
    // 412: no Tus-Resumable, or a version we do not speak.
    await expectStatus(
      await tus(
        url,
        'PATCH',
        {
          'Tus-Resumable': undefined,
          'Upload-Offset': String(at),
          'Content-Type': 'application/offset+octet-stream',
        },
        next,
      ),
      412,
    );
    await expectStatus(
      await tus(
        url,
        'PATCH',
        {
          'Tus-Resumable': '0.2.2',
          'Upload-Offset': String(at),
          'Content-Type': 'application/offset+octet-stream',
        },
        next,
      ),
      412,
    );
    // 415: wrong or missing media type on PATCH.
    await expectStatus(
      await patch(url, at, next, { 'Content-Type': 'application/octet-stream' }),
      415,
    );
    await expectStatus(await tus(url, 'PATCH', { 'Upload-Offset': String(at) }, next), 415);
    // 400: malformed Upload-Offset; Upload-Length on a non-deferred upload.
    await expectStatus(await patch(url, at, next, { 'Upload-Offset': 'abc' }), 400);
    await expectStatus(await patch(url, at, next, { 'Upload-Length': String(data.length) }), 400);
    // 413: more bytes than the declared length.
    await expectStatus(
      await patch(url, at, Buffer.concat([data.subarray(at), Buffer.alloc(10)])),
      413,
    );

    expect(await uploadRest(url, data, at, 3 * MiB)).toBe(data.length);
    expect(await backend.sha256Of(idOf(url))).toBe(sha256Hex(data));
  });

  it('refuses bad creation requests with 400 / 412 / 413', async () => {
    const post = (headers: Record<string, string | undefined>) => tus(server.url, 'POST', headers);
    for (const bad of ['abc', '-1', '1.5', '']) {
      expect((await post({ 'Upload-Length': bad })).status).toBe(400);
    }
    expect((await post({})).status).toBe(400);
    expect((await post({ 'Upload-Length': '5', 'Upload-Defer-Length': '1' })).status).toBe(400);
    expect((await post({ 'Upload-Defer-Length': '2' })).status).toBe(400);
    expect(
      (await post({ 'Upload-Length': '5', 'Upload-Metadata': 'bad key with spaces' })).status,
    ).toBe(400);
    expect((await post({ 'Upload-Length': '5', 'Tus-Resumable': undefined })).status).toBe(412);
    const tooBig = await post({ 'Upload-Length': String(MAX + 1) });
    expect(tooBig.status).toBe(413);
    expect((await tooBig.text()).trim()).not.toBe('');
  });

  it('refuses a deferred upload that grows past the max size with 413, keeping its bytes', async () => {
    const url = await createUpload(server.url, 'deferred');
    const first = randomBytes(MAX - MiB);
    expect(await uploadRest(url, first, 0, 8 * MiB)).toBe(first.length);
    const res = await patch(url, first.length, randomBytes(2 * MiB));
    expect(res.status).toBe(413);
    const offset = await headOffset(url);
    expect(offset).toBeGreaterThanOrEqual(first.length);
    expect(offset).toBeLessThanOrEqual(MAX);
    // Still completes: declare the length at the current offset.
    const done = await patch(url, offset, new Uint8Array(), { 'Upload-Length': String(offset) });
    expect(done.status).toBe(204);
  });

  it('never mixes the bytes of two concurrent PATCHes to one upload', async () => {
    const size = 12 * MiB;
    const good = randomBytes(size);
    const evil = Buffer.alloc(size, 0xbb);
    const url = await createUpload(server.url, size);

    // PATCH A streams the real bytes slowly; PATCH B sends 0xBB at the same offset.
    const slowA = rawPatch(url, 0, size, (req) => {
      let sent = 0;
      const step = 256 * 1024;
      const timer = setInterval(() => {
        if (sent >= 4 * MiB) {
          clearInterval(timer);
          // Stalls here holding the lock until B asks for it.
          return;
        }
        req.write(good.subarray(sent, sent + step));
        sent += step;
      }, 20);
    });
    await new Promise((r) => setTimeout(r, 300));
    const b = await patch(url, 0, evil);
    const a = await slowA;
    // B either lost the race for the offset (409) or A was stopped first; never both wrote at 0.
    expect([204, 409]).toContain(b.status);
    expect([204, -1, 400, 409, 500]).toContain(a);

    const offset = await headOffset(url);
    expect(await uploadRest(url, good, offset)).toBe(size);
    const stored = sha256Hex(good);
    const mixedWithB = sha256Hex(Buffer.concat([evil.subarray(0, offset), good.subarray(offset)]));
    const result = await backend.sha256Of(idOf(url));
    // Each byte range came wholly from one request: either all of A's prefix, or all of B's.
    expect([stored, mixedWithB]).toContain(result);
    if (b.status === 409) expect(result).toBe(stored);
  });

  it("a request that cannot get its upload's lock in time gets 423, the upload intact", async () => {
    const locked = await startInProcess({
      ...backend.options,
      partSize: 5 * MiB,
      locker: new MemoryLocker({ acquireLockTimeout: 300 }),
    });
    try {
      const data = randomBytes(3 * MiB);
      const url = await createUpload(locked.url, data.length);
      // The holder is asked to let go but drains for @tus/server's 3 s: longer than 300 ms.
      const stalled = await stalledPatch(url, 0, data.length, data.subarray(0, MiB));
      await new Promise((r) => setTimeout(r, 200));
      const res = await tus(url, 'HEAD');
      expect(res.status).toBe(423);
      expect(res.headers.get('content-type') ?? '').not.toContain('html');
      stalled.socket.destroy();
      let offset = -1;
      for (let i = 0; i < 50 && offset < 0; i++) {
        const head = await tus(url, 'HEAD');
        if (head.status === 200) offset = Number(head.headers.get('upload-offset'));
        else await new Promise((r) => setTimeout(r, 200));
      }
      expect(offset).toBe(MiB);
      expect(await uploadRest(url, data, offset)).toBe(data.length);
      expect(await backend.sha256Of(idOf(url))).toBe(sha256Hex(data));
    } finally {
      await locked.close();
    }
  });
});
