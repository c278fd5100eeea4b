import { jest } from '@jest/globals';
import type { UploadInfo } from '../src/s3/info.js';
import { emptyProgress, StateCache, type UploadState } from '../src/s3/state/upload-state.js';

const info: UploadInfo = {
  version: 1,
  id: 'u1',
  size: 100,
  partSize: 5 * 1024 * 1024,
  createdAt: new Date(0).toISOString(),
};
const at = (offset: number): UploadState => ({
  info,
  progress: { ...emptyProgress(), offset },
  loadedAt: 0,
});

describe('StateCache', () => {
  afterEach(() => jest.useRealTimers());

  it('trusts memory only for a PATCH claiming exactly the remembered offset', () => {
    const cache = new StateCache();
    cache.remember(at(40));
    expect(cache.forPatchAt('u1', 40)?.progress.offset).toBe(40);
    expect(cache.forPatchAt('u1', 39)).toBeUndefined();
    expect(cache.forPatchAt('u1', undefined)).toBeUndefined();
    expect(cache.forPatchAt('other', 40)).toBeUndefined();
    // Looking does not forget.
    expect(cache.forPatchAt('u1', 40)).toBeDefined();
  });

  it('hands a state to one write and forgets it, so a failed write leaves nothing', () => {
    const cache = new StateCache();
    cache.remember(at(10));
    expect(cache.take('u1')?.progress.offset).toBe(10);
    expect(cache.take('u1')).toBeUndefined();
    expect(cache.forPatchAt('u1', 10)).toBeUndefined();
  });

  it('forgets an upload idle for a minute, and on request', () => {
    jest.useFakeTimers({ now: 1_000_000 });
    const cache = new StateCache();
    cache.remember(at(5));
    jest.setSystemTime(1_000_000 + 59_000);
    expect(cache.forPatchAt('u1', 5)).toBeDefined();
    jest.setSystemTime(1_000_000 + 61_000);
    expect(cache.forPatchAt('u1', 5)).toBeUndefined();
    cache.remember(at(5));
    cache.forget('u1');
    expect(cache.take('u1')).toBeUndefined();
  });

  it('under shared locks, trusts memory only into the very next lock generation', () => {
    const cache = new StateCache(true);
    cache.remember(at(40), 7);
    // The same request (write after getUpload) and the next lock on the upload.
    expect(cache.forPatchAt('u1', 40, 7)).toBeDefined();
    expect(cache.forPatchAt('u1', 40, 8)).toBeDefined();
    // Another request took the lock in between: forgotten, also for the next one.
    expect(cache.forPatchAt('u1', 40, 9)).toBeUndefined();
    expect(cache.forPatchAt('u1', 40, 8)).toBeUndefined();
    // No generation on either side: the locker tells none, nothing is trusted.
    cache.remember(at(40));
    expect(cache.forPatchAt('u1', 40, 1)).toBeUndefined();
    cache.remember(at(40), 3);
    expect(cache.take('u1', undefined)).toBeUndefined();
    cache.remember(at(40), 3);
    expect(cache.take('u1', 4)?.progress.offset).toBe(40);
  });

  it('a process-local locker needs no generation', () => {
    const cache = new StateCache();
    cache.remember(at(40), 7);
    expect(cache.forPatchAt('u1', 40, 12)).toBeDefined();
    expect(cache.forPatchAt('u1', 40, undefined)).toBeDefined();
  });
});
