// Instant upload (option `dedupe`, issue 22) against the fake server, which answers the
// protocol of the server README: creation with Upload-Instant -> challenge; proof PATCH ->
// Upload-Offset N (proven) or 0. Proven: no byte sent; otherwise an ordinary upload with
// the declared digest follows. The attempt is made once, whatever fails.
import { createHash } from 'node:crypto';
import { parseChallengeHeader, proofHeader } from '../src/instant/challenge.js';
import { computeInstantProof } from '../src/instant/proof.js';
import { blobSource } from '../src/sources/blob.js';
import { MemoryStore } from '../src/stores/memory.js';
import { Upload, type UploadOptions } from '../src/upload.js';
import type { InstantReport } from '../src/upload-events.js';
import { bytes, FakeTusServer } from './fake-server.js';

const ENDPOINT = 'http://127.0.0.1:1/files';
const EXT = 'creation,creation-with-upload,termination,instant-upload';
const reprOf = (d: Uint8Array) => `sha-256=:${createHash('sha256').update(d).digest('base64')}:`;

/** A server whose tenant already stores `stored` (each under its digest and length). */
function serverWith(...stored: Uint8Array[]) {
  const server = new FakeTusServer();
  server.extensions = EXT;
  server.instantContents = new Map(stored.map((d) => [`${reprOf(d)} ${d.length}`, d]));
  return server;
}

/** A File source that records the ranges read. */
function source(data: Uint8Array<ArrayBuffer>) {
  const src = blobSource(new File([data], 'i.bin', { lastModified: 9 }));
  const reads: Array<[number, number]> = [];
  const read = src.read.bind(src);
  src.read = (s, e) => {
    reads.push([s, e]);
    return read(s, e);
  };
  return { src, reads };
}

function start(
  server: FakeTusServer,
  data: Uint8Array<ArrayBuffer>,
  o: Partial<UploadOptions> = {},
) {
  const { src, reads } = source(data);
  const upload = new Upload(src, {
    endpoint: ENDPOINT,
    fetch: server.fetch,
    chunkSize: 10_000,
    retry: { delays: [0, 0] },
    dedupe: true,
    ...o,
  });
  const reports: InstantReport[] = [];
  upload.on('instant', (r) => reports.push(r));
  return { upload, reports, reads };
}

const patches = (s: FakeTusServer) => s.requests.filter((q) => q.method === 'PATCH');
const proofsSent = (s: FakeTusServer) =>
  patches(s).filter((q) => q.headers['upload-instant-proof'] !== undefined);

test('proven: complete with no byte sent, one proof PATCH with an empty body', async () => {
  const data = bytes(50_000, 3);
  const server = serverWith(data);
  const { upload, reports } = start(server, data);
  const r = await upload.start();
  expect(r.instant).toEqual({ outcome: 'instant', message: 'the server already had this content' });
  expect(reports).toEqual([r.instant]);
  expect(r.size).toBe(50_000);
  expect(upload.progress).toEqual({ bytesSent: 0, bytesAcknowledged: 50_000, bytesTotal: 50_000 });
  const post = server.requests.find((q) => q.method === 'POST')!;
  expect(post.headers).toMatchObject({
    'upload-instant': '?1',
    'repr-digest': reprOf(data),
    'upload-length': '50000',
  });
  expect(post.bodySize).toBe(0);
  expect(patches(server)).toHaveLength(1);
  expect(patches(server)[0]!.bodySize).toBe(0);
  expect(patches(server)[0]!.headers['upload-offset']).toBe('0');
  expect(server.proofs).toEqual({ answered: 1, proven: 1 });
  expect(Buffer.from(server.bytesOf(r.url))).toEqual(Buffer.from(data));
});

