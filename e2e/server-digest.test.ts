// Issue 22, whole-file digest, against RGW and the CLI:
// 1. a 500 MiB upload with a declared Repr-Digest, interrupted 5 times at seeded random
//    points (two SIGKILLs of the server, one continued on another instance, two cut
//    connections): completes, HEAD's Repr-Digest is right, the object's sha256 is right;
// 2. a declared digest wrong by one bit: 460 on the last byte, no object at the key;
// 3. SIGKILLs at random moments of part-boundary PATCHes (between an UploadPart and the
//    state write, among others) never desync the hash from the offset;
// 4. a final declaring a digest over partials not all finished waits for them and reads them
//    back (460 on its HEAD when they differ), and under --digest undeclared uploads and a
//    waiting final (read back) are hashed.
import { createHash } from 'node:crypto';
import { HeadObjectCommand, ListPartsCommand } from '@aws-sdk/client-s3';
import { Redis } from 'ioredis';
import { DetBytes, seededRandom } from './helpers/det-bytes.js';
import { testRedisUrl } from './helpers/redis.js';
import { listKeys, objectText, testS3Client, testS3Env } from './helpers/s3.js';
import { startS3FaultProxy } from './helpers/s3-fault-proxy.js';
import {
  type Backend,
  type CliServer,
  idOf,
  patch,
  rawPatch,
  s3Backend,
  startCli,
  tus,
} from './helpers/server.js';

const MiB = 1024 * 1024;
const LEASE_MS = 1000;

const reprDigest = (hex: string) => `sha-256=:${Buffer.from(hex, 'hex').toString('base64')}:`;
const flipBit = (hex: string) =>
  (Number.parseInt(hex[0] as string, 16) ^ 1).toString(16) + hex.slice(1);
/** `url` on another instance: same path, that instance's origin. */
const via = (server: CliServer, url: string) => new URL(new URL(url).pathname, server.url).href;

let backend: Backend;
let redis: Redis;
const running = new Set<CliServer>();

async function instance(extra: string[] = []): Promise<CliServer> {
  const s = await startCli([
    ...backend.cliArgs,
    '--redis-url',
    testRedisUrl(),
    '--lock-lease',
    `${LEASE_MS}ms`,
    ...extra,
  ]);
  running.add(s);
  return s;
}

async function kill(s: CliServer): Promise<void> {
  await s.stop('SIGKILL');
  running.delete(s);
}

beforeAll(async () => {
  backend = await s3Backend('dg/');
  redis = new Redis(testRedisUrl());
});

afterAll(async () => {
  await Promise.all([...running].map((s) => s.stop('SIGKILL')));
  await redis?.quit();
  await backend?.cleanup().catch(() => {});
});

async function create(server: CliServer, size: number, digest: string): Promise<string> {
  const res = await tus(server.url, 'POST', {
    'Upload-Length': String(size),
    'Repr-Digest': reprDigest(digest),
  });
  expect(res.status).toBe(201);
  return new URL(res.headers.get('location') as string, server.url).href;
}

/** Waits until no request holds `id`'s lock (an interrupted PATCH finished, or its lease ended). */
async function lockFree(id: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if ((await redis.exists(`tus-s3:lock:${id}`)) === 0) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`lock of ${id} never released`);
}

async function headOf(url: string): Promise<Response> {
  // Right after a SIGKILL the upload's lock lives on until its lease ends: HEAD may wait.
  const res = await tus(url, 'HEAD');
  expect(res.status).toBe(200);
  return res;
}

/**
 * One PATCH streaming bytes [from, size) of `data`; when `cutAt` is reached, `interrupt`
 * runs (the connection is destroyed by it or by the server's death). Resolves with the
 * status (-1: the connection died).
 */
function streamFrom(
  url: string,
  data: DetBytes,
  from: number,
  cutAt: number | undefined,
  interrupt: (req: { destroy(): void }) => void,
): Promise<number> {
  return rawPatch(url, from, data.size - from, (req) => {
    let at = from;
    const step = MiB;
    let fired = false;
    const pump = () => {
      while (at < data.size) {
        if (cutAt !== undefined && at >= cutAt) {
          if (!fired) {
            fired = true;
            interrupt(req);
          }
          return;
        }
        const to = Math.min(at + step, data.size, cutAt ?? data.size);
        const chunk = data.range(at, to);
        at = to;
        if (!req.write(chunk)) {
          req.once('drain', pump);
          return;
        }
      }
      req.end();
    };
    req.on('error', () => {});
    pump();
  });
}

