// The lock generation a request is told: RedisLocker announces each acquisition, and the front
// notes it in the request context (front/request-context.ts), which only the package itself can
// open, so this test lives here rather than in e2e/. Needs the redis-server that Jest's global
// setup starts.
import { Redis } from 'ioredis';
import { notingLockGenerations } from '../src/front/handler.js';
import { type RequestContext, requestContext } from '../src/front/request-context.js';
import { RedisLocker } from '../src/locks/redis-locker.js';

const connections: Redis[] = [];
const lockers: RedisLocker[] = [];
let prefix: string;
let n = 0;

function testRedisUrl(): string {
  const url = process.env.TUS_S3_TEST_REDIS_URL;
  if (!url) throw new Error('TUS_S3_TEST_REDIS_URL is not set (jest global setup starts redis)');
  return url;
}

/** One RedisLocker with its own connection: one server instance. */
function instance(): RedisLocker {
  const redis = new Redis(testRedisUrl());
  connections.push(redis);
  const locker = new RedisLocker({ redis, prefix });
  lockers.push(locker);
  return locker;
}

const never = () => new AbortController().signal;

beforeEach(() => {
  prefix = `test-lock-gen-${process.pid}-${++n}:`;
});

afterEach(async () => {
  await Promise.all(lockers.splice(0).map((l) => l.close()));
  await Promise.all(connections.splice(0).map((c) => c.quit()));
});

test('each acquisition of an upload lock, on any instance, is the next generation', async () => {
  const [a, b] = [instance(), instance()];
  // As createTusServer has it done for its locker.
  for (const locker of [a, b]) notingLockGenerations(locker);
  /** One request on `locker` that locks `id`: the generation the request was told. */
  const request = async (locker: RedisLocker, id: string) => {
    const ctx: RequestContext = { baseUrl: '/files', method: 'PATCH', reply: {} };
    await requestContext.run(ctx, async () => {
      const lock = locker.newLock(id);
      await lock.lock(never(), () => {});
      await lock.unlock();
    });
    return ctx.lockGenerations?.get(id) as number;
  };
  const first = await request(a, 'u');
  expect(first).toBeGreaterThan(0);
  expect(await request(a, 'u')).toBe(first + 1);
  // Another instance's request counts as much as this one's; another upload's not at all.
  expect(await request(b, 'u')).toBe(first + 2);
  const other = await request(a, 'v');
  expect(await request(a, 'u')).toBe(first + 3);
  expect(await request(b, 'v')).toBe(other + 1);
  // The count lives in Redis, next to the lock, and expires on its own.
  const redis = new Redis(testRedisUrl());
  connections.push(redis);
  expect(Number(await redis.get(`${prefix}generation/u`))).toBe(first + 3);
  expect(await redis.pttl(`${prefix}generation/u`)).toBeGreaterThan(3600_000);
  expect(await redis.exists(`${prefix}u`)).toBe(0);
});
