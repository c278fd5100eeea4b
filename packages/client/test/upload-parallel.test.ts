// Parallel uploads in the state machine (fake server, no sockets): partials aligned to the
// server's part size, every partial URL in the store, the final POST, resume, fallback.
import { TusError } from '../src/errors.js';
import { blobSource } from '../src/sources/blob.js';
import { streamSource } from '../src/sources/stream.js';
import { MemoryStore } from '../src/stores/memory.js';
import type { StoredUpload } from '../src/stores/types.js';
import { Upload, type UploadOptions } from '../src/upload.js';
import { bytes, FakeTusServer } from './fake-server.js';

const ENDPOINT = 'http://127.0.0.1:1/files';
const EXT = 'creation,creation-with-upload,termination,checksum,concatenation';

function file(data: Uint8Array<ArrayBuffer>) {
  return blobSource(new File([data], 'p.bin', { type: 'application/x-test', lastModified: 5 }));
}

function setup(
  data: Uint8Array<ArrayBuffer>,
  o: Partial<UploadOptions> = {},
  server = new FakeTusServer(),
) {
  if (server.extensions !== EXT && !o.fetch) server.extensions = EXT;
  server.partSize ??= 1000;
  const upload = new Upload(file(data), {
    endpoint: ENDPOINT,
    fetch: server.fetch,
    chunkSize: 400,
    retry: { delays: [0, 0, 0] },
    parallel: 4,
    ...o,
  });
  const events: Array<[string, unknown]> = [];
  for (const e of ['parallel', 'partial', 'fallback', 'created', 'success'] as const) {
    upload.on(e, (p) => events.push([e, p]));
  }
  const progress: Array<[number, number]> = [];
  upload.on('progress', (p) => progress.push([p.bytesSent, p.bytesAcknowledged]));
  return { server, upload, events, progress };
}

const monotonic = (xs: number[]) => xs.every((x, i) => i === 0 || x >= xs[i - 1]!);

test('4 partials aligned to Tus-S3-Part-Size, then one final POST; exact; monotonic progress', async () => {
  const data = bytes(7300, 11);
  const { server, upload, events, progress } = setup(data);
  const r = await upload.start();
  expect(Buffer.from(server.bytesOf(r.url))).toEqual(Buffer.from(data));
  expect(r.size).toBe(7300);

  const posts = server.requests.filter((q) => q.method === 'POST');
  const partialPosts = posts.filter((q) => q.headers['upload-concat'] === 'partial');
  expect(partialPosts.map((q) => Number(q.headers['upload-length'])).sort()).toEqual([
    1300, 2000, 2000, 2000,
  ]);
  // Partials carry no file metadata; the final does.
  expect(partialPosts.every((q) => q.headers['upload-metadata'] === undefined)).toBe(true);
  const final = posts.at(-1)!;
  expect(final.headers['upload-concat']).toMatch(/^final;/);
  expect(final.headers['upload-length']).toBeUndefined();
  expect(final.bodySize).toBe(0);
  expect(final.headers['upload-metadata']).toContain('filename');
  const urls = final.headers['upload-concat']!.slice(6).split(' ');
  expect(urls).toHaveLength(4);
  expect(urls.every((u) => u.startsWith('http://127.0.0.1:1/files/'))).toBe(true);
  // In file order: the partial of range 0 first.
  const parallel = events.find(([n]) => n === 'parallel')![1] as {
    partials: Array<{ start: number; end: number }>;
    alignment: number;
  };
  expect(parallel.alignment).toBe(1000);
  expect(parallel.partials.map((p) => [p.start, p.end])).toEqual([
    [0, 2000],
    [2000, 4000],
    [4000, 6000],
    [6000, 7300],
  ]);
  expect(server.uploads.get(urls[3]!.split('/').pop()!)!.length).toBe(1300);
  // Every body request carried a checksum (the server advertises it).
  for (const q of server.requests.filter((x) => x.bodySize > 0)) {
    expect(q.headers['upload-checksum']).toMatch(/^sha256 /);
  }
  expect(monotonic(progress.map((p) => p[0]))).toBe(true);
  expect(monotonic(progress.map((p) => p[1]))).toBe(true);
  expect(progress.at(-1)).toEqual([7300, 7300]);
  expect(upload.progress.bytesTotal).toBe(7300);
  // created + done for each partial.
  expect(events.filter(([n]) => n === 'partial')).toHaveLength(8);
});

