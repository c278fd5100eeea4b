// Part memory against hostile clients, on the CLI with its default flags on RGW: silent
// PATCHes cannot starve an ordinary upload, uploads declaring 5 TiB (parts over the whole
// budget) cannot bloat the process, and a silent body is cut after the idle timeout with
// what it brought kept.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type net from 'node:net';
import { createTestBucket, deleteBucketDeep, sha256OfObject, testS3Env } from './helpers/s3.js';
import {
  type CliServer,
  createUpload,
  headOffset,
  idOf,
  patch,
  type RunningServer,
  s3Backend,
  sha256Hex,
  startCli,
  startInProcess,
  tus,
  uploadRest,
} from './helpers/server.js';
import { stalledPatch } from './helpers/stalled-patch.js';

const MiB = 1024 * 1024;
const TiB = 1024 * 1024 * MiB;

/** The child's resident set, from /proc (bytes). */
function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m?.[1]) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]) * 1024;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** HEAD until the upload's lock is free again (a cut PATCH still settles), then its offset. */
async function settledOffset(url: string, within = 15_000): Promise<number> {
  const until = Date.now() + within;
  for (;;) {
    const res = await tus(url, 'HEAD');
    if (res.status === 200) return Number(res.headers.get('upload-offset'));
    if (Date.now() > until) throw new Error(`HEAD ${url}: still ${res.status}`);
    await sleep(200);
  }
}

describe('part memory under hostile clients (CLI, default flags)', () => {
  let bucket: string;
  let srv: CliServer;
  const env = () => ({ S3_BUCKET: bucket, S3_ENDPOINT: testS3Env().endpoint });
  beforeAll(async () => {
    bucket = await createTestBucket('harden-mem');
    srv = await startCli([], env());
  });
  afterAll(async () => {
    await srv?.stop();
    if (bucket) await deleteBucketDeep(bucket);
  });

  it('12 stalled PATCHes of 64 MiB do not hold up an ordinary 9 MiB upload', async () => {
    const stalled: net.Socket[] = [];
    try {
      for (let i = 0; i < 12; i++) {
        const url = await createUpload(srv.url, 64 * MiB);
        const s = await stalledPatch(url, 0, 64 * MiB, randomBytes(1024));
        stalled.push(s.socket);
      }
      await sleep(300); // every stalled PATCH has reached the store
      const data = randomBytes(9 * MiB);
      const started = Date.now();
      const url = await createUpload(srv.url, data.length);
      const res = await patch(url, 0, data);
      const took = Date.now() - started;
      expect(res.status).toBe(204);
      expect(Number(res.headers.get('upload-offset'))).toBe(data.length);
      console.log(`9 MiB upload beside 12 stalled PATCHes: ${took} ms`);
      expect(took).toBeLessThan(2000);
      expect(await sha256OfObject(bucket, idOf(url))).toBe(sha256Hex(data));
    } finally {
      for (const s of stalled) s.destroy();
    }
  });

  it('four slow PATCHes holding every turn do not hold up an ordinary 9 MiB upload', async () => {
    // 64 KiB/s each, steadily: never silent, and a part of 8 MiB would take them 2 minutes.
    // Four such turns are the whole default part memory (32 MiB of 8 MiB parts).
    const slow = await Promise.all([1, 2, 3, 4].map(() => createUpload(srv.url, 64 * MiB)));
    const sockets: net.Socket[] = [];
    const timers: NodeJS.Timeout[] = [];
    try {
      for (const url of slow) {
        const s = await stalledPatch(url, 0, 64 * MiB, randomBytes(16 * 1024));
        sockets.push(s.socket);
        timers.push(setInterval(() => s.socket.write(randomBytes(16 * 1024)), 250));
      }
      await sleep(1000); // every slow PATCH holds its turn
      const data = randomBytes(9 * MiB);
      const started = Date.now();
      const url = await createUpload(srv.url, data.length);
      const res = await patch(url, 0, data);
      const took = Date.now() - started;
      console.log(`9 MiB upload beside 4 slow PATCHes holding every turn: ${took} ms`);
      // Without TURN_SHARE it waits memoryWait (10 s) for a queue that never moves: 503.
      expect(res.status).toBe(204);
      expect(Number(res.headers.get('upload-offset'))).toBe(data.length);
      expect(await sha256OfObject(bucket, idOf(url))).toBe(sha256Hex(data));
    } finally {
      for (const t of timers) clearInterval(t);
      for (const s of sockets) s.destroy();
    }
    // What the slow ones sent before they gave their turns back was staged: it counts.
    for (const url of slow) expect(await settledOffset(url)).toBeGreaterThan(0);
  }, 60_000);

  it('four uploads declaring 5 TiB, one byte each, grow RSS by less than 50 MiB', async () => {
    const pid = srv.proc.pid as number;
    const before = rssOf(pid);
    const urls = await Promise.all([1, 2, 3, 4].map(() => createUpload(srv.url, 5 * TiB)));
    const answers = await Promise.all(urls.map((url) => patch(url, 0, randomBytes(1))));
    expect(answers.map((r) => r.status)).toEqual([204, 204, 204, 204]);
    await sleep(200);
    const grown = rssOf(pid) - before;
    console.log(`4 uploads of 5 TiB, 1 byte each: RSS grew ${(grown / MiB).toFixed(1)} MiB`);
    expect(grown).toBeLessThan(50 * MiB);
    for (const url of urls) expect(await headOffset(url)).toBe(1);
  });
});

