import { adoptingFinal, isRepeatOf } from '../src/s3/concat/named-partials.js';
import type { UploadInfo } from '../src/s3/info.js';

const base = { version: 1 as const, partSize: 5 * 1024 * 1024, createdAt: '2026-11-21T00:00:00Z' };
const partial = (id: string, finalId?: string): UploadInfo => ({
  ...base,
  id,
  size: 10,
  concat: {
    role: 'partial',
    adopted: finalId ? { finalId, uploadId: 'mpu', firstPart: 1 } : undefined,
  },
});
const final = (ids: string[], extra: Partial<UploadInfo> = {}, direct = true): UploadInfo => ({
  ...base,
  id: 'f',
  concat: { role: 'final', partials: ids.map((id) => ({ id, size: 10 })), direct },
  ...extra,
});

describe('adoptingFinal', () => {
  it('names the one final that adopted some or all of the partials', () => {
    expect(adoptingFinal([partial('a', 'f'), partial('b', 'f')])).toBe('f');
    // A crash cut adoption short: the rest are plain partials still.
    expect(adoptingFinal([partial('a', 'f'), partial('b')])).toBe('f');
  });
  it('names none when no partial is adopted, or two finals adopted them', () => {
    expect(adoptingFinal([partial('a'), partial('b')])).toBeUndefined();
    expect(adoptingFinal([partial('a', 'f'), partial('b', 'g')])).toBeUndefined();
    expect(adoptingFinal([])).toBeUndefined();
  });
});

describe('isRepeatOf', () => {
  it('holds for an unfinished direct final of exactly these partials, in order', () => {
    expect(isRepeatOf(final(['a', 'b']), ['a', 'b'])).toBe(true);
  });
  it('fails for another order, a subset, a superset', () => {
    expect(isRepeatOf(final(['a', 'b']), ['b', 'a'])).toBe(false);
    expect(isRepeatOf(final(['a', 'b']), ['a'])).toBe(false);
    expect(isRepeatOf(final(['a', 'b']), ['a', 'b', 'c'])).toBe(false);
  });
  it('fails for a finished final, a final by copy, or an upload that is no final', () => {
    expect(isRepeatOf(final(['a'], { completedAt: '2026-11-21T00:00:01Z' }), ['a'])).toBe(false);
    expect(isRepeatOf(final(['a'], {}, false), ['a'])).toBe(false);
    expect(isRepeatOf(partial('a'), ['a'])).toBe(false);
  });
});
