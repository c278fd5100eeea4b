import { randomBytes } from 'node:crypto';
import { fingerprintKey, sampleHash, samplePlan } from '../src/fingerprint.js';

const MiB = 1024 * 1024;

describe('samplePlan', () => {
  test('small sources are read whole', () => {
    expect(samplePlan(1000)).toEqual([[0, 1000]]);
    expect(samplePlan(0)).toEqual([]);
  });

  test('large sources: head, tail and evenly spaced samples, sorted, in range', () => {
    const size = 10 * 1024 * MiB;
    const plan = samplePlan(size);
    expect(plan[0]).toEqual([0, 64 * 1024]);
    expect(plan[plan.length - 1]).toEqual([size - 64 * 1024, size]);
    expect(plan.length).toBe(18);
    for (let i = 1; i < plan.length; i++)
      expect(plan[i]![0]).toBeGreaterThanOrEqual(plan[i - 1]![1]);
    const read = plan.reduce((a, [s, e]) => a + (e - s), 0);
    expect(read).toBeLessThan(256 * 1024);
  });
});

describe('sampleHash and fingerprintKey', () => {
  const data = randomBytes(4 * MiB);
  const reader = (buf: Uint8Array) => async (s: number, e: number) => buf.subarray(s, e);

  test('same content -> same hash; changed sampled content -> other hash', async () => {
    const a = await sampleHash(data.length, reader(data));
    expect(await sampleHash(data.length, reader(Buffer.from(data)))).toBe(a);
    const changed = Buffer.from(data);
    changed[10] = (changed[10]! + 1) & 0xff;
    expect(await sampleHash(changed.length, reader(changed))).not.toBe(a);
    const other = randomBytes(data.length);
    expect(await sampleHash(other.length, reader(other))).not.toBe(a);
  });

  test('key covers endpoint, size, mtime and content hash', () => {
    const id = { size: 5, lastModified: 1700000000000, sampleHash: 'abc' };
    const k = fingerprintKey('http://h/files', id);
    expect(fingerprintKey('http://other/files', id)).not.toBe(k);
    expect(fingerprintKey('http://h/files', { ...id, size: 6 })).not.toBe(k);
    expect(fingerprintKey('http://h/files', { ...id, lastModified: 1 })).not.toBe(k);
    expect(fingerprintKey('http://h/files', { ...id, sampleHash: 'abd' })).not.toBe(k);
    expect(fingerprintKey('http://h/files', { ...id })).toBe(k);
  });
});