describe('idle body timeout (CLI --idle-timeout)', () => {
  let bucket: string;
  let srv: CliServer;
  beforeAll(async () => {
    bucket = await createTestBucket('harden-idle');
    srv = await startCli(['--idle-timeout', '1s', '--part-size', '5MiB'], {
      S3_BUCKET: bucket,
      S3_ENDPOINT: testS3Env().endpoint,
    });
  });
  afterAll(async () => {
    await srv?.stop();
    if (bucket) await deleteBucketDeep(bucket);
  });

  it('cuts a silent PATCH; the bytes it brought count at the next HEAD', async () => {
    const data = randomBytes(9 * MiB);
    const url = await createUpload(srv.url, data.length);
    // 6 MiB: a whole 5 MiB part and 1 MiB to stage.
    const sent = 6 * MiB;
    const s = await stalledPatch(url, 0, data.length, data.subarray(0, sent));
    const closed = new Promise<number>((resolve) => {
      const t0 = Date.now();
      s.socket.once('close', () => resolve(Date.now() - t0));
    });
    try {
      // The server, not the client, ends the connection: well before node's 300 s.
      const after = await Promise.race([closed, sleep(15_000).then(() => -1)]);
      expect(after).toBeGreaterThanOrEqual(0);
      expect(await settledOffset(url)).toBe(sent);
      expect(await uploadRest(url, data, sent)).toBe(data.length);
      expect(await sha256OfObject(bucket, idOf(url))).toBe(sha256Hex(data));
    } finally {
      s.socket.destroy();
    }
  });

  it('leaves a slow body that keeps sending alone', async () => {
    const data = randomBytes(2 * MiB);
    const url = await createUpload(srv.url, data.length);
    const s = await stalledPatch(url, 0, data.length, data.subarray(0, 64 * 1024));
    // Under the timeout between writes, for longer than it in all.
    for (let at = 64 * 1024; at < data.length; at += 512 * 1024) {
      await sleep(400);
      s.socket.write(data.subarray(at, Math.min(at + 512 * 1024, data.length)));
    }
    for (let i = 0; i < 50 && !/\r\n\r\n/.test(s.answer()); i++) await sleep(100);
    expect(s.answer()).toMatch(/^HTTP\/1\.1 204/);
    s.socket.destroy();
    expect(await sha256OfObject(bucket, idOf(url))).toBe(sha256Hex(data));
  });
});

/**
 * Fills the part memory (5 MiB: five slabs) with five silent PATCHes holding one slab each,
 * then sends a sixth: it waits for memory past memoryWait (1 s) and must answer 503 with a
 * Retry-After.
 */
async function memoryWaitAnswer(base: string): Promise<Response> {
  const stalled: net.Socket[] = [];
  // Under an Upload-Checksum nothing may be staged before the body matched, so a stalled
  // PATCH cannot give its part memory back (a plain one stages its bytes and does).
  const checksum = { 'Upload-Checksum': `sha1 ${Buffer.alloc(20).toString('base64')}` };
  try {
    for (let i = 0; i < 5; i++) {
      const url = await createUpload(base, 64 * MiB);
      stalled.push((await stalledPatch(url, 0, 64 * MiB, randomBytes(1024), checksum)).socket);
    }
    await sleep(300); // every stalled PATCH holds its slab
    const url = await createUpload(base, 64 * MiB);
    return await patch(url, 0, randomBytes(64 * 1024));
  } finally {
    for (const s of stalled) s.destroy();
  }
}

describe('a PATCH that cannot get memory in time', () => {
  const expectRetryAfter = (res: Response) => {
    expect(res.status).toBe(503);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  };

  it('answers 503 with Retry-After on the CLI', async () => {
    const bucket = await createTestBucket('harden-wait');
    const flags = ['--part-size', '5MiB', '--part-memory', '5MiB', '--memory-wait', '1s'];
    const srv = await startCli(flags, { S3_BUCKET: bucket, S3_ENDPOINT: testS3Env().endpoint });
    try {
      expectRetryAfter(await memoryWaitAnswer(srv.url));
    } finally {
      await srv.stop();
      await deleteBucketDeep(bucket);
    }
  });

  it('answers 503 with Retry-After under Express', async () => {
    const backend = await s3Backend();
    let app: RunningServer | undefined;
    try {
      app = await startInProcess({
        ...backend.options,
        partSize: 5 * MiB,
        partMemory: 5 * MiB,
        memoryWait: 1000,
      });
      expectRetryAfter(await memoryWaitAnswer(app.url));
    } finally {
      await app?.close();
      await backend.cleanup();
    }
  });
});
