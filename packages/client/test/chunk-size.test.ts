import { ChunkSizer, KiB, MiB, parseChunkSize, parseSize } from '../src/chunk-size.js';

describe('ChunkSizer', () => {
  test('fixed size never changes with throughput', () => {
    const s = new ChunkSizer(5 * MiB);
    s.record(5 * MiB, 1);
    s.record(5 * MiB, 1_000_000);
    expect(s.current).toBe(5 * MiB);
    expect(s.adaptive).toBe(false);
  });

  test('adaptive grows on fast requests, at most doubling per step, up to max', () => {
    const s = new ChunkSizer({
      initial: 1 * MiB,
      min: 256 * KiB,
      max: 8 * MiB,
      targetDurationMs: 1000,
    });
    s.record(1 * MiB, 10); // 100 MiB/s -> ideal 100 MiB, capped at x2
    expect(s.current).toBe(2 * MiB);
    for (let i = 0; i < 10; i++) s.record(s.current, 10);
    expect(s.current).toBe(8 * MiB);
  });

  test('adaptive shrinks on slow requests, at most halving per step, down to min', () => {
    const s = new ChunkSizer({
      initial: 4 * MiB,
      min: 256 * KiB,
      max: 64 * MiB,
      targetDurationMs: 1000,
    });
    s.record(4 * MiB, 100_000);
    expect(s.current).toBe(2 * MiB);
    for (let i = 0; i < 20; i++) s.record(s.current, 100_000);
    expect(s.current).toBe(256 * KiB);
  });

  test('adaptive converges toward the target duration', () => {
    const s = new ChunkSizer({
      initial: 1 * MiB,
      min: 64 * KiB,
      max: 1024 * MiB,
      targetDurationMs: 2000,
    });
    const rate = 10 * MiB; // bytes per second
    for (let i = 0; i < 20; i++) s.record(s.current, (s.current / rate) * 1000);
    expect(s.current).toBeGreaterThanOrEqual(19 * MiB);
    expect(s.current).toBeLessThanOrEqual(20 * MiB);
  });

  test('short (last) chunks do not steer', () => {
    const s = new ChunkSizer({ initial: 4 * MiB, targetDurationMs: 1000 });
    s.record(1000, 100_000);
    expect(s.current).toBe(4 * MiB);
  });

  test('413 halves the size and lowers the ceiling', () => {
    const s = new ChunkSizer({
      initial: 16 * MiB,
      min: 1 * MiB,
      max: 64 * MiB,
      targetDurationMs: 1000,
    });
    expect(s.tooLarge(16 * MiB)).toBe(true);
    expect(s.current).toBe(8 * MiB);
    for (let i = 0; i < 10; i++) s.record(s.current, 1);
    expect(s.current).toBe(8 * MiB);
    expect(s.tooLarge(8 * MiB)).toBe(true);
    expect(s.tooLarge(4 * MiB)).toBe(true);
    expect(s.tooLarge(2 * MiB)).toBe(true);
    expect(s.current).toBe(1 * MiB);
    expect(s.tooLarge(1 * MiB)).toBe(false);
  });

  test('fixed size also shrinks on 413', () => {
    const s = new ChunkSizer(1000);
    expect(s.tooLarge(1000)).toBe(true);
    expect(s.current).toBe(500);
  });
});

describe('size parsing', () => {
  test.each([
    ['1048576', 1048576],
    ['8M', 8 * MiB],
    ['8MiB', 8 * MiB],
    ['512k', 512 * KiB],
    ['1.5G', 1.5 * 1024 * MiB],
  ])('%s', (t, n) => {
    expect(parseSize(t)).toBe(n);
  });
  test('auto', () => expect(parseChunkSize('AUTO')).toBe('auto'));
  test.each(['', 'x', '0', '-1M', '5 parsecs'])('rejects %p', (t) => {
    expect(() => parseSize(t)).toThrow(RangeError);
  });
});

test('failed requests halve an adaptive size (down to min), not a fixed one', () => {
  const a = new ChunkSizer({ initial: 4 * MiB, min: 1 * MiB });
  a.failed();
  expect(a.current).toBe(2 * MiB);
  a.failed();
  a.failed();
  expect(a.current).toBe(1 * MiB);
  const f = new ChunkSizer(4 * MiB);
  f.failed();
  expect(f.current).toBe(4 * MiB);
});
