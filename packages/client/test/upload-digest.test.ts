// Whole-file digest (option `digest`, issue 22) against the fake server: SHA-256 of the
// whole source declared as Repr-Digest on creation; a 460 on the request that brings the
// last byte is a DigestMismatchError, never resent; a resume takes the digest from the
// store instead of hashing again.
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DigestMismatchError, type TusError } from '../src/errors.js';
import { blobSource } from '../src/sources/blob.js';
import { nodeFileSource } from '../src/sources/node-file.js';
import { streamSource } from '../src/sources/stream.js';
import type { UploadSource } from '../src/sources/types.js';
import { MemoryStore } from '../src/stores/memory.js';
import { Upload, type UploadOptions } from '../src/upload.js';
import { bytes, FakeTusServer, type SeenRequest } from './fake-server.js';

const ENDPOINT = 'http://127.0.0.1:1/files';
const reprOf = (d: Uint8Array) => `sha-256=:${createHash('sha256').update(d).digest('base64')}:`;

function start(server: FakeTusServer, source: UploadSource, o: Partial<UploadOptions> = {}) {
  const upload = new Upload(source, {
    endpoint: ENDPOINT,
    fetch: server.fetch,
    chunkSize: 1000,
    retry: { delays: [0, 0, 0] },
    digest: 'sha256',
    ...o,
  });
  const digests: Array<{ reprDigest: string; fromStore: boolean }> = [];
  upload.on('digest', (e) => digests.push(e));
  const retries: TusError[] = [];
  upload.on('retry', (e) => retries.push(e.error));
  return { upload, digests, retries };
}

/** A Blob source that records the ranges read. */
function countingBlob(data: Uint8Array<ArrayBuffer>) {
  const src = blobSource(new Blob([data]));
  const reads: Array<[number, number]> = [];
  const read = src.read.bind(src);
  src.read = (s, e) => {
    reads.push([s, e]);
    return read(s, e);
  };
  return { src, reads };
}

test('Blob: the creation POST declares SHA-256 of the whole file; PATCHes do not repeat it', async () => {
  const data = bytes(3500);
  const server = new FakeTusServer();
  const { upload, digests } = start(server, blobSource(new Blob([data])));
  const r = await upload.start();
  expect(digests).toEqual([{ reprDigest: reprOf(data), fromStore: false, thread: 'main' }]);
  const post = server.requests.find((q) => q.method === 'POST')!;
  expect(post.headers['repr-digest']).toBe(reprOf(data));
  const patches = server.requests.filter((q) => q.method === 'PATCH');
  expect(patches.length).toBeGreaterThan(0);
  expect(patches.every((q) => q.headers['repr-digest'] === undefined)).toBe(true);
  expect(Buffer.from(server.bytesOf(r.url))).toEqual(Buffer.from(data));
});

