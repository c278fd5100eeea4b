// Issue 20, must-show 9: the expiration sweep's S3 requests (counted on the wire by a recording
// client against RGW) grow with the unfinished uploads, not with the finished ones; and two
// instances sharing Redis never sweep at the same time.
//
// Unfinished uploads go through the server; finished ones too, or get exactly what those
// left in S3 (see finishedUploads).
import { randomBytes } from 'node:crypto';
import { DeleteObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { redisSweepLease, S3_MIN_PART_SIZE } from '@tus-s3/server';
import { Redis } from 'ioredis';
import { recordedS3, type Sent } from './helpers/recording-client.js';
import { testRedisUrl } from './helpers/redis.js';
import { listKeys, listMultipartUploads, testS3Client } from './helpers/s3.js';
import {
  type Backend,
  createUpload,
  idOf,
  patch,
  type RunningServer,
  s3Backend,
  startInProcess,
  tus,
} from './helpers/server.js';

// Long enough that a batch of unfinished uploads is created well within it on a loaded box.
const EXP = 4000;
const PS = S3_MIN_PART_SIZE;
const waitOut = () => new Promise((r) => setTimeout(r, EXP + 500));

/** `n` finished one-byte uploads made by the server, `parallel` at a time; their ids. */
async function finishedByServer(url: string, n: number, parallel = 16): Promise<string[]> {
  const ids: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < n) {
      next++;
      const res = await tus(
        url,
        'POST',
        { 'Upload-Length': '1', 'Content-Type': 'application/offset+octet-stream' },
        Buffer.from('x'),
      );
      if (res.status !== 201) throw new Error(`creation answered ${res.status}`);
      ids.push(idOf(res.headers.get('location') ?? ''));
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return ids;
}

/**
 * `n` finished one-byte uploads. Through the server each costs one S3 write (its info folded
 * into the object: server README, "Small files in one S3 request"), still too slow for
 * 10,000 on a shared RGW: 100 are made by the server, and the rest get what those left in S3
 * (the object, its metadata carrying the info, id changed), written directly; nothing else
 * remains of a finished upload (the test checks it of the server-made ones).
 */
async function finishedUploads(url: string, bucket: string, n: number): Promise<string[]> {
  const made = await finishedByServer(url, 100);
  const sample = made[0] as string;
  const prefixed = await listKeys(bucket, `sweep/${sample}`);
  expect(prefixed).toEqual([`sweep/${sample}`]);
  expect(await listKeys(bucket, `sweep/.open/${sample}`)).toEqual([]);
  const s3 = testS3Client();
  const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: `sweep/${sample}` }));
  const info = JSON.parse(head.Metadata?.['tus-info'] ?? '') as { id: string };
  expect(info.id).toBe(sample);
  const ids = Array.from({ length: n - made.length }, () => randomBytes(16).toString('base64url'));
  let next = 0;
  const worker = async () => {
    while (next < ids.length) {
      const id = ids[next++] as string;
      await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: `sweep/${id}`,
          Body: 'x',
          Metadata: { 'tus-info': JSON.stringify({ ...info, id }) },
        }),
      );
    }
  };
  await Promise.all(Array.from({ length: 48 }, worker));
  return [...made, ...ids];
}

/** `n` unfinished uploads, half multipart (bytes in a part), half one-part (a segment). */
async function unfinished(url: string, n: number): Promise<string[]> {
  return Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const big = i % 2 === 0;
      const upload = await createUpload(url, big ? 2 * PS : 100);
      const res = await patch(upload, 0, Buffer.alloc(big ? 1024 : 10, i));
      if (res.status !== 204) throw new Error(`PATCH answered ${res.status}`);
      return idOf(upload);
    }),
  );
}

function tally(entries: Sent[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const e of entries) out[e.command] = (out[e.command] ?? 0) + 1;
  return out;
}

