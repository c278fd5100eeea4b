import { BufferPool } from '../src/s3/buffer-pool.js';

describe('BufferPool', () => {
  it('hands back a returned buffer of the same size', () => {
    const pool = new BufferPool(2);
    const a = pool.take(1024);
    pool.give(a);
    expect(pool.take(1024)).toBe(a);
    expect(pool.take(1024)).not.toBe(a);
  });
  it('keeps at most maxFreePerSize free buffers per size', () => {
    const pool = new BufferPool(1);
    const a = pool.take(16);
    const b = pool.take(16);
    pool.give(a);
    pool.give(b);
    expect(pool.take(16)).toBe(a);
    expect(pool.take(16)).not.toBe(b);
  });
  it('never mixes sizes', () => {
    const pool = new BufferPool(2);
    pool.give(Buffer.alloc(8));
    expect(pool.take(16).length).toBe(16);
  });
});