test('Node file (node:crypto over ranged reads): the same header', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'tus-digest-'));
  try {
    const data = bytes(9_000_001, 7); // more than one 4 MiB piece
    const file = path.join(dir, 'f.bin');
    await writeFile(file, data);
    const server = new FakeTusServer();
    const { upload } = start(server, await nodeFileSource(file), { chunkSize: 4 * 1024 * 1024 });
    await upload.start();
    const post = server.requests.find((q) => q.method === 'POST')!;
    expect(post.headers['repr-digest']).toBe(reprOf(data));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('460 on the last PATCH: DigestMismatchError, not resent, entry forgotten', async () => {
  const data = bytes(3500);
  const server = new FakeTusServer();
  // No Upload-Checksum, so only the whole-file digest can notice a changed byte.
  server.corrupt = (req: SeenRequest, body: Uint8Array) => {
    if (req.method !== 'PATCH' || req.headers['upload-offset'] !== '3000') return body;
    const b = body.slice();
    b[3] = b[3]! ^ 1;
    return b;
  };
  const store = new MemoryStore();
  const { upload, retries } = start(server, blobSource(new Blob([data])), {
    checksum: false,
    store,
  });
  const err = await upload.start().catch((e: unknown) => e);
  expect(err).toBeInstanceOf(DigestMismatchError);
  expect(err).toMatchObject({ kind: 'digest', status: 460, method: 'PATCH' });
  expect((err as Error).message).toContain('whole-file digest mismatch');
  expect((err as Error).message).toContain(reprOf(data));
  expect(server.digestMismatches).toBe(1);
  const last = server.requests.filter((q) => q.headers['upload-offset'] === '3000');
  expect(last).toHaveLength(1);
  expect(retries).toEqual([]);
  expect(await store.list()).toEqual([]);
});

test('a 460 on a PATCH before the last byte is still a checksum resend', async () => {
  const data = bytes(3500);
  const server = new FakeTusServer();
  server.extensions += ',checksum';
  let flipped = false;
  server.corrupt = (req: SeenRequest, body: Uint8Array) => {
    if (req.method !== 'PATCH' || flipped) return body;
    flipped = true;
    const b = body.slice();
    b[0] = b[0]! ^ 1;
    return b;
  };
  const { upload, retries } = start(server, blobSource(new Blob([data])));
  await upload.start();
  expect(server.checksumMismatches).toBe(1);
  expect(retries).toHaveLength(1);
  expect(server.digestMismatches).toBe(0);
});

test('460 on a creation POST that carries the whole file: DigestMismatchError', async () => {
  const data = bytes(800);
  const server = new FakeTusServer();
  server.corrupt = (req, body) =>
    req.method === 'POST' ? body.map((x, i) => (i ? x : x ^ 1)) : body;
  const { upload } = start(server, blobSource(new Blob([data])), { checksum: false });
  const err = await upload.start().catch((e: unknown) => e);
  expect(err).toBeInstanceOf(DigestMismatchError);
  expect(err).toMatchObject({ method: 'POST' });
  expect(server.requests.filter((q) => q.method === 'POST')).toHaveLength(1);
});

test('a resume takes the digest from the store and does not hash again', async () => {
  const data = bytes(3500);
  const server = new FakeTusServer();
  const store = new MemoryStore();
  const first = start(server, blobSource(new Blob([data])), { store });
  first.upload.on('chunk', () => first.upload.abort());
  await expect(first.upload.start()).rejects.toMatchObject({ kind: 'aborted' });
  expect((await store.list())[0]?.digest).toBe(reprOf(data));

  const { src, reads } = countingBlob(data);
  const second = start(server, src, { store });
  const r = await second.upload.start();
  expect(second.digests).toEqual([{ reprDigest: reprOf(data), fromStore: true }]);
  // Only the remaining chunks were read: no pass from byte 0 to hash.
  expect(reads.every(([s]) => s > 0)).toBe(true);
  expect(Buffer.from(server.bytesOf(r.url))).toEqual(Buffer.from(data));
});

test('resuming an upload URL created without a digest: declared on the next PATCH', async () => {
  const data = bytes(3500);
  const server = new FakeTusServer();
  const plain = new Upload(blobSource(new Blob([data])), {
    endpoint: ENDPOINT,
    fetch: server.fetch,
    chunkSize: 1000,
  });
  plain.on('chunk', () => plain.abort());
  await plain.start().catch(() => {});
  const { upload } = start(server, blobSource(new Blob([data])), { uploadUrl: plain.url! });
  await upload.start();
  const patches = server.requests.filter((q) => q.method === 'PATCH');
  const declared = patches.filter((q) => q.headers['repr-digest'] === reprOf(data));
  expect(declared).toHaveLength(1);
  expect(declared[0]).toBe(patches[0]); // the first one; the rest need not repeat it
  expect(server.requests.find((q) => q.method === 'POST')!.headers['repr-digest']).toBeUndefined();
});

test('parallel: the final POST declares it, the partials do not; a 460 there is final', async () => {
  const data = bytes(7300, 3);
  const ok = new FakeTusServer();
  ok.extensions += ',concatenation';
  ok.partSize = 1000;
  const good = start(ok, blobSource(new Blob([data])), { parallel: 4, chunkSize: 400 });
  const r = await good.upload.start();
  expect(Buffer.from(ok.bytesOf(r.url))).toEqual(Buffer.from(data));
  const posts = ok.requests.filter((q) => q.method === 'POST');
  const finals = posts.filter((q) => q.headers['upload-concat']?.startsWith('final;'));
  expect(finals.map((q) => q.headers['repr-digest'])).toEqual([reprOf(data)]);
  expect(posts.filter((q) => q.headers['repr-digest'] !== undefined)).toHaveLength(1);

  const bad = new FakeTusServer();
  bad.extensions += ',concatenation';
  bad.partSize = 1000;
  let flipped = false;
  bad.corrupt = (req, body) => {
    if (req.method !== 'PATCH' || flipped) return body;
    flipped = true;
    return body.map((x, i) => (i ? x : x ^ 1));
  };
  const store = new MemoryStore();
  const failing = start(bad, blobSource(new Blob([data])), {
    parallel: 4,
    chunkSize: 400,
    checksum: false,
    store,
  });
  const err = await failing.upload.start().catch((e: unknown) => e);
  expect(err).toBeInstanceOf(DigestMismatchError);
  expect(err).toMatchObject({ method: 'POST', kind: 'digest' });
  const finalPosts = bad.requests.filter((q) => q.headers['upload-concat']?.startsWith('final;'));
  expect(finalPosts).toHaveLength(1);
  expect(await store.list()).toEqual([]);
});

test('final first with a digest: a 460 on the final once its partials are in is the digest error', async () => {
  const data = bytes(7300, 5);
  const server = new FakeTusServer();
  server.extensions += ',concatenation,concatenation-unfinished';
  server.partSize = 1000;
  let flipped = false;
  server.corrupt = (req, body) => {
    if (req.method !== 'PATCH' || flipped) return body;
    flipped = true;
    return body.map((x, i) => (i ? x : x ^ 1));
  };
  const store = new MemoryStore();
  const { upload, retries } = start(server, blobSource(new Blob([data])), {
    parallel: 4,
    chunkSize: 400,
    checksum: false,
    store,
  });
  const err = await upload.start().catch((e: unknown) => e);
  expect(err).toBeInstanceOf(DigestMismatchError);
  expect(err).toMatchObject({ method: 'HEAD', kind: 'digest', status: 460 });
  expect(retries).toEqual([]);
  // The final came first (before any PATCH) and carried the digest; it was asked once.
  const first = server.requests.findIndex((q) => q.method === 'PATCH');
  const finals = server.requests.filter((q) => q.headers['upload-concat']?.startsWith('final;'));
  expect(finals.map((q) => q.headers['repr-digest'])).toEqual([reprOf(data)]);
  expect(server.requests.indexOf(finals[0]!)).toBeLessThan(first);
  // Fresh partials need no HEAD: the one HEAD is the final's, answered 460, not retried.
  expect(server.requests.filter((q) => q.method === 'HEAD')).toHaveLength(1);
  expect(await store.list()).toEqual([]);
});

test('a one-pass stream cannot be hashed first: unsupported, before any request', async () => {
  const server = new FakeTusServer();
  const src = streamSource(new Blob([bytes(100)]).stream());
  const { upload } = start(server, src);
  await expect(upload.start()).rejects.toMatchObject({ kind: 'unsupported' });
  expect(server.requests).toEqual([]);
});
