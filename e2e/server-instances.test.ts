// Two server processes (the CLI) on one bucket and one Redis (--redis-url), as behind a
// load balancer: any instance serves any request, and the shared locker serializes the
// requests of one upload across them.
// - A PATCH stuck on one instance (its client's network gone, the socket half-open): a
//   HEAD on the other asks it to let go, the bytes it received count, the upload goes on.
// - The same for an IETF draft creation (interop 8) stuck on one instance after its 104:
//   the other's offset retrieval takes over, its append completes the upload.
// - Final POSTs over the same partials racing on both instances: one final.
// - DELETEs of one direct group on both instances at once: no deadlock, the group goes.
// - An instance SIGKILLed while it holds an upload's lock: the other serves the upload one
//   lease later, from the last acknowledged offset.
// - Our client, parallel 4, through a round-robin balancer over both: exact bytes.
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { Redis } from 'ioredis';
import { startBalancer } from './helpers/balancer.js';
import { lastLine, runCli } from './helpers/client-cli.js';
import { answered, raw, stalledDraftCreation } from './helpers/draft-http.js';
import { makeRandomFile, removeDir, tmpDir } from './helpers/files.js';
import { testRedisUrl } from './helpers/redis.js';
import { listKeys, listMultipartUploads } from './helpers/s3.js';
import {
  type Backend,
  type CliServer,
  createUpload,
  headOffset,
  idOf,
  patch,
  s3Backend,
  sha256Hex,
  startCli,
  tus,
} from './helpers/server.js';
import { stalledPatch } from './helpers/stalled-patch.js';

const MiB = 1024 * 1024;
const PS = 5 * MiB;
const LEASE_MS = 1000;

let backend: Backend;
let redis: Redis;
let a: CliServer;
let b: CliServer;
let dir: string;

const instance = () =>
  startCli([
    ...backend.cliArgs,
    '--part-size',
    '5MiB',
    '--redis-url',
    testRedisUrl(),
    '--lock-lease',
    `${LEASE_MS}ms`,
  ]);

beforeAll(async () => {
  backend = await s3Backend('mi/');
  redis = new Redis(testRedisUrl());
  dir = await tmpDir('instances-');
});

afterAll(async () => {
  await redis?.quit();
  await backend?.cleanup().catch(() => {});
  await removeDir(dir);
});

beforeEach(async () => {
  [a, b] = await Promise.all([instance(), instance()]);
});

afterEach(async () => {
  await Promise.all([a?.stop('SIGKILL'), b?.stop('SIGKILL')]);
});

/** `url` on another instance: same path, that instance's origin. */
const via = (server: CliServer, url: string) => new URL(new URL(url).pathname, server.url).href;

const DRAFT = { 'Upload-Draft-Interop-Version': '8' };

/** The Location of the 104 in a raw answer, once it came. */
async function waitForLocation(answer: () => string): Promise<string> {
  for (let i = 0; i < 200; i++) {
    const m = /^HTTP\/1.1 104 [^\r]*\r\n(?:[^\r]*\r\n)*?location: ([^\r]+)\r\n/im.exec(answer());
    if (m?.[1]) return m[1];
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`no 104 with a Location: ${answer().slice(0, 200)}`);
}

/** Waits until the server has taken `id`'s lock (the PATCH is being received). */
async function lockTaken(id: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if ((await redis.exists(`tus-s3:lock:${id}`)) === 1) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`lock of ${id} never taken`);
}

test('a PATCH stalled on one instance: a HEAD on the other takes over with its bytes counted', async () => {
  const data = randomBytes(3 * PS);
  const url = await createUpload(a.url, data.length);
  const stalled = await stalledPatch(url, 0, data.length, data.subarray(0, 3 * MiB));
  await lockTaken(idOf(url));
  await new Promise((r) => setTimeout(r, 300)); // the 3 MiB reach the store
  // Without a shared lock B answers at once from S3, where none of the 3 MiB is yet.
  expect(await headOffset(via(b, url))).toBe(3 * MiB);
  expect(stalled.answer()).toMatch(/^HTTP\/1.1 204[\s\S]*upload-offset: 3145728/i);
  stalled.socket.destroy();
  const res = await patch(via(b, url), 3 * MiB, data.subarray(3 * MiB));
  expect(res.status).toBe(204);
  expect(res.headers.get('upload-offset')).toBe(String(data.length));
  expect(await backend.sha256Of(idOf(url))).toBe(sha256Hex(data));
});