test('the proof is the pure helper over exactly the challenge ranges, read one by one', async () => {
  const data = bytes(300_000, 5);
  const server = serverWith(data);
  const challenges: string[] = [];
  const fetch = server.fetch;
  const spy = (async (input: string | URL | Request, init?: RequestInit) => {
    const res = await fetch(input, init);
    const c = res.headers.get('Upload-Instant-Challenge');
    if (c) challenges.push(c);
    return res;
  }) as typeof globalThis.fetch;
  const { upload, reads } = start(server, data, { fetch: spy });
  await upload.start();
  const challenge = parseChallengeHeader(challenges[0], data.length)!;
  expect(challenge.offsets).toHaveLength(16);
  // The digest reads the whole file first (one 4 MiB piece here); then only the ranges.
  expect(reads[0]).toEqual([0, data.length]);
  expect(reads.slice(1)).toEqual(challenge.offsets.map((o) => [o, o + 4096]));
  const expected = await computeInstantProof(challenge, blobSource(new Blob([data])));
  expect(proofsSent(server)[0]!.headers['upload-instant-proof']).toBe(proofHeader(expected));
  const byHand = createHash('sha256').update(challenge.nonce);
  for (const o of challenge.offsets) byHand.update(data.subarray(o, o + 4096));
  expect(Buffer.from(expected)).toEqual(byHand.digest());
});

test('offset 0 (content not stored): the ordinary upload follows, digest declared', async () => {
  const data = bytes(25_000, 7);
  const server = serverWith(bytes(25_000, 8)); // the tenant has other content only
  const { upload, reports } = start(server, data);
  const r = await upload.start();
  expect(reports).toEqual([
    {
      outcome: 'uploaded',
      reason: 'not-proven',
      message: 'the server does not have this content for this tenant (or the challenge failed)',
    },
  ]);
  expect(r.instant).toEqual(reports[0]);
  expect(server.proofs).toEqual({ answered: 1, proven: 0 });
  const posts = server.requests.filter((q) => q.method === 'POST');
  expect(posts).toHaveLength(1);
  expect(posts[0]!.headers['repr-digest']).toBe(reprOf(data));
  const withBytes = patches(server).filter((q) => q.bodySize > 0);
  expect(withBytes.map((q) => q.headers['upload-offset'])).toEqual(['0', '10000', '20000']);
  expect(proofsSent(server)).toHaveLength(1);
  expect(upload.progress.bytesSent).toBe(25_000);
  expect(Buffer.from(server.bytesOf(r.url))).toEqual(Buffer.from(data));
});

test('a wrong proof (the file differs in a byte the server checks) uploads normally', async () => {
  const data = bytes(5000, 9);
  const server = serverWith(data);
  // Same digest and length claimed, but every range of the source differs.
  const other = bytes(5000, 10);
  server.instantContents!.set(`${reprOf(other)} 5000`, data);
  const { upload } = start(server, other);
  const r = await upload.start();
  expect(r.instant?.outcome).toBe('uploaded');
  expect(server.proofs).toEqual({ answered: 1, proven: 0 });
  expect(Buffer.from(server.bytesOf(r.url))).toEqual(Buffer.from(other));
});

test('advertised but no challenge header: ordinary upload of the same created upload', async () => {
  const data = bytes(12_000);
  const server = serverWith(data);
  server.instantContents = null; // the header is ignored, as by a server without it
  const { upload, reports } = start(server, data);
  const r = await upload.start();
  expect(reports.map((x) => [x.outcome, x.reason])).toEqual([['uploaded', 'no-challenge']]);
  expect(server.requests.filter((q) => q.method === 'POST')).toHaveLength(1);
  expect(proofsSent(server)).toEqual([]);
  expect(server.requests.some((q) => q.method === 'HEAD')).toBe(false);
  expect(Buffer.from(server.bytesOf(r.url))).toEqual(Buffer.from(data));
});

