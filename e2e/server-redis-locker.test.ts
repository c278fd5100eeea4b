// RedisLocker against the real redis-server the test run starts: each RedisLocker with its
// own connection stands for one server instance. Exclusion, the cross-instance request to
// let go, 423 on timeout, leases that outlive a SIGKILLed holder by one lease and no
// more, and a holder that finds its lease taken over stopping its request. (The lock
// generation each request is told is read from the request context: see
// packages/server/test/redis-locker-generation.test.ts.)
import { spawn } from 'node:child_process';
import path from 'node:path';
import { RedisLocker } from '@tus-s3/server';
import { Redis } from 'ioredis';
import { testRedisUrl } from './helpers/redis.js';
import { repoRoot } from './helpers/server.js';

const connections: Redis[] = [];
const lockers: RedisLocker[] = [];
let prefix: string;
let n = 0;

function instance(opts: { acquireTimeout?: number; lease?: number } = {}): RedisLocker {
  const redis = new Redis(testRedisUrl());
  connections.push(redis);
  const locker = new RedisLocker({ redis, prefix, ...opts });
  lockers.push(locker);
  return locker;
}

const never = () => new AbortController().signal;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeEach(() => {
  prefix = `test-lock-${process.pid}-${++n}:`;
});

afterEach(async () => {
  await Promise.all(lockers.splice(0).map((l) => l.close()));
  await Promise.all(connections.splice(0).map((c) => c.quit()));
});

test('two instances: the waiter asks the holder to let go, and gets the lock once it does', async () => {
  const a = instance();
  const b = instance();
  const held = a.newLock('up1');
  const events: string[] = [];
  let releaseAsked!: () => void;
  const asked = new Promise<void>((r) => {
    releaseAsked = r;
  });
  await held.lock(never(), () => {
    events.push('a asked to release');
    releaseAsked();
  });
  const waiting = b
    .newLock('up1')
    .lock(never(), () => {})
    .then(() => events.push('b acquired'));
  await asked;
  await sleep(100);
  events.push('a unlocks');
  await held.unlock();
  await waiting;
  expect(events).toEqual(['a asked to release', 'a unlocks', 'b acquired']);
});

test('three instances taking turns on one upload never overlap', async () => {
  const all = [instance(), instance(), instance()];
  let inside = 0;
  let most = 0;
  let turns = 0;
  await Promise.all(
    all.flatMap((locker) =>
      [0, 1, 2, 3].map(async () => {
        const lock = locker.newLock('busy');
        await lock.lock(never(), () => {});
        inside++;
        most = Math.max(most, inside);
        await sleep(5);
        turns++;
        inside--;
        await lock.unlock();
      }),
    ),
  );
  expect(turns).toBe(12);
  expect(most).toBe(1);
});

test('a holder that does not let go: the waiter gets 423 after its timeout, nothing is left', async () => {
  const a = instance();
  const b = instance({ acquireTimeout: 600 });
  const held = a.newLock('stuck');
  await held.lock(never(), () => {});
  const err = await b
    .newLock('stuck')
    .lock(never(), () => {})
    .then(
      () => undefined,
      (e: unknown) => e,
    );
  expect(err).toMatchObject({ status_code: 423 });
  await held.unlock();
  // Only the count of the lock's generations stays (it expires on its own), and the one
  // fencing counter of all uploads (it never does: it may only grow).
  const keys = await connections[0]?.keys(`${prefix}*`);
  expect(keys?.sort()).toEqual([`${prefix}fencing/generation`, `${prefix}generation/stuck`]);
});

test('an aborted wait rejects and leaves the lock to its holder', async () => {
  const a = instance();
  const b = instance();
  const held = a.newLock('abort');
  await held.lock(never(), () => {});
  const stop = new AbortController();
  const waiting = b.newLock('abort').lock(stop.signal, () => {});
  await sleep(300);
  stop.abort();
  await expect(waiting).rejects.toMatchObject({ status_code: 423 });
  expect(await connections[0]?.exists(`${prefix}abort`)).toBe(1);
  await held.unlock();
});

test('a live holder keeps its lock past many leases; a dead one loses it one lease later', async () => {
  const lease = 400;
  const a = instance({ lease });
  const b = instance({ lease, acquireTimeout: 5 * lease });
  const held = a.newLock('renewed');
  await held.lock(never(), () => {});
  // Renewed every lease / 3, the lock outlives the waiter's whole timeout.
  await expect(b.newLock('renewed').lock(never(), () => {})).rejects.toMatchObject({
    status_code: 423,
  });
  await held.unlock();

  // A holder in another process, SIGKILLed while it holds the lock.
  const child = spawn(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `import { RedisLocker } from '@tus-s3/server';
       import { Redis } from 'ioredis';
       const locker = new RedisLocker({ redis: new Redis(${JSON.stringify(testRedisUrl())}), prefix: ${JSON.stringify(prefix)}, lease: ${lease} });
       await locker.newLock('crashed').lock(new AbortController().signal, () => {});
       process.stdout.write('holding\\n');
       setInterval(() => {}, 1000);`,
    ],
    { cwd: path.join(repoRoot, 'e2e'), stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => d.toString().includes('holding') && resolve());
    child.once('exit', (code) => reject(new Error(`holder exited early: ${code}`)));
  });
  await sleep(2 * lease); // renewed while alive
  expect(await connections[0]?.exists(`${prefix}crashed`)).toBe(1);
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
  const killedAt = Date.now();
  await b.newLock('crashed').lock(never(), () => {});
  const waited = Date.now() - killedAt;
  // Not before the dead holder's last renewal ran out, and not long after.
  expect(waited).toBeGreaterThan(lease / 3);
  expect(waited).toBeLessThan(lease + 1000);
});

test('a holder whose lease was taken over is told to stop, and its unlock frees nothing', async () => {
  const a = instance({ lease: 300 });
  const held = a.newLock('taken');
  let stopped!: () => void;
  const told = new Promise<void>((r) => {
    stopped = r;
  });
  await held.lock(never(), () => stopped());
  // What a lease that ran out during a long pause, and another instance's lock, look like.
  await connections[0]?.set(`${prefix}taken`, 'someone-else', 'PX', 10_000);
  await told;
  await held.unlock();
  expect(await connections[0]?.get(`${prefix}taken`)).toBe('someone-else');
});

test('a Redis that does not answer: the lock fails with 423 at its timeout, never hangs', async () => {
  // A port nothing listens on: ioredis queues the commands and keeps reconnecting.
  // (disconnectTimeout: ioredis's timer for a socket that never closes, 2 s by default.)
  const redis = new Redis('redis://127.0.0.1:1', { lazyConnect: true, disconnectTimeout: 50 });
  redis.on('error', () => {});
  connections.push(redis);
  const locker = new RedisLocker({ redis, prefix, acquireTimeout: 500 });
  lockers.push(locker);
  await expect(locker.newLock('offline').lock(never(), () => {})).rejects.toMatchObject({
    status_code: 423,
  });
  connections.pop();
  redis.disconnect();
});

test('a lease under 300 ms is refused', () => {
  expect(() => instance({ lease: 100 })).toThrow('lock lease must be at least 300 ms');
});
