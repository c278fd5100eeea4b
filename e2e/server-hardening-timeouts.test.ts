// S3 that accepts connections and never answers (issue 20, must-show 7): the CLI, with
// RedisLocker and short S3 timeouts, talks to RGW through a proxy that turns into a black
// hole mid-upload. A PATCH then fails within its bound instead of hanging, its lock is
// free in Redis at once (not kept renewed until a restart), and once the proxy forwards
// again the client resumes from HEAD to an exact object. For a part-sized PATCH
// (UploadPart) and a small tail PATCH (a staged segment's PutObject), with parts sent
// whole under Content-MD5 and streamed while they arrive (a body S3 cannot replay). And
// an S3 that resets every connection: the same 503, at once. Last, Redis going silent
// mid-PATCH: the CLI's Redis commands time out, so the PATCH is still answered.
import { randomBytes } from 'node:crypto';
import { S3_MIN_PART_SIZE } from '@tus-s3/server';
import { Redis } from 'ioredis';
import { type BlackHoleProxy, startBlackHoleProxy } from './helpers/black-hole-proxy.js';
import { testRedisUrl } from './helpers/redis.js';
import {
  type Backend,
  type CliServer,
  createUpload,
  idOf,
  patch,
  rawPatch,
  s3Backend,
  sha256Hex,
  startCli,
  tus,
} from './helpers/server.js';

const PS = S3_MIN_PART_SIZE;
const CONNECT_MS = 1_000;
const IDLE_MS = 2_000;
const ATTEMPTS = 2;
// The longest a PATCH may wait on a silent S3: a part's one attempt as a stream (not
// retried), then its resend from memory with every attempt (only if the kernel had not
// taken the whole part yet; if it had, the part just fails). An attempt takes at most
// connect + 2 x idle: Node counts a socket with a write pending as idle only once its write
// queue stood still for a whole period. Plus a margin for a loaded 2-core box.
const BOUND_MS = (1 + ATTEMPTS) * (CONNECT_MS + 2 * IDLE_MS) + 5_000;
const LOCK_PREFIX = 'tus-s3:lock:';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A tus client's way with 503: wait as told and try again. Right after the black hole,
 * the server's pooled connections to it are still silent and time out one by one.
 */
async function retrying503(send: () => Promise<Response>): Promise<Response> {
  for (let i = 0; ; i++) {
    const res = await send();
    if (res.status !== 503 || i === 9) return res;
    await res.arrayBuffer();
    await sleep(500);
  }
}

async function resumeOffset(url: string): Promise<number> {
  const res = await retrying503(() => tus(url, 'HEAD'));
  expect(res.status).toBe(200);
  return Number(res.headers.get('upload-offset'));
}

async function sendRest(url: string, data: Buffer, from: number): Promise<number> {
  const res = await retrying503(() => patch(url, from, data.subarray(from)));
  expect(res.status).toBe(204);
  return Number(res.headers.get('upload-offset'));
}