test('IETF draft: a creation stalled on one instance, the other takes over and completes it', async () => {
  const data = randomBytes(3 * PS + 4321);
  const sent = PS + 3 * MiB;
  const stalled = await stalledDraftCreation(a.url, data.length, data.subarray(0, sent));
  // The 104 tells the upload's URL before the body is read.
  const location = await waitForLocation(stalled.answer);
  const url = new URL(location, a.url).href;
  await lockTaken(idOf(url));
  await new Promise((r) => setTimeout(r, 300)); // the bytes reach the store
  // B asks A (through Redis) to let go; A stages its tail and answers, B reads S3.
  const head = answered(await raw('HEAD', via(b, url), DRAFT));
  expect(head.status).toBe(204);
  expect(head.headers['upload-complete']).toBe('?0');
  expect(head.headers['upload-length']).toBe(String(data.length));
  expect(head.headers['upload-offset']).toBe(String(sent));
  expect(stalled.answer()).toMatch(new RegExp(`HTTP/1.1 201[\\s\\S]*upload-offset: ${sent}`, 'i'));
  stalled.socket.destroy();
  const rest = data.subarray(sent);
  const done = answered(
    await raw(
      'PATCH',
      via(b, url),
      {
        ...DRAFT,
        'Content-Type': 'application/partial-upload',
        'Upload-Offset': String(sent),
        'Upload-Complete': '?1',
        'Content-Length': String(rest.length),
      },
      { body: rest },
    ),
  );
  expect(done.status).toBe(204);
  expect(done.headers['upload-complete']).toBe('?1');
  expect(await backend.sha256Of(idOf(url))).toBe(sha256Hex(data));
  process.stdout.write(
    `draft: ${sent} of ${data.length} bytes sent to A, HEAD on B answered ${head.headers['upload-offset']}, B completed it, exact\n`,
  );
});

test('final POSTs over the same partials racing on both instances: one final', async () => {
  const pieces = [randomBytes(PS), randomBytes(PS), randomBytes(99)];
  const urls: string[] = [];
  for (const [i, p] of pieces.entries()) {
    const res = await tus(i % 2 ? b.url : a.url, 'POST', {
      'Upload-Length': String(p.length),
      'Upload-Concat': 'partial',
    });
    expect(res.status).toBe(201);
    urls.push(res.headers.get('location') as string);
  }
  const answers = await Promise.all(
    [a, b, a, b].map((s) => tus(s.url, 'POST', { 'Upload-Concat': `final;${urls.join(' ')}` })),
  );
  expect(answers.map((r) => r.status)).toEqual([201, 201, 201, 201]);
  const finals = answers.map((r) => idOf(r.headers.get('location') as string));
  expect(new Set(finals).size).toBe(1);
  const final = `${a.url}/${finals[0]}`;
  await Promise.all(
    urls.map(async (u, i) => {
      const res = await patch(via(i % 2 ? a : b, u), 0, pieces[i] as Buffer);
      expect(res.status).toBe(204);
    }),
  );
  expect(await headOffset(via(b, final))).toBe(2 * PS + 99);
  expect(await backend.sha256Of(finals[0] as string)).toBe(sha256Hex(Buffer.concat(pieces)));
});