test('the store keeps every partial URL and offset under the fingerprint; removed on success', async () => {
  const data = bytes(7300, 12);
  const store = new MemoryStore();
  const snapshots: StoredUpload[] = [];
  const set = store.set.bind(store);
  store.set = async (e) => {
    snapshots.push(structuredClone(e));
    await set(e);
  };
  const { upload } = setup(data, { store });
  await upload.start();
  expect(await store.list()).toEqual([]);
  const last = snapshots.at(-1)!;
  expect(last.partials).toHaveLength(4);
  expect(last.partials!.every((p) => p.uploadUrl !== null)).toBe(true);
  expect(last.partials!.map((p) => p.offset)).toEqual([2000, 2000, 2000, 1300]);
  expect(last.fingerprint).toContain('tus-s3::');
  expect(last.size).toBe(7300);
});

test('interrupted, then a new Upload resumes every partial from its server offset', async () => {
  const data = bytes(7300, 13);
  const store = new MemoryStore();
  const server = new FakeTusServer();
  server.extensions = EXT;
  // Partials accept 2 chunks, then the server dies (400s stop the first run).
  let patches = 0;
  server.intercept = (req) =>
    req.method === 'PATCH' && ++patches > 4 ? { status: 400, body: 'down' } : undefined;
  const first = setup(data, { store, creationWithUpload: false }, server);
  const err = await first.upload.start().catch((e: unknown) => e);
  expect(err).toBeInstanceOf(TusError);
  const entry = (await store.list())[0]!;
  expect(entry.partials).toHaveLength(4);
  const offsets = [...server.uploads.values()].map((u) => u.offset);
  expect(offsets.reduce((a, b) => a + b, 0)).toBe(1600);

  server.intercept = null;
  server.requests.length = 0;
  const second = setup(data, { store, parallel: 2 }, server); // the stored layout wins
  const r = await second.upload.start();
  expect(Buffer.from(server.bytesOf(r.url))).toEqual(Buffer.from(data));
  const resumed = second.events.filter(
    ([n, p]) => n === 'partial' && (p as { state: string }).state === 'resumed',
  );
  expect(resumed).toHaveLength(4);
  for (const [, p] of resumed) {
    const e = p as { url: string; offset: number };
    expect(e.offset).toBe(entry.partials!.find((x) => x.uploadUrl === e.url)!.offset);
  }
  // Nothing already acknowledged was sent again.
  const sent = server.requests.reduce((a, q) => a + q.bodySize, 0);
  expect(sent).toBe(7300 - 1600);
  expect(server.requests.filter((q) => q.method === 'POST')).toHaveLength(1); // only the final
  expect(await store.list()).toEqual([]);
});

test('a partial that is gone (404) is created again; the others resume', async () => {
  const data = bytes(7300, 14);
  const store = new MemoryStore();
  const server = new FakeTusServer();
  server.extensions = EXT;
  let patches = 0;
  server.intercept = (req) =>
    req.method === 'PATCH' && ++patches > 4 ? { status: 400, body: 'down' } : undefined;
  await setup(data, { store, creationWithUpload: false }, server)
    .upload.start()
    .catch(() => {});
  server.intercept = null;
  const gone = (await store.list())[0]!.partials![2]!.uploadUrl!;
  server.uploads.delete(gone.split('/').pop()!);
  const second = setup(data, { store }, server);
  const r = await second.upload.start();
  expect(Buffer.from(server.bytesOf(r.url))).toEqual(Buffer.from(data));
  const states = second.events
    .filter(([n]) => n === 'partial')
    .map(([, p]) => `${(p as { index: number }).index}:${(p as { state: string }).state}`);
  expect(states).toContain('2:restarted');
  expect(states).toContain('2:created');
});