test('must-show 1: 500 MiB, declared digest, 5 interruptions (2 SIGKILLs, another instance)', async () => {
  const size = 500 * MiB;
  const data = new DetBytes(size, 'issue-22-must-show-1');
  const hex = data.sha256();
  const random = seededRandom(22);
  const cuts = Array.from({ length: 5 }, () => Math.floor(random() * size)).sort((x, y) => x - y);
  // The order of the kinds, shuffled by the same seed.
  const kinds = ['sigkill', 'sigkill', 'instance', 'cut', 'cut'].sort(() => random() - 0.5);
  let a = await instance();
  let b = await instance();
  let url = await create(a, size, hex);
  let offset = 0;
  const seen: string[] = [];
  for (const [i, cutAt] of cuts.entries()) {
    const kind = kinds[i] as string;
    const target = cutAt > offset ? cutAt : offset + MiB;
    let killed: Promise<void> | undefined;
    await streamFrom(url, data, offset, target, (req) => {
      // Give the server a moment with the bytes in flight, then interrupt.
      setTimeout(() => {
        if (kind === 'sigkill') killed = kill(a);
        else req.destroy();
      }, 200);
    });
    await killed;
    if (kind === 'sigkill') a = await instance();
    if (kind === 'instance') [a, b] = [b, a];
    url = via(a, url);
    // As a client would after a 409: the interrupted PATCH ends (or its lease does) first.
    await lockFree(idOf(url));
    const now = Number((await headOf(url)).headers.get('upload-offset'));
    // Never back past what was durable before this PATCH, never past what was sent.
    expect(now).toBeGreaterThanOrEqual(offset);
    expect(now).toBeLessThanOrEqual(target);
    seen.push(`${kind}@${(target / MiB).toFixed(1)}MiB->${(now / MiB).toFixed(1)}MiB`);
    offset = now;
  }
  console.log(`interruptions (sent up to -> offset after): ${seen.join(', ')}`);
  const last = await streamFrom(url, data, offset, undefined, () => {});
  expect(last).toBe(204);
  const head = await headOf(url);
  expect(head.headers.get('upload-offset')).toBe(String(size));
  expect(head.headers.get('repr-digest')).toBe(reprDigest(hex));
  const obj = await testS3Client().send(
    new HeadObjectCommand({ Bucket: backend.bucket, Key: `${backend.prefix}${idOf(url)}` }),
  );
  expect(obj.Metadata?.sha256).toBe(hex);
  expect(await backend.sha256Of(idOf(url))).toBe(hex);
  // RGW runs on memstore: free the 500 MiB now rather than when the suite ends.
  expect((await tus(url, 'DELETE')).status).toBe(204);
  await Promise.all([kill(a), kill(b)]);
}, 600_000);

test('must-show 2: a digest wrong by one bit answers 460 on the last byte, no object', async () => {
  const server = await instance(['--part-size', '5MiB']);
  const s3 = testS3Client();
  for (const size of [12 * MiB + 7, 3000]) {
    const data = new DetBytes(size, `wrong-${size}`);
    const url = await create(server, size, flipBit(data.sha256()));
    const half = Math.floor(size / 2);
    expect((await patch(url, 0, data.range(0, half))).status).toBe(204);
    const res = await patch(url, half, data.range(half, size));
    expect(res.status).toBe(460);
    expect(await res.text()).toMatch(/^Repr-Digest does not match/);
    const key = `${backend.prefix}${idOf(url)}`;
    await expect(
      s3.send(new HeadObjectCommand({ Bucket: backend.bucket, Key: key })),
    ).rejects.toMatchObject({
      $metadata: { httpStatusCode: 404 },
    });
    // The upload stays where that request began, and can be terminated.
    expect((await headOf(url)).headers.get('upload-offset')).toBe(String(half));
    expect((await tus(url, 'DELETE')).status).toBe(204);
    expect((await tus(url, 'HEAD')).status).toBe(404);
  }
  await kill(server);
}, 120_000);