test('DELETEs of a direct final on one instance and of its partial on the other, at once', async () => {
  // Each DELETE holds its own upload's Redis lock and needs the other's: the group's
  // termination claim (a lock of its own) lets one through and tells the other 423.
  const urls: string[] = [];
  for (const size of [PS, 99]) {
    const res = await tus(a.url, 'POST', {
      'Upload-Length': String(size),
      'Upload-Concat': 'partial',
    });
    expect(res.status).toBe(201);
    urls.push(res.headers.get('location') as string);
  }
  const created = await tus(b.url, 'POST', { 'Upload-Concat': `final;${urls.join(' ')}` });
  expect(created.status).toBe(201);
  const final = via(b, created.headers.get('location') as string);
  expect((await patch(urls[0] as string, 0, randomBytes(MiB))).status).toBe(204);
  const targets = [final, via(a, urls[0] as string)];
  const t0 = Date.now();
  const answers = await Promise.all(targets.map((u) => tus(u, 'DELETE')));
  expect(Date.now() - t0).toBeLessThan(5000);
  expect(answers.map((r) => r.status)).toContain(204);
  for (const [i, res] of answers.entries()) {
    expect([204, 404, 423]).toContain(res.status);
    if (res.status === 423) {
      expect(await res.text()).toMatch(/terminat/);
      expect((await tus(targets[i] as string, 'DELETE')).status).toBe(404);
    }
  }
  for (const u of [final, ...urls]) {
    expect((await tus(via(a, u), 'HEAD')).status).toBe(404);
    expect((await tus(via(b, u), 'HEAD')).status).toBe(404);
  }
  expect(await listKeys(backend.bucket as string, `mi/${idOf(final)}`)).toEqual([]);
  expect(await listMultipartUploads(backend.bucket as string, `mi/${idOf(final)}`)).toEqual([]);
});

test('an instance killed while it holds a lock: the other serves the upload one lease later', async () => {
  const data = randomBytes(3 * PS);
  const url = await createUpload(a.url, data.length);
  expect((await patch(url, 0, data.subarray(0, PS + 7))).status).toBe(204);
  const stalled = await stalledPatch(
    url,
    PS + 7,
    data.length - PS - 7,
    data.subarray(PS + 7, 2 * PS),
  );
  await lockTaken(idOf(url));
  await a.stop('SIGKILL');
  stalled.socket.destroy();
  // The dead instance's lock is still there: B has to outwait its lease.
  expect(await redis.exists(`tus-s3:lock:${idOf(url)}`)).toBe(1);
  const offset = await headOffset(via(b, url));
  expect(offset).toBe(PS + 7);
  const res = await patch(via(b, url), offset, data.subarray(offset));
  expect(res.status).toBe(204);
  expect(await backend.sha256Of(idOf(url))).toBe(sha256Hex(data));
});

test.each([
  ['part-aligned PATCHes', PS],
  ['PATCHes that end mid-part', 3 * MiB + 5],
])('a PATCH at an offset another instance moved on from gets 409 (%s)', async (_, step) => {
  const data = randomBytes(3 * PS);
  const other = Buffer.alloc(step, 0xee);
  const url = await createUpload(a.url, data.length);
  // B takes the first PATCH and remembers where it left the upload; A moves it on.
  expect((await patch(via(b, url), 0, data.subarray(0, step))).status).toBe(204);
  expect((await patch(url, step, data.subarray(step, 2 * step))).status).toBe(204);
  // A client that never saw A's 204 (a cut connection) and sends the same offset again,
  // here with other bytes: B must see A's bytes, not its own memory of the upload.
  const stale = await patch(via(b, url), step, other);
  expect(stale.status).toBe(409);
  expect(await headOffset(via(b, url))).toBe(2 * step);
  const rest = await patch(via(b, url), 2 * step, data.subarray(2 * step));
  expect(rest.status).toBe(204);
  expect(await backend.sha256Of(idOf(url))).toBe(sha256Hex(data));
});

test('our client, parallel 4, through a round-robin balancer over both instances', async () => {
  const balancer = await startBalancer([a.url, b.url]);
  try {
    const file = await makeRandomFile(dir, 48 * MiB + 123, { name: 'balanced.bin' });
    const run = runCli([
      file.path,
      '--endpoint',
      `${balancer.url}${new URL(a.url).pathname}`,
      '--parallel',
      '4',
      '--store',
      path.join(dir, 'resume.json'),
    ]);
    const code = await run.exited;
    if (code !== 0) throw new Error(`tus-upload exited ${code}: ${run.stderr()}`);
    expect(run.stderr()).toContain('parallel upload: 4 partial uploads');
    const url = lastLine(run.stdout());
    expect(new URL(url).origin).toBe(balancer.url);
    expect(await backend.sha256Of(idOf(url))).toBe(file.sha256);
    // Both instances served a fair share.
    expect(Math.min(...balancer.counts)).toBeGreaterThan(5);
  } finally {
    await balancer.close();
  }
});