test('server without concatenation: one upload, and a fallback event says why', async () => {
  const data = bytes(7300, 15);
  const server = new FakeTusServer();
  server.extensions = 'creation,creation-with-upload';
  const { upload, events } = setup(data, { fetch: server.fetch });
  const r = await upload.start();
  expect(Buffer.from(server.bytesOf(r.url))).toEqual(Buffer.from(data));
  const fb = events.filter(([n]) => n === 'fallback');
  expect(fb).toHaveLength(1);
  expect((fb[0]![1] as { reason: string }).reason).toMatch(/concatenation/);
  expect(server.requests.some((q) => q.headers['upload-concat'] !== undefined)).toBe(false);
});

test('a stream source falls back to one deferred-length upload', async () => {
  const data = bytes(3000, 16);
  const server = new FakeTusServer();
  server.extensions = `${EXT},creation-defer-length`;
  const upload = new Upload(streamSource(new Blob([data]).stream()), {
    endpoint: ENDPOINT,
    fetch: server.fetch,
    chunkSize: 1000,
    parallel: 4,
  });
  const reasons: string[] = [];
  upload.on('fallback', (e) => reasons.push(e.reason));
  const r = await upload.start();
  expect(reasons).toEqual(['the size is unknown (deferred length)']);
  expect(Buffer.from(server.bytesOf(r.url))).toEqual(Buffer.from(data));
});

test('final POST: 5xx retried; a 400 fails with the server message', async () => {
  const data = bytes(4500, 17);
  const a = setup(data);
  let fails = 1;
  a.server.intercept = (req) =>
    req.headers['upload-concat']?.startsWith('final;') && fails-- > 0
      ? { status: 503, body: 'busy' }
      : undefined;
  const r = await a.upload.start();
  expect(Buffer.from(a.server.bytesOf(r.url))).toEqual(Buffer.from(data));

  const b = setup(data);
  b.server.intercept = (req) =>
    req.headers['upload-concat']?.startsWith('final;')
      ? { status: 400, body: 'unfinished partial' }
      : undefined;
  const err = (await b.upload.start().catch((e: unknown) => e)) as TusError;
  expect(err.status).toBe(400);
  expect(err.message).toMatch(/concatenation failed \(HTTP 400\): unfinished partial/);
});

test('abort stops every partial; pause/resume completes', async () => {
  const data = bytes(7300, 18);
  const a = setup(data);
  a.upload.on('chunk', () => a.upload.abort());
  const err = (await a.upload.start().catch((e: unknown) => e)) as TusError;
  expect(err.kind).toBe('aborted');

  const b = setup(data);
  let paused = false;
  b.upload.on('chunk', () => {
    if (paused) return;
    paused = true;
    b.upload.pause();
    setTimeout(() => b.upload.resume(), 20);
  });
  const r = await b.upload.start();
  expect(Buffer.from(b.server.bytesOf(r.url))).toEqual(Buffer.from(data));
});

test('terminate() deletes every partial of an unfinished parallel upload and forgets it', async () => {
  const data = bytes(7300, 19);
  const store = new MemoryStore();
  const { server, upload } = setup(data, { store, creationWithUpload: false });
  let acks = 0;
  upload.on('chunk', () => {
    if (++acks === 2) void upload.terminate();
  });
  await upload.start().catch(() => {});
  await new Promise((r) => setTimeout(r, 20));
  const deletes = server.requests.filter((q) => q.method === 'DELETE');
  expect(deletes).toHaveLength(4);
  expect(server.uploads.size).toBe(0);
  expect(await store.list()).toEqual([]);
});