test('a server that does not advertise instant-upload: no Upload-Instant at all', async () => {
  const data = bytes(12_000);
  const server = serverWith(data);
  server.extensions = 'creation,creation-with-upload';
  const { upload, reports } = start(server, data);
  const r = await upload.start();
  expect(reports[0]).toMatchObject({ outcome: 'uploaded', reason: 'no-challenge' });
  const post = server.requests.find((q) => q.method === 'POST')!;
  expect(post.headers['upload-instant']).toBeUndefined();
  expect(post.headers['repr-digest']).toBe(reprOf(data));
  expect(post.bodySize).toBe(10_000); // creation-with-upload as usual
  expect(Buffer.from(server.bytesOf(r.url))).toEqual(Buffer.from(data));
});

test('400 to the creation with Upload-Instant: created again without it, once', async () => {
  const data = bytes(8000);
  const server = serverWith(data);
  server.intercept = (req) =>
    req.method === 'POST' && req.headers['upload-instant']
      ? { status: 400, body: 'Upload-Instant: not here' }
      : undefined;
  const { upload, reports } = start(server, data);
  const r = await upload.start();
  expect(reports).toEqual([
    {
      outcome: 'uploaded',
      reason: 'refused',
      message: 'the server refused Upload-Instant (HTTP 400: Upload-Instant: not here)',
    },
  ]);
  const posts = server.requests.filter((q) => q.method === 'POST');
  expect(posts.map((q) => q.headers['upload-instant'])).toEqual(['?1', undefined]);
  expect(posts[1]!.headers['repr-digest']).toBe(reprOf(data));
  expect(Buffer.from(server.bytesOf(r.url))).toEqual(Buffer.from(data));
});

test('the proof answer is lost after the server copied: one HEAD says instant, no resend', async () => {
  const data = bytes(9000);
  const server = serverWith(data);
  const fetch = server.fetch;
  const lossy = (async (input: string | URL | Request, init?: RequestInit) => {
    const res = await fetch(input, init);
    const h = (init?.headers ?? {}) as Record<string, string>;
    if (h['Upload-Instant-Proof']) throw new TypeError('fetch failed'); // answer lost
    return res;
  }) as typeof globalThis.fetch;
  const { upload, reports } = start(server, data, { fetch: lossy });
  const r = await upload.start();
  expect(reports[0]).toMatchObject({ outcome: 'instant' });
  expect(proofsSent(server)).toHaveLength(1);
  expect(server.requests.filter((q) => q.method === 'HEAD')).toHaveLength(1);
  expect(upload.progress.bytesSent).toBe(0);
  expect(Buffer.from(server.bytesOf(r.url))).toEqual(Buffer.from(data));
});

test('the proof fails (5xx) before the server looked: ordinary upload, proof never resent', async () => {
  const data = bytes(9000);
  const server = serverWith(data);
  server.intercept = (req) =>
    req.headers['upload-instant-proof'] ? { status: 503, body: 'busy' } : undefined;
  const { upload, reports } = start(server, data);
  const r = await upload.start();
  expect(reports[0]).toMatchObject({ outcome: 'uploaded', reason: 'failed' });
  expect(reports[0]!.message).toContain('HTTP 503');
  expect(proofsSent(server)).toHaveLength(1);
  expect(Buffer.from(server.bytesOf(r.url))).toEqual(Buffer.from(data));
});

test('paused during the creation: asked again once resumed, then instant', async () => {
  const data = bytes(9000);
  const server = serverWith(data);
  let hung = 0;
  server.hang = (req) => req.method === 'POST' && hung++ === 0;
  const { upload, reports } = start(server, data);
  const done = upload.start();
  while (server.requests.filter((q) => q.method === 'POST').length === 0) {
    await new Promise((r) => setTimeout(r, 5));
  }
  upload.pause();
  await new Promise((r) => setTimeout(r, 20));
  upload.resume();
  const r = await done;
  expect(reports).toEqual([expect.objectContaining({ outcome: 'instant' })]);
  const posts = server.requests.filter((q) => q.method === 'POST');
  expect(posts.map((q) => q.headers['upload-instant'])).toEqual(['?1', '?1']);
  expect(Buffer.from(server.bytesOf(r.url))).toEqual(Buffer.from(data));
});