test('SIGKILL between the UploadPart and the state write: the offset is the state, the resend completes', async () => {
  const ps = 5 * MiB;
  const size = 3 * ps + 1234;
  const data = new DetBytes(size, 'held-state');
  const hex = data.sha256();
  const proxy = await startS3FaultProxy(testS3Env().endpoint);
  const args = ['--part-size', '5MiB', '--s3-endpoint', proxy.endpoint];
  try {
    let server = await instance(args);
    let url = await create(server, size, hex);
    expect((await patch(url, 0, data.range(0, 1000))).status).toBe(204);
    // Parts 1 and 2 land in S3; the state object after them is held, then the server dies.
    const held = proxy.holdNext(/\.sha\./);
    const sending = patch(url, 1000, data.range(1000, 2 * ps)).catch(() => undefined);
    await held;
    await kill(server);
    expect(await sending).toBeUndefined();
    server = await instance(args);
    url = via(server, url);
    expect(await partsInS3(url)).toBe(2);
    expect(Number((await headOf(url)).headers.get('upload-offset'))).toBe(1000);
    const res = await patch(url, 1000, data.range(1000, size));
    expect(res.status).toBe(204);
    expect((await headOf(url)).headers.get('repr-digest')).toBe(reprDigest(hex));
    expect(await backend.sha256Of(idOf(url))).toBe(hex);
    await kill(server);
  } finally {
    await proxy.close();
  }
}, 120_000);

test('must-show 3: a final of 4 partials with a digest wrong by one bit: 460, no object', async () => {
  const server = await instance(['--part-size', '5MiB']);
  const s3 = testS3Client();
  const sizes = [5 * MiB, 5 * MiB, 5 * MiB, 123_457];
  const pieces = sizes.map((n, i) => new DetBytes(n, `partial-${i}`));
  const whole = sha256OfPieces(pieces);
  const urls: string[] = [];
  for (const p of pieces) {
    const res = await tus(server.url, 'POST', {
      'Upload-Length': String(p.size),
      'Upload-Concat': 'partial',
    });
    expect(res.status).toBe(201);
    const url = new URL(res.headers.get('location') as string, server.url).href;
    expect((await patch(url, 0, p.range(0, p.size))).status).toBe(204);
    urls.push(url);
  }
  const concat = `final;${urls.map((u) => new URL(u).pathname).join(' ')}`;
  const before = new Set(await listKeys(backend.bucket as string, backend.prefix));
  const wrong = await tus(server.url, 'POST', {
    'Upload-Concat': concat,
    'Repr-Digest': reprDigest(flipBit(whole)),
  });
  expect(wrong.status).toBe(460);
  expect(wrong.headers.get('location')).toBeNull();
  expect(await wrong.text()).toMatch(/^Repr-Digest does not match/);
  // Nothing new under the prefix: no final object, info or staging left behind.
  const after = await listKeys(backend.bucket as string, backend.prefix);
  expect(after.filter((k) => !before.has(k))).toEqual([]);
  // The partials stay: a final with the right digest is built from them.
  const right = await tus(server.url, 'POST', {
    'Upload-Concat': concat,
    'Repr-Digest': reprDigest(whole),
  });
  expect(right.status).toBe(201);
  const final = new URL(right.headers.get('location') as string, server.url).href;
  expect((await headOf(final)).headers.get('repr-digest')).toBe(reprDigest(whole));
  const obj = await s3.send(
    new HeadObjectCommand({ Bucket: backend.bucket, Key: `${backend.prefix}${idOf(final)}` }),
  );
  expect(obj.Metadata?.sha256).toBe(whole);
  expect(await backend.sha256Of(idOf(final))).toBe(whole);

  await kill(server);
}, 120_000);

/** Creates one partial per piece (no bytes); their URLs, and the final's Upload-Concat. */
async function partialsOf(server: CliServer, pieces: DetBytes[]) {
  const urls: string[] = [];
  for (const p of pieces) {
    const res = await tus(server.url, 'POST', {
      'Upload-Length': String(p.size),
      'Upload-Concat': 'partial',
    });
    expect(res.status).toBe(201);
    urls.push(new URL(res.headers.get('location') as string, server.url).href);
  }
  return { urls, concat: `final;${urls.map((u) => new URL(u).pathname).join(' ')}` };
}