describe('final first (the server advertises concatenation-unfinished)', () => {
  const UNFINISHED = `${EXT},concatenation-unfinished`;

  test('partials created without bytes, then the final, then the bytes; exact', async () => {
    const server = new FakeTusServer();
    server.extensions = UNFINISHED;
    const data = bytes(7300, 3);
    const store = new MemoryStore();
    const saved: StoredUpload[] = [];
    const set = store.set.bind(store);
    store.set = async (e) => {
      saved.push(JSON.parse(JSON.stringify(e)) as StoredUpload);
      return set(e);
    };
    const { upload, events } = setup(data, { store }, server);
    server.extensions = UNFINISHED;
    const r = await upload.start();
    expect(Buffer.from(server.bytesOf(r.url))).toEqual(Buffer.from(data));
    const methods = server.requests.map((q) => `${q.method} ${q.headers['upload-concat'] ?? ''}`);
    const finalAt = methods.findIndex((m) => m.startsWith('POST final;'));
    // Four bodiless partial POSTs, then the final, before any PATCH; one final only.
    expect(methods.slice(0, finalAt).filter((m) => m === 'POST partial')).toHaveLength(4);
    expect(methods.findIndex((m) => m.startsWith('PATCH'))).toBeGreaterThan(finalAt);
    expect(methods.filter((m) => m.startsWith('POST final;'))).toHaveLength(1);
    const partialPosts = server.requests.filter((q) => q.headers['upload-concat'] === 'partial');
    expect(partialPosts.every((q) => q.bodySize === 0)).toBe(true);
    // No HEAD of a partial just created; the final is HEADed once at the end.
    expect(methods.filter((m) => m.startsWith('HEAD'))).toHaveLength(1);
    // The final's URL is stored before any byte went out.
    const withFinal = saved.find((e) => e.finalUrl);
    expect(withFinal?.partials?.every((p) => p.uploadUrl && p.offset === 0)).toBe(true);
    expect(withFinal?.finalUrl).toBe(r.url);
    expect(await store.get(withFinal!.fingerprint)).toBeUndefined();
    expect(
      events.filter(([e, p]) => e === 'partial' && (p as { state: string }).state === 'created'),
    ).toHaveLength(4);
  });

  test('interrupted, resumed: the stored final completes with its partials', async () => {
    const server = new FakeTusServer();
    server.extensions = UNFINISHED;
    const data = bytes(7300, 5);
    const store = new MemoryStore();
    const first = setup(data, { store }, server);
    server.extensions = UNFINISHED;
    first.upload.on('chunk', () => first.upload.abort());
    await expect(first.upload.start()).rejects.toMatchObject({ kind: 'aborted' });
    const [entry] = await store.list();
    expect(entry?.finalUrl).toBeDefined();
    const second = setup(data, { store }, server);
    server.extensions = UNFINISHED;
    const r = await second.upload.start();
    expect(r.url).toBe(entry!.finalUrl);
    expect(Buffer.from(server.bytesOf(r.url))).toEqual(Buffer.from(data));
    expect(
      server.requests.filter((q) => q.headers['upload-concat']?.startsWith('final;')),
    ).toHaveLength(1);
  });

  test('a refused final first (400) falls back to the final after the partials', async () => {
    const server = new FakeTusServer();
    server.extensions = UNFINISHED;
    server.partSize = 1000;
    const data = bytes(7300, 9);
    let refused = 0;
    const fetch = server.fetch;
    const r = await new Upload(file(data), {
      endpoint: ENDPOINT,
      chunkSize: 400,
      retry: { delays: [0] },
      parallel: 4,
      fetch: async (input, init) => {
        const h = new Headers(init?.headers);
        if (h.get('upload-concat')?.startsWith('final;') && refused++ === 0) {
          return new Response('not aligned', { status: 400 });
        }
        return fetch(input, init);
      },
    }).start();
    expect(refused).toBe(2);
    expect(Buffer.from(server.bytesOf(r.url))).toEqual(Buffer.from(data));
  });
});