test('resumed from the store after a crash: an ordinary resume, no second attempt', async () => {
  const data = bytes(30_000, 4);
  const server = serverWith(); // nothing stored: the first run uploads
  const store = new MemoryStore();
  const first = start(server, data, { store });
  first.upload.on('chunk', () => first.upload.abort());
  await expect(first.upload.start()).rejects.toMatchObject({ kind: 'aborted' });
  expect(first.reports[0]).toMatchObject({ reason: 'not-proven' });
  expect((await store.list())[0]?.digest).toBe(reprOf(data));

  const before = server.requests.length;
  const second = start(server, data, { store });
  const r = await second.upload.start();
  expect(second.reports).toEqual([
    {
      outcome: 'uploaded',
      reason: 'resumed',
      message: 'resumed an upload created earlier (its single-use challenge was spent then)',
    },
  ]);
  const later = server.requests.slice(before);
  expect(later.some((q) => q.method === 'POST' || q.headers['upload-instant-proof'])).toBe(false);
  expect(later[0]!.method).toMatch(/OPTIONS|HEAD/);
  expect(Buffer.from(server.bytesOf(r.url))).toEqual(Buffer.from(data));
  expect(await store.list()).toEqual([]);
});

test('parallel + dedupe, proven: no partial is created', async () => {
  const data = bytes(7300, 2);
  const server = serverWith(data);
  server.extensions += ',concatenation';
  server.partSize = 1000;
  const { upload } = start(server, data, { parallel: 4 });
  const r = await upload.start();
  expect(r.instant?.outcome).toBe('instant');
  expect(server.requests.filter((q) => q.method === 'POST')).toHaveLength(1);
  expect(upload.progress.bytesSent).toBe(0);
});

test('parallel + dedupe, not proven: the attempt is deleted, then partials and final', async () => {
  const data = bytes(7300, 2);
  const server = serverWith();
  server.extensions += ',concatenation';
  server.partSize = 1000;
  const store = new MemoryStore();
  const { upload, reports } = start(server, data, { parallel: 4, chunkSize: 400, store });
  const r = await upload.start();
  expect(reports[0]).toMatchObject({ reason: 'not-proven' });
  const attempt = server.requests.find((q) => q.headers['upload-instant'])!;
  expect(attempt.method).toBe('POST');
  const deleted = server.requests.filter((q) => q.method === 'DELETE');
  expect(deleted.map((q) => q.url)).toEqual([`${ENDPOINT}/u1`]);
  const posts = server.requests.filter((q) => q.method === 'POST');
  expect(posts.filter((q) => q.headers['upload-concat'] === 'partial')).toHaveLength(4);
  expect(posts.at(-1)!.headers['repr-digest']).toBe(reprOf(data));
  expect(Buffer.from(server.bytesOf(r.url))).toEqual(Buffer.from(data));
  expect(await store.list()).toEqual([]);
});

test('a 0-byte file: nothing to prove, an ordinary creation', async () => {
  const server = serverWith();
  const { upload, reports } = start(server, new Uint8Array(0));
  await upload.start();
  expect(reports[0]).toMatchObject({ outcome: 'uploaded', reason: 'empty' });
  expect(server.requests.some((q) => q.headers['upload-instant'])).toBe(false);
});

test('dedupe with the IETF draft is refused at construction (a tus extension)', () => {
  expect(() => start(serverWith(), bytes(10), { protocol: 'ietf-draft' })).toThrow(
    /`dedupe` speaks tus 1.0/,
  );
});

test('dedupe with digest: false is refused at construction', () => {
  expect(() => start(serverWith(), bytes(10), { digest: false })).toThrow(
    /needs the whole-file digest/,
  );
});
