import { TusError } from '../src/errors.js';
import { DEFAULT_PART_MEMORY, PartBudget, partMemoryBudget } from '../src/s3/memory/part-budget.js';

const MiB = 1024 * 1024;
const flush = () => new Promise((r) => setImmediate(r));
/** A budget of `slabs` slabs of 16 bytes. */
const budgetOf = (slabs: number, wait = 0) =>
  new PartBudget({ limit: slabs * 16, slabSize: 16, wait });

describe('PartBudget', () => {
  it('hands out slabs at once while the limit leaves room', async () => {
    const b = budgetOf(3);
    const slabs = await Promise.all([b.take(), b.take(), b.take()]);
    expect(slabs.every((s) => s.length === 16)).toBe(true);
    expect(b.held).toBe(48);
    expect(b.waiting).toBe(0);
  });
  it('never holds more than its limit, slabs in use and kept together', async () => {
    const b = budgetOf(4);
    const seen = new Set<Buffer>();
    for (let round = 0; round < 5; round++) {
      const slabs = await Promise.all([b.take(), b.take(), b.take(), b.take()]);
      for (const s of slabs) seen.add(s);
      expect(b.held + b.cached).toBeLessThanOrEqual(b.limit);
      for (const s of slabs) b.give(s);
      expect(b.held).toBe(0);
      expect(b.cached).toBe(64);
    }
    // Five rounds of four slabs: the same four slabs every time.
    expect(seen.size).toBe(4);
  });
  it('counts kept slabs: a take past the limit waits even though nothing is in use long', async () => {
    const b = budgetOf(2);
    const a = await b.take();
    const c = await b.take();
    b.give(a);
    // One kept, one in use: a take reuses the kept one and a further one must wait.
    const d = await b.take();
    expect(d).toBe(a);
    let got: Buffer | undefined;
    const p = b.take().then((s) => {
      got = s;
    });
    await flush();
    expect(got).toBeUndefined();
    expect(b.waiting).toBe(1);
    b.give(c);
    await p;
    expect(got).toBe(c);
    expect(b.held).toBe(32);
  });
  it('grants in arrival order: a later take does not overtake a waiting one', async () => {
    const b = budgetOf(1);
    const first = await b.take();
    const order: string[] = [];
    const p1 = b.take().then((s) => {
      order.push('second');
      b.give(s);
    });
    const p2 = b.take().then((s) => {
      order.push('third');
      b.give(s);
    });
    await flush();
    expect(order).toEqual([]);
    b.give(first);
    await Promise.all([p1, p2]);
    expect(order).toEqual(['second', 'third']);
    // A take arriving while others wait queues behind them, even if a slab is kept.
    const x = await b.take();
    const y = b.take();
    b.give(x);
    await y;
  });
  it('fails a wait at its deadline with 503 and Retry-After, and forgets the waiter', async () => {
    const b = budgetOf(1, 30);
    const held = await b.take();
    const started = Date.now();
    const err = await b.take().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(TusError);
    expect((err as TusError).status_code).toBe(503);
    expect((err as TusError).retryAfter).toBe(1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(25);
    expect(b.waiting).toBe(0);
    // The slab given back later is kept, not handed to the expired waiter.
    b.give(held);
    expect(b.held).toBe(0);
    expect(b.cached).toBe(16);
  });
  it('a waiter granted before its deadline is not failed after it', async () => {
    const b = budgetOf(1, 30);
    const held = await b.take();
    const p = b.take();
    b.give(held);
    const got = await p;
    await new Promise((r) => setTimeout(r, 50));
    expect(got).toBe(held);
    expect(b.held).toBe(16);
  });
  it('rounds the limit down to whole slabs, never below one', () => {
    expect(new PartBudget({ limit: 40, slabSize: 16 }).limit).toBe(32);
    expect(new PartBudget({ limit: 8, slabSize: 16 }).limit).toBe(16);
  });
  it('refuses a slab given back when none is out', async () => {
    const b = budgetOf(1);
    expect(() => b.give(Buffer.alloc(16))).toThrow(/twice/);
  });
  it('refuses a budget that is not positive', () => {
    expect(() => new PartBudget({ limit: 0 })).toThrow(RangeError);
  });
});

describe('partMemoryBudget', () => {
  it('uses the configured budget as given', () => {
    expect(partMemoryBudget(10 * MiB, 2, 8 * MiB)).toBe(10 * MiB);
  });
  it('defaults to 32 MiB', () => {
    expect(partMemoryBudget(undefined, 2, 8 * MiB)).toBe(DEFAULT_PART_MEMORY);
    expect(DEFAULT_PART_MEMORY).toBe(32 * MiB);
  });
  it('defaults to at least the buffers of one PATCH', () => {
    expect(partMemoryBudget(undefined, 2, 64 * MiB)).toBe(128 * MiB);
    expect(partMemoryBudget(0, 3, 32 * MiB)).toBe(96 * MiB);
  });
});