test('must-show 3 over unfinished partials: a waiting final, read back before it completes', async () => {
  const server = await instance(['--part-size', '5MiB']);
  const bucket = backend.bucket as string;
  const sizes = [5 * MiB, 5 * MiB, 5 * MiB, 123_457];

  // Right digest over empty partials on one part size (without a digest, a direct final):
  // 201 at once, a waiting final, complete with the last partial, object exact.
  const good = sizes.map((n, i) => new DetBytes(n, `good-${i}`));
  const whole = sha256OfPieces(good);
  const a = await partialsOf(server, good);
  const created = await tus(server.url, 'POST', {
    'Upload-Concat': a.concat,
    'Repr-Digest': reprDigest(whole),
  });
  expect(created.status).toBe(201);
  const final = new URL(created.headers.get('location') as string, server.url).href;
  const info = JSON.parse(await objectText(bucket, `${backend.prefix}${idOf(final)}.info`));
  expect([info.concat.waiting, info.concat.direct]).toEqual([true, undefined]);
  for (const [i, p] of good.entries()) {
    expect((await patch(a.urls[i]!, 0, p.range(0, p.size))).status).toBe(204);
  }
  const head = await headOf(final);
  expect(head.headers.get('upload-offset')).toBe(String(15 * MiB + 123_457));
  expect(head.headers.get('repr-digest')).toBe(reprDigest(whole));
  expect(await backend.sha256Of(idOf(final))).toBe(whole);

  // One bit wrong over part-way partials: every PATCH 204, no object at the final's key,
  // HEAD of the final 460 without Upload-Offset, the partials stay, finished and free.
  const bad = sizes.map((n, i) => new DetBytes(n, `bad-${i}`));
  const badWhole = sha256OfPieces(bad);
  const b = await partialsOf(server, bad);
  for (const [i, p] of bad.entries()) {
    expect((await patch(b.urls[i]!, 0, p.range(0, 1000))).status).toBe(204);
  }
  const wrong = await tus(server.url, 'POST', {
    'Upload-Concat': b.concat,
    'Repr-Digest': reprDigest(flipBit(badWhole)),
  });
  expect(wrong.status).toBe(201);
  const failed = new URL(wrong.headers.get('location') as string, server.url).href;
  for (const [i, p] of bad.entries()) {
    expect((await patch(b.urls[i]!, 1000, p.range(1000, p.size))).status).toBe(204);
  }
  const key = `${backend.prefix}${idOf(failed)}`;
  const noObject = () =>
    testS3Client()
      .send(new HeadObjectCommand({ Bucket: bucket, Key: key }))
      .then(
        () => 'exists',
        (e: { name?: string }) => e.name,
      );
  expect(await noObject()).toBe('NotFound');
  for (let i = 0; i < 2; i++) {
    const look = await tus(failed, 'HEAD');
    expect(look.status).toBe(460);
    expect(look.headers.get('upload-offset')).toBeNull();
  }
  expect(await noObject()).toBe('NotFound');
  for (const [i, p] of bad.entries()) {
    expect((await headOf(b.urls[i]!)).headers.get('upload-offset')).toBe(String(p.size));
  }
  // The same partials make a final with the right digest (by copy: they are finished).
  const right = await tus(server.url, 'POST', {
    'Upload-Concat': b.concat,
    'Repr-Digest': reprDigest(badWhole),
  });
  expect(right.status).toBe(201);
  const rebuilt = new URL(right.headers.get('location') as string, server.url).href;
  expect((await headOf(rebuilt)).headers.get('repr-digest')).toBe(reprDigest(badWhole));
  expect(await backend.sha256Of(idOf(rebuilt))).toBe(badWhole);
  expect((await tus(failed, 'DELETE')).status).toBe(204);
  expect((await tus(failed, 'HEAD')).status).toBe(404);
  await kill(server);
}, 180_000);

