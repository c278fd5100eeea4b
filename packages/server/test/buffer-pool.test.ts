import { BufferPool } from '../src/s3/memory/buffer-pool.js';
import { PartBudget } from '../src/s3/memory/part-budget.js';

const poolOf = (limit: number, minCachedSize = 0) => {
  const budget = new PartBudget(limit);
  return { budget, pool: new BufferPool({ budget, minCachedSize }) };
};

describe('BufferPool', () => {
  it('hands back a returned buffer of the same size', async () => {
    const { pool } = poolOf(4096);
    const a = await pool.take(1024);
    pool.give(a);
    expect(await pool.take(1024)).toBe(a);
    expect(await pool.take(1024)).not.toBe(a);
  });
  it('keeps every returned buffer the budget could hold again', async () => {
    const { pool } = poolOf(32);
    const a = await pool.take(16);
    const b = await pool.take(16);
    pool.give(a);
    pool.give(b);
    const again = [await pool.take(16), await pool.take(16)];
    expect(again.indexOf(a)).not.toBe(-1);
    expect(again.indexOf(b)).not.toBe(-1);
  });
  it('never mixes sizes', async () => {
    const { pool } = poolOf(64);
    const small = await pool.take(8);
    pool.give(small);
    expect((await pool.take(16)).length).toBe(16);
  });
  it('does not keep buffers under minCachedSize, but returns their budget', async () => {
    const { budget, pool } = poolOf(64, 32);
    const a = await pool.take(16);
    expect(budget.held).toBe(16);
    pool.give(a);
    expect(budget.held).toBe(0);
    expect(await pool.take(16)).not.toBe(a);
  });
  it('makes take() wait while the budget is spent', async () => {
    const { budget, pool } = poolOf(32);
    const a = await pool.take(16);
    await pool.take(16);
    let got: Buffer | undefined;
    const waiting = pool.take(16).then((b) => {
      got = b;
    });
    await Promise.resolve();
    expect(got).toBeUndefined();
    expect(budget.waiting).toBe(1);
    pool.give(a);
    await waiting;
    expect(got).toBe(a);
  });
});

describe('BufferLease', () => {
  it('returns every buffer still out, once', async () => {
    const { budget, pool } = poolOf(64);
    const lease = pool.lease();
    const a = await lease.take(16);
    await lease.take(16);
    lease.give(a);
    lease.give(a); // a second give of the same buffer is ignored
    expect(budget.held).toBe(16);
    lease.returnAll();
    expect(budget.held).toBe(0);
    lease.returnAll();
    expect(budget.held).toBe(0);
  });
  it('holds at most its maximum; a take past it waits for one of its own to come back', async () => {
    const { budget, pool } = poolOf(1024);
    const lease = pool.lease(2);
    const a = await lease.take(16);
    await lease.take(16);
    let third: Buffer | undefined;
    const waiting = lease.take(16).then((b) => {
      third = b;
    });
    await new Promise((r) => setImmediate(r));
    // The pool has room; only the lease's own limit holds the take back.
    expect(third).toBeUndefined();
    expect(budget.waiting).toBe(0);
    expect(lease.held).toBe(2);
    lease.give(a);
    await waiting;
    expect(third).toBe(a);
    expect(lease.held).toBe(2);
    lease.returnAll();
    expect(budget.held).toBe(0);
  });
  it('a buffer given back twice frees one place, not two', async () => {
    const { pool } = poolOf(1024);
    const lease = pool.lease(1);
    const a = await lease.take(16);
    lease.give(a);
    lease.give(a);
    const b = await lease.take(16);
    let next: Buffer | undefined;
    void lease.take(16).then((x) => {
      next = x;
    });
    await new Promise((r) => setImmediate(r));
    expect(next).toBeUndefined();
    lease.give(b);
    await new Promise((r) => setImmediate(r));
    expect(next).toBeDefined();
    lease.returnAll();
  });
  it('refuses a maximum below one buffer', () => {
    const { pool } = poolOf(64);
    expect(() => pool.lease(0)).toThrow(RangeError);
  });
});
