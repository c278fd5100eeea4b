import { BufferLease } from '../src/s3/memory/buffer-pool.js';
import { PartBudget } from '../src/s3/memory/part-budget.js';
import { PartBuffer } from '../src/s3/memory/part-buffer.js';

const budgetOf = (slabs: number) => new PartBudget({ limit: slabs * 16, slabSize: 16, wait: 0 });
const tick = () => new Promise((r) => setImmediate(r));

describe('BufferLease', () => {
  it('gives back a slab the budget grants after the lease was returned', async () => {
    const budget = budgetOf(1);
    const other = new BufferLease(budget);
    const slab = await other.take();
    const lease = new BufferLease(budget);
    const late = lease.take();
    await tick();
    expect(budget.waiting).toBe(1);
    lease.returnAll();
    other.give(slab);
    await expect(late).rejects.toThrow('lease already returned');
    expect(budget.held).toBe(0);
    expect(lease.held).toBe(0);
    await expect(lease.take()).rejects.toThrow('lease already returned');
  });

  it('returns every slab still out, once', async () => {
    const budget = budgetOf(4);
    const lease = new BufferLease(budget);
    const a = await lease.take();
    await lease.take();
    lease.give(a);
    lease.give(a); // a second give of the same slab is ignored
    expect(budget.held).toBe(16);
    lease.returnAll();
    expect(budget.held).toBe(0);
    lease.returnAll();
    expect(budget.held).toBe(0);
  });
  it('holds at most its maximum; a take past it waits for one of its own to come back', async () => {
    const budget = budgetOf(64);
    const lease = new BufferLease(budget, 20); // two slabs of 16
    const a = await lease.take();
    await lease.take();
    let third: Buffer | undefined;
    const waiting = lease.take().then((b) => {
      third = b;
    });
    await tick();
    // The budget has room; only the lease's own limit holds the take back.
    expect(third).toBeUndefined();
    expect(budget.waiting).toBe(0);
    expect(lease.held).toBe(2);
    lease.give(a);
    await waiting;
    expect(third).toBe(a);
    lease.returnAll();
    expect(budget.held).toBe(0);
  });
});

describe('PartBuffer', () => {
  it('takes a slab only as bytes arrive and hands them back as views in order', async () => {
    const budget = budgetOf(8);
    const lease = new BufferLease(budget);
    const part = new PartBuffer(40, lease);
    expect(budget.held).toBe(0);
    const body = Buffer.from(Array.from({ length: 40 }, (_, i) => i));
    let pos = 0;
    const steps: number[] = [];
    while (pos < body.length) {
      if (part.needsSlab) await part.grow();
      steps.push(budget.held);
      pos += part.copy(body, pos);
    }
    expect(part.full).toBe(true);
    // 16 + 16 + 8 bytes: three slabs, each taken when its first byte came.
    expect(steps).toEqual([16, 32, 48]);
    expect(Buffer.concat(part.chunks())).toEqual(body);
    expect(Buffer.concat(part.slice(10, 35))).toEqual(body.subarray(10, 35));
    part.release();
    expect(budget.held).toBe(0);
  });
  it('gives back the slabs before a point early, and then refuses to read them', async () => {
    const budget = budgetOf(8);
    const lease = new BufferLease(budget);
    const part = new PartBuffer(48, lease);
    const body = Buffer.alloc(48, 7);
    for (let pos = 0; pos < 48; ) {
      if (part.needsSlab) await part.grow();
      pos += part.copy(body, pos);
    }
    part.freeBefore(40); // slabs 0 and 1 wholly before 40
    expect(budget.held).toBe(16);
    expect(part.lostBytes).toBe(true);
    expect(() => part.chunks()).toThrow(/given back/);
    part.release();
    expect(budget.held).toBe(0);
  });
});