test('--digest sha256: undeclared uploads and a waiting final are hashed', async () => {
  const server = await instance(['--part-size', '5MiB', '--digest', 'sha256']);
  const s3 = testS3Client();
  const bucket = backend.bucket as string;
  // Multipart: the digest is in the info record; one-part: in the object's metadata too.
  for (const size of [12 * MiB + 7, 3000]) {
    const data = new DetBytes(size, `undeclared-${size}`);
    const res = await tus(server.url, 'POST', { 'Upload-Length': String(size) });
    const url = new URL(res.headers.get('location') as string, server.url).href;
    expect((await patch(url, 0, data.range(0, size))).status).toBe(204);
    expect((await headOf(url)).headers.get('repr-digest')).toBe(reprDigest(data.sha256()));
    const info = JSON.parse(await objectText(bucket, `${backend.prefix}${idOf(url)}.info`));
    expect(info.digest).toEqual({ sha256: data.sha256() });
    const obj = await s3.send(
      new HeadObjectCommand({ Bucket: bucket, Key: `${backend.prefix}${idOf(url)}` }),
    );
    expect(obj.Metadata?.sha256).toBe(size < 5 * MiB ? data.sha256() : undefined);
  }
  // A waiting final is hashed by reading its partials back when its last partial finishes.
  const pieces = [new DetBytes(5 * MiB, 'waited-0'), new DetBytes(4321, 'waited-1')];
  const urls: string[] = [];
  for (const p of pieces) {
    const res = await tus(server.url, 'POST', {
      'Upload-Length': String(p.size),
      'Upload-Concat': 'partial',
    });
    urls.push(new URL(res.headers.get('location') as string, server.url).href);
  }
  expect((await patch(urls[0]!, 0, pieces[0]!.range(0, 5 * MiB))).status).toBe(204);
  expect((await patch(urls[1]!, 0, pieces[1]!.range(0, 100))).status).toBe(204);
  const created = await tus(server.url, 'POST', {
    'Upload-Concat': `final;${urls.map((u) => new URL(u).pathname).join(' ')}`,
  });
  expect(created.status).toBe(201);
  const final = new URL(created.headers.get('location') as string, server.url).href;
  expect((await headOf(final)).headers.get('upload-offset')).toBeNull();
  expect((await patch(urls[1]!, 100, pieces[1]!.range(100, 4321))).status).toBe(204);
  const whole = sha256OfPieces(pieces);
  const head = await headOf(final);
  expect(head.headers.get('upload-offset')).toBe(String(5 * MiB + 4321));
  expect(head.headers.get('repr-digest')).toBe(reprDigest(whole));
  expect(await backend.sha256Of(idOf(final))).toBe(whole);
  await kill(server);
}, 120_000);

function sha256OfPieces(pieces: DetBytes[]): string {
  const h = createHash('sha256');
  for (const p of pieces) h.update(p.range(0, p.size));
  return h.digest('hex');
}

/** Parts the upload's multipart upload holds in S3 (ListParts). */
async function partsInS3(url: string): Promise<number> {
  const info = JSON.parse(
    await objectText(backend.bucket as string, `${backend.prefix}${idOf(url)}.info`),
  ) as { uploadId: string };
  const res = await testS3Client().send(
    new ListPartsCommand({
      Bucket: backend.bucket,
      Key: `${backend.prefix}${idOf(url)}`,
      UploadId: info.uploadId,
    }),
  );
  return res.Parts?.length ?? 0;
}

test('SIGKILLs at random moments of part-boundary PATCHes never desync hash and offset', async () => {
  const ps = 5 * MiB;
  const size = 12 * ps;
  const data = new DetBytes(size, 'boundary-kills');
  const hex = data.sha256();
  const random = seededRandom(2022);
  let server = await instance(['--part-size', '5MiB']);
  let url = await create(server, size, hex);
  let acknowledged = 0;
  let kills = 0;
  let cutBacks = 0;
  while (acknowledged < size) {
    const to = Math.min(size, acknowledged + ps);
    const dies = kills < 6 && random() < 0.6;
    const sending = patch(url, acknowledged, data.range(acknowledged, to)).catch(() => undefined);
    if (dies) {
      // Anywhere from before the part is in to after its 204.
      await new Promise((r) => setTimeout(r, Math.floor(random() * 400)));
      await kill(server);
      kills++;
      server = await instance(['--part-size', '5MiB']);
      url = via(server, url);
    }
    const res = await sending;
    if (res?.status === 204) acknowledged = Number(res.headers.get('upload-offset'));
    const now = Number((await headOf(url)).headers.get('upload-offset'));
    expect(now).toBeGreaterThanOrEqual(acknowledged);
    expect(now).toBeLessThanOrEqual(to);
    // A part in S3 past the reported offset: the kill fell after its UploadPart and before
    // the state write (or the 204), and the offset was cut back to the durable state.
    if (dies && (await partsInS3(url)) > now / ps) cutBacks++;
    // A boundary the server reports is one it holds the hash state of: it is a part end.
    expect(now % ps === 0 || now === size).toBe(true);
    acknowledged = now;
  }
  expect(kills).toBeGreaterThanOrEqual(3);
  console.log(`boundary PATCHes: ${kills} SIGKILLs, ${cutBacks} left a part past the state`);
  const head = await headOf(url);
  expect(head.headers.get('repr-digest')).toBe(reprDigest(hex));
  expect(await backend.sha256Of(idOf(url))).toBe(hex);
  await kill(server);
}, 300_000);