describe.each([
  ['parts whole under Content-MD5', 'md5'],
  ['parts streamed while they arrive', 'none'],
] as const)('S3 turns into a black hole mid-upload, %s', (_name, partChecksum) => {
  let backend: Backend;
  let proxy: BlackHoleProxy;
  let server: CliServer;
  let redis: Redis;

  beforeAll(async () => {
    backend = await s3Backend('holes/');
    const s3 = backend.options.s3;
    if (!s3?.endpoint) throw new Error('s3 backend expected');
    proxy = await startBlackHoleProxy(s3.endpoint);
    const args = backend.cliArgs.map((a) => (a === s3.endpoint ? proxy.endpoint : a));
    server = await startCli([
      ...args,
      '--redis-url',
      testRedisUrl(),
      '--part-size',
      String(PS),
      '--part-checksum',
      partChecksum,
      '--s3-connect-timeout',
      `${CONNECT_MS}ms`,
      '--s3-request-timeout',
      `${IDLE_MS}ms`,
      '--s3-max-attempts',
      String(ATTEMPTS),
    ]);
    redis = new Redis(testRedisUrl());
  });
  afterEach(() => proxy.forward());
  afterAll(async () => {
    await server?.stop();
    await redis?.quit();
    await proxy?.close();
    await backend?.cleanup();
  });

  /** The PATCH at `from` fails while S3 is silent; returns how long it took (ms). */
  async function failingPatch(url: string, from: number, bytes: Buffer): Promise<number> {
    proxy.blackHole();
    const started = Date.now();
    const res = await patch(url, from, bytes);
    const took = Date.now() - started;
    expect(res.status).toBe(503);
    expect(await res.text()).toBe('storage is unavailable; try again\n');
    expect(took).toBeLessThan(BOUND_MS);
    // Released, not renewed while S3 hangs: no other request would get 423.
    expect(await redis.exists(`${LOCK_PREFIX}${idOf(url)}`)).toBe(0);
    return took;
  }

  it('a part-sized PATCH (UploadPart) fails in time, frees its lock, and the upload resumes exact', async () => {
    const data = randomBytes(3 * PS + 4321);
    const url = await createUpload(server.url, data.length);
    expect((await patch(url, 0, data.subarray(0, PS))).status).toBe(204);

    const took = await failingPatch(url, PS, data.subarray(PS, 2 * PS));
    process.stdout.write(`black-holed UploadPart PATCH answered 503 in ${took} ms\n`);

    proxy.forward();
    // Nothing of the lost part counts: the offset is the last acknowledged one.
    expect(await resumeOffset(url)).toBe(PS);
    expect(await sendRest(url, data, PS)).toBe(data.length);
    expect(await backend.sha256Of(idOf(url))).toBe(sha256Hex(data));
  });

  it('a small tail PATCH (segment PutObject) fails in time, frees its lock, and the upload resumes exact', async () => {
    const data = randomBytes(PS + 777);
    const url = await createUpload(server.url, data.length);
    expect((await patch(url, 0, data.subarray(0, 1000))).status).toBe(204);

    const took = await failingPatch(url, 1000, data.subarray(1000, 3000));
    process.stdout.write(`black-holed segment PATCH answered 503 in ${took} ms\n`);

    proxy.forward();
    expect(await resumeOffset(url)).toBe(1000);
    expect(await sendRest(url, data, 1000)).toBe(data.length);
    expect(await backend.sha256Of(idOf(url))).toBe(sha256Hex(data));
  });

  it('S3 resetting every connection: the PATCH answers 503 at once, and the upload resumes exact', async () => {
    const data = randomBytes(PS + 99);
    const url = await createUpload(server.url, data.length);
    expect((await patch(url, 0, data.subarray(0, 500))).status).toBe(204);

    proxy.reset();
    const started = Date.now();
    const res = await patch(url, 500, data.subarray(500, 900));
    const took = Date.now() - started;
    expect(res.status).toBe(503);
    expect(await res.text()).toBe('storage is unavailable; try again\n');
    // Nothing to wait for: no timeout is involved, only the retries' short backoff.
    expect(took).toBeLessThan(IDLE_MS);
    expect(await redis.exists(`${LOCK_PREFIX}${idOf(url)}`)).toBe(0);

    proxy.forward();
    expect(await resumeOffset(url)).toBe(500);
    expect(await sendRest(url, data, 500)).toBe(data.length);
    expect(await backend.sha256Of(idOf(url))).toBe(sha256Hex(data));
  });
});

describe('Redis turns into a black hole mid-PATCH', () => {
  let backend: Backend;
  let proxy: BlackHoleProxy;
  let server: CliServer;
  let redis: Redis;
  // The CLI's Redis command timeout (src/locks/redis-connection.ts).
  const COMMAND_TIMEOUT_MS = 3_000;

  beforeAll(async () => {
    backend = await s3Backend('redis-holes/');
    proxy = await startBlackHoleProxy(testRedisUrl());
    const viaProxy = proxy.endpoint.replace(/^http:/, 'redis:');
    server = await startCli([...backend.cliArgs, '--redis-url', viaProxy, '--lock-lease', '2s']);
    redis = new Redis(testRedisUrl());
  });
  afterAll(async () => {
    await server?.stop('SIGKILL');
    await redis?.quit();
    await proxy?.close();
    await backend?.cleanup();
  });

  it('the PATCH is answered once its body is in (its unlock times out instead of hanging), and the upload resumes exact', async () => {
    const data = randomBytes(64 * 1024);
    const url = await createUpload(server.url, data.length);
    let bodyDone = 0;
    const status = rawPatch(url, 0, data.length, (req) => {
      req.write(data.subarray(0, 1000));
      // The lock is taken before the body is read: by now it is held, and renewed.
      setTimeout(() => {
        proxy.blackHole();
        req.end(data.subarray(1000), () => {
          bodyDone = Date.now();
        });
      }, 500);
    });
    const answered = await status;
    const took = Date.now() - bodyDone;
    process.stdout.write(
      `PATCH with a silent Redis answered ${answered} ${took} ms after its body\n`,
    );
    // The bytes went to S3; only the unlock failed, so no 2xx can be promised.
    expect(answered).toBeGreaterThanOrEqual(500);
    expect(took).toBeLessThan(COMMAND_TIMEOUT_MS + 5_000);

    proxy.forward();
    // The lock whose release was lost ends with its lease; the reconnected Redis answers.
    let offset = -1;
    for (let i = 0; i < 30 && offset < 0; i++) {
      const res = await tus(url, 'HEAD');
      if (res.status === 200) offset = Number(res.headers.get('upload-offset'));
      else await sleep(500);
    }
    if (offset < data.length) expect(await sendRest(url, data, offset)).toBe(data.length);
    expect(await backend.sha256Of(idOf(url))).toBe(sha256Hex(data));
    expect(await redis.exists(`${LOCK_PREFIX}${idOf(url)}`)).toBe(0);
  });
});