describe('expiration sweep cost (recorded against RGW)', () => {
  let backend: Backend;
  let server: RunningServer;
  let log: Sent[];
  beforeAll(async () => {
    backend = await s3Backend('sweep/');
    const rec = recordedS3(backend);
    log = rec.log;
    // Markers at creation: the sweep finds uploads that expired a second after it, before a
    // late marker would come (packages/server/test/pending-markers.test.ts covers those).
    server = await startInProcess({
      s3: { ...rec.s3, openMarkerDelay: 0 },
      partSize: PS,
      expiration: EXP,
    });
  });
  afterAll(async () => {
    await server?.close();
    await backend?.cleanup();
  });

  const sweep = async (label: string) => {
    const since = log.length;
    const started = performance.now();
    const removed = await server.tus.server.cleanUpExpiredUploads();
    const entries = log.slice(since);
    const ms = Math.round(performance.now() - started);
    process.stdout.write(
      `sweep, ${label}: removed ${removed}, ${entries.length} S3 requests in ${ms} ms ${JSON.stringify(tally(entries))}\n`,
    );
    return { removed, requests: entries.length, commands: tally(entries) };
  };

  const expiredBatch = async (n: number) => {
    const ids = await unfinished(server.url, n);
    await waitOut();
    return ids;
  };

  it('counts requests per unfinished upload, none per finished one', async () => {
    const bucket = backend.bucket as string;
    // The first sweep ever makes the full pass too (then once a day): on an empty prefix.
    await sweep('first, with the full pass');
    const none = await sweep('0 finished, 0 unfinished');
    const u1 = await expiredBatch(10);
    const a = await sweep('0 finished, 10 unfinished');
    expect(a.removed).toBe(10);

    const t0 = performance.now();
    const done = await finishedUploads(server.url, bucket, 10_000);
    process.stdout.write(
      `10,000 finished uploads made in ${Math.round(performance.now() - t0)} ms\n`,
    );
    const none2 = await sweep('10,000 finished, 0 unfinished');
    const u2 = await expiredBatch(10);
    const c = await sweep('10,000 finished, 10 unfinished');
    expect(c.removed).toBe(10);
    const u3 = await expiredBatch(20);
    const b = await sweep('10,000 finished, 20 unfinished');
    expect(b.removed).toBe(20);

    // Fixed requests (the two listings and the full pass's stamp), plus the same few for
    // each unfinished upload; the finished ones add none.
    expect(none.requests).toBe(3);
    expect(none2.requests).toBe(none.requests);
    expect(c.requests).toBe(a.requests);
    expect(b.requests - c.requests).toBe(c.requests - none.requests);
    expect(c.requests - none.requests).toBeGreaterThanOrEqual(10 * 3);

    // The expired unfinished uploads are gone; every finished one is as it was.
    for (const id of [...u1, ...u2, ...u3]) {
      expect(await listKeys(bucket, `sweep/${id}.`)).toEqual([]);
    }
    expect(await listMultipartUploads(bucket, 'sweep/')).toEqual([]);
    const keys = new Set(await listKeys(bucket, 'sweep/'));
    const intact = done.filter((id) => keys.has(`sweep/${id}`));
    expect(intact).toHaveLength(done.length);
    // And the full pass's stamp, and the key of sealed ids (the small uploads' creations).
    expect([...keys].filter((k) => !done.includes(k.slice('sweep/'.length))).sort()).toEqual([
      'sweep/.seal-key',
      'sweep/.sweep',
    ]);
    expect((await tus(`${server.url}/${done[0]}`, 'HEAD')).headers.get('upload-offset')).toBe('1');

    // The full pass, when due, pages through everything and reads no finished upload's info.
    await testS3Client().send(new DeleteObjectCommand({ Bucket: bucket, Key: 'sweep/.sweep' }));
    const full = await sweep('10,000 finished, with the full pass');
    expect(full.removed).toBe(0);
    // One key per finished upload (its object), 1,000 a page.
    expect(full.commands.ListObjectsV2Command).toBeGreaterThanOrEqual(10);
    expect(full.commands.GetObjectCommand).toBeUndefined();
    expect((await listKeys(bucket, 'sweep/')).length).toBe(done.length + 2);
  }, 240_000);
});

describe('expiration sweep on two instances sharing Redis', () => {
  let backend: Backend;
  const servers: RunningServer[] = [];
  const logs: Sent[][] = [];
  const redis: Redis[] = [];
  beforeAll(async () => {
    backend = await s3Backend('two/');
    for (let i = 0; i < 2; i++) {
      const rec = recordedS3(backend);
      logs.push(rec.log);
      const r = new Redis(testRedisUrl());
      redis.push(r);
      servers.push(
        await startInProcess({
          s3: { ...rec.s3, openMarkerDelay: 0 },
          partSize: PS,
          expiration: EXP,
          sweepRedis: r,
        }),
      );
    }
  });
  afterAll(async () => {
    for (const s of servers) await s.close();
    for (const r of redis) r.disconnect();
    await backend?.cleanup();
  });

  it('one sweeps while the other leaves it, and either may sweep next', async () => {
    const [one, two] = servers as [RunningServer, RunningServer];
    await unfinished(one.url, 6);
    await waitOut();
    for (const log of logs) log.length = 0;
    const removed = await Promise.all(servers.map((s) => s.tus.server.cleanUpExpiredUploads()));
    // One instance took the lease and swept; the other sent S3 nothing at all.
    expect([...removed].sort()).toEqual([0, 6]);
    const sent = logs.map((l) => l.length);
    expect(sent.filter((n) => n === 0)).toHaveLength(1);
    expect(Math.max(...sent)).toBeGreaterThan(6);
    expect(await listMultipartUploads(backend.bucket as string, 'two/')).toEqual([]);

    // The lease went with the run: the other instance sweeps next time.
    await unfinished(two.url, 2);
    await waitOut();
    const idle = sent.indexOf(0);
    expect(await servers[idle]?.tus.server.cleanUpExpiredUploads()).toBe(2);
  }, 60_000);
});

describe('the sweep lease in Redis', () => {
  it('has one holder at a time, frees with release, and tells a holder it lost it', async () => {
    const redis = new Redis(testRedisUrl());
    try {
      const key = `test:sweep-lease:${randomBytes(6).toString('hex')}`;
      const a = redisSweepLease(redis, key, 600);
      const b = redisSweepLease(redis, key, 600);
      const held = await a.acquire();
      expect(held).toBeDefined();
      expect(await b.acquire()).toBeUndefined();
      await held?.release();
      const next = await b.acquire();
      expect(next?.lost()).toBe(false);
      // Its holder paused past the lease and another took it: the next renewal says so.
      await redis.set(key, 'someone else', 'PX', 5000);
      await new Promise((r) => setTimeout(r, 500));
      expect(next?.lost()).toBe(true);
      await next?.release();
      expect(await redis.get(key)).toBe('someone else');
    } finally {
      redis.disconnect();
    }
  });
});
