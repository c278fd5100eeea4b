// The Fence a RedisLocker hands each acquisition: its generation only grows, across uploads
// and instances, and assertHeld refuses once the lease may have run out, before any timer
// of the (paused) holder could notice. Needs the redis-server Jest's global setup starts.
import { Redis } from 'ioredis';
import { type Fence, leaseHolds } from '../src/locks/fence.js';
import { RedisLocker } from '../src/locks/redis-locker.js';

describe('leaseHolds', () => {
  const start = { wall: 1_000, mono: 50 };
  it('holds while both clocks say less than the lease minus the margin has passed', () => {
    expect(leaseHolds(start, 900, 300, { wall: 1_500, mono: 550 })).toBe(true);
    expect(leaseHolds(start, 900, 300, { wall: 1_600, mono: 650 })).toBe(false);
  });
  it('trusts neither clock alone', () => {
    // The wall clock stepped back; the monotonic one says the lease ran out.
    expect(leaseHolds(start, 900, 300, { wall: 900, mono: 2_000 })).toBe(false);
    // The monotonic clock stood still (a machine asleep); the wall clock moved on.
    expect(leaseHolds(start, 900, 300, { wall: 5_000, mono: 60 })).toBe(false);
  });
});

describe('RedisLocker fences', () => {
  const connections: Redis[] = [];
  const lockers: RedisLocker[] = [];
  const prefix = `test-fence-${process.pid}:`;
  const never = () => new AbortController().signal;

  function instance(lease = 600): RedisLocker {
    const url = process.env.TUS_S3_TEST_REDIS_URL;
    if (!url) throw new Error('TUS_S3_TEST_REDIS_URL is not set (jest global setup starts redis)');
    const redis = new Redis(url);
    connections.push(redis);
    const locker = new RedisLocker({ redis, prefix, lease });
    lockers.push(locker);
    return locker;
  }

  afterAll(async () => {
    await Promise.all(lockers.splice(0).map((l) => l.close()));
    await Promise.all(connections.splice(0).map((c) => c.quit()));
  });

  /** Takes `id`'s lock on `locker`: the fence it hands out, and the lock. */
  async function take(locker: RedisLocker, id: string) {
    let fence: Fence | undefined;
    locker.onAcquired((lockId, _generation, f) => {
      if (lockId === id) fence = f;
    });
    const lock = locker.newLock(id);
    await lock.lock(never(), () => {});
    if (!fence) throw new Error('no fence announced');
    return { fence, lock };
  }

  it('hands out ever greater generations, across uploads and instances', async () => {
    const [a, b] = [instance(), instance()];
    const seen: number[] = [];
    for (const [locker, id] of [
      [a, 'u'],
      [b, 'u'],
      [a, 'v'],
      [b, 'w'],
      [a, 'u'],
    ] as const) {
      const { fence, lock } = await take(locker, id);
      fence.assertHeld();
      seen.push(fence.generation);
      await lock.unlock();
    }
    expect(seen[0]).toBeGreaterThan(0);
    for (let i = 1; i < seen.length; i++) expect(seen[i]).toBeGreaterThan(seen[i - 1] as number);
  });

  it('refuses once released, and once the lease may have run out without renewal', async () => {
    const a = instance();
    const { fence, lock } = await take(a, 'x');
    fence.assertHeld();
    // A busy or stopped event loop: renewal cannot run, so the lease ages. Blocking the
    // loop is what a paused process looks like to its own clocks once it wakes.
    const until = Date.now() + 560;
    while (Date.now() < until) {}
    expect(() => fence.assertHeld()).toThrow(expect.objectContaining({ status_code: 423 }));
    await lock.unlock();
    const again = await take(a, 'x');
    // Renewed while the loop runs: the lease holds well past its own length.
    await new Promise((r) => setTimeout(r, 1_500));
    again.fence.assertHeld();
    await again.lock.unlock();
    expect(() => again.fence.assertHeld()).toThrow(expect.objectContaining({ status_code: 423 }));
  });

  it('refuses the old holder once another instance took the lock over', async () => {
    const [a, b] = [instance(), instance()];
    const old = await take(a, 'y');
    const until = Date.now() + 700;
    // Past its lease in Redis too: b takes the lock while a's loop is blocked.
    while (Date.now() < until) {}
    const next = await take(b, 'y');
    expect(next.fence.generation).toBeGreaterThan(old.fence.generation);
    expect(() => old.fence.assertHeld()).toThrow(expect.objectContaining({ status_code: 423 }));
    next.fence.assertHeld();
    await next.lock.unlock();
    await old.lock.unlock();
  });
});
