import { DEFAULT_PART_MEMORY, PartBudget, partMemoryBudget } from '../src/s3/memory/part-budget.js';

const MiB = 1024 * 1024;
const flush = () => new Promise((r) => setImmediate(r));

describe('PartBudget', () => {
  it('grants at once while the bytes fit', async () => {
    const b = new PartBudget(100);
    await b.acquire(60);
    await b.acquire(40);
    expect(b.held).toBe(100);
    expect(b.waiting).toBe(0);
  });
  it('makes a request wait until enough is released, never failing it', async () => {
    const b = new PartBudget(100);
    await b.acquire(80);
    let granted = false;
    const p = b.acquire(40).then(() => {
      granted = true;
    });
    await flush();
    expect(granted).toBe(false);
    b.release(30); // 50 held: 40 more fits
    await p;
    expect(granted).toBe(true);
    expect(b.held).toBe(90);
  });
  it('grants in arrival order: a small request does not overtake a waiting large one', async () => {
    const b = new PartBudget(100);
    await b.acquire(90);
    const order: string[] = [];
    const big = b.acquire(60).then(() => order.push('big'));
    const small = b.acquire(5).then(() => order.push('small'));
    await flush();
    expect(order).toEqual([]); // 5 would fit, but the large request came first
    b.release(90);
    await Promise.all([big, small]);
    expect(order).toEqual(['big', 'small']);
    expect(b.held).toBe(65);
  });
  it('grants a request over the whole budget once nothing else is held', async () => {
    const b = new PartBudget(100);
    await b.acquire(10);
    let granted = false;
    const p = b.acquire(250).then(() => {
      granted = true;
    });
    await flush();
    expect(granted).toBe(false);
    b.release(10);
    await p;
    expect(b.held).toBe(250);
    b.release(250);
    expect(b.held).toBe(0);
  });
  it('lets one pipeline that waits on its own parts in flight go on (no deadlock)', async () => {
    // One request, budget for two buffers, three wanted (2 in flight + 1 filling): the
    // third waits for the first part's upload, which releases it without the request's help.
    const b = new PartBudget(2);
    await b.acquire(1); // part 1, then sent
    await b.acquire(1); // part 2, then sent
    const uploads = [1, 2].map(() => flush().then(() => b.release(1)));
    await b.acquire(1); // part 3: granted when part 1's upload ends
    await Promise.all(uploads);
    expect(b.held).toBe(1);
  });
  it('refuses to release more than is held', () => {
    const b = new PartBudget(10);
    expect(() => b.release(1)).toThrow(/only 0 held/);
  });
  it('refuses a budget that is not positive', () => {
    expect(() => new PartBudget(0)).toThrow(RangeError);
  });
});

describe('partMemoryBudget', () => {
  it('uses the configured budget as given', () => {
    expect(partMemoryBudget(10 * MiB, 2, 8 * MiB)).toBe(10 * MiB);
  });
  it('defaults to 64 MiB', () => {
    expect(partMemoryBudget(undefined, 2, 8 * MiB)).toBe(DEFAULT_PART_MEMORY);
  });
  it('defaults to at least the buffers of one PATCH', () => {
    expect(partMemoryBudget(undefined, 2, 64 * MiB)).toBe(128 * MiB);
    expect(partMemoryBudget(0, 3, 32 * MiB)).toBe(96 * MiB);
  });
});
