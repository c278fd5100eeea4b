// Issue 20, must-show 8: a paused lock holder cannot undo an acknowledged byte. Two server
// processes (the CLI) on one bucket and one Redis with a short lease. Instance A receives a
// PATCH streamed slowly and is SIGSTOPped at a random moment; past its lease, instance B
// takes the upload over from its HEAD offset and acknowledges more bytes; the stalled
// client's connection to A is cut and A resumes (SIGCONT), with the bytes it received and
// the belief that it still holds the lock. No HEAD on either instance may then report an
// offset below what B acknowledged, and the object ends exact. 20 repetitions.
import { randomBytes, randomInt } from 'node:crypto';
import type { Socket } from 'node:net';
import { Redis } from 'ioredis';
import { testRedisUrl } from './helpers/redis.js';
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
  uploadRest,
} from './helpers/server.js';
import { stalledPatch } from './helpers/stalled-patch.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const PS = 5 * MiB;
const LEASE_MS = 600;
const REPETITIONS = 20;

let backend: Backend;
let redis: Redis;
let a: CliServer;
let b: CliServer;

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
  backend = await s3Backend('fence/');
  redis = new Redis(testRedisUrl());
  [a, b] = await Promise.all([instance(), instance()]);
});

afterAll(async () => {
  // A stopped process ignores SIGKILL's wait only if never continued: continue it first.
  a?.proc.kill('SIGCONT');
  await Promise.all([a?.stop('SIGKILL'), b?.stop('SIGKILL')]);
  await redis?.quit();
  await backend?.cleanup().catch(() => {});
});

/** `url` on another instance: same path, that instance's origin. */
const via = (server: CliServer, url: string) => new URL(new URL(url).pathname, server.url).href;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function lockTaken(id: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if ((await redis.exists(`tus-s3:lock:${id}`)) === 1) return;
    await sleep(10);
  }
  throw new Error(`lock of ${id} never taken`);
}

/** Writes `data` to `socket` in small pieces, one every few ms, until stopped. */
function trickle(socket: Socket, data: Buffer): { stop(): void } {
  let at = 0;
  const timer = setInterval(() => {
    if (at >= data.length || socket.destroyed) return clearInterval(timer);
    const n = 48 * KiB;
    socket.write(data.subarray(at, at + n));
    at += n;
  }, 10);
  return { stop: () => clearInterval(timer) };
}

/** HEADs on both instances for `ms`: every offset seen. */
async function offsetsFor(url: string, ms: number): Promise<number[]> {
  const seen: number[] = [];
  const until = Date.now() + ms;
  while (Date.now() < until) {
    for (const server of [a, b]) seen.push(await headOffset(via(server, url)));
  }
  return seen;
}

/** One repetition; returns what it saw, for the failure message and the summary. */
async function repetition(i: number) {
  // An upload of two parts: A's and B's tails are staged segments in part 1 or 2.
  const data = randomBytes(2 * PS);
  const url = await createUpload(a.url, data.length);
  // Sometimes the upload already has an acknowledged segment A continues.
  const start = i % 2 === 0 ? 0 : randomInt(1, 512) * KiB;
  if (start > 0) expect((await patch(url, 0, data.subarray(0, start))).status).toBe(204);
  // The PATCH declares the whole rest, so A keeps waiting for more when it is stopped.
  const first = data.subarray(start, start + 16 * KiB);
  const stalled = await stalledPatch(url, start, data.length - start, first);
  await lockTaken(idOf(url));
  const feed = trickle(stalled.socket, data.subarray(start + first.length));
  // Early, mid-part, or once A has sent part 1 whole and stages what follows it.
  await sleep(randomInt(20, 1_400));
  a.proc.kill('SIGSTOP');
  feed.stop();
  try {
    await sleep(LEASE_MS + 400);
    // B takes over from what S3 holds and acknowledges more bytes.
    const from = await headOffset(via(b, url));
    expect(from).toBeGreaterThanOrEqual(start);
    const more = randomInt(64, 3 * 1024) * KiB;
    // Never the last byte: the upload stays open for A's late writes to matter.
    const to = Math.min(from + more, data.length - 1);
    const res = await patch(via(b, url), from, data.subarray(from, to));
    expect(res.status).toBe(204);
    const acked = Number(res.headers.get('upload-offset'));
    expect(acked).toBeGreaterThan(from);
    stalled.socket.destroy();
    a.proc.kill('SIGCONT');
    const seen = await offsetsFor(url, 900);
    const low = Math.min(...seen);
    if (low < acked) {
      throw new Error(
        `repetition ${i}: acknowledged ${acked} (B from ${from}), then a HEAD said ${low}`,
      );
    }
    const end = await uploadRest(via(b, url), data, await headOffset(via(b, url)));
    expect(end).toBe(data.length);
    expect(await backend.sha256Of(idOf(url))).toBe(sha256Hex(data));
    return { start, from, acked, low };
  } finally {
    a.proc.kill('SIGCONT');
    stalled.socket.destroy();
  }
}

test(`a holder paused past its lease never lowers an acknowledged offset (${REPETITIONS} runs)`, async () => {
  const runs: Array<{ start: number; from: number; acked: number; low: number }> = [];
  for (let i = 0; i < REPETITIONS; i++) runs.push(await repetition(i));
  // Whether B found any of A's bytes staged depends on the moment A stopped.
  console.log(
    `fencing: ${runs.length} runs; B resumed past the stalled PATCH's start in ` +
      `${runs.filter((r) => r.from > r.start).length}`,
  );
}, 150_000);
