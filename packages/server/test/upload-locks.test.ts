import { MemoryLocker } from '@tus/server';
import { TusError } from '../src/errors.js';
import { lockUploads } from '../src/locks/upload-locks.js';

const never = new AbortController().signal;

describe('lockUploads', () => {
  it('holds each partial once until released', async () => {
    const locker = new MemoryLocker({ acquireLockTimeout: 200 });
    const release = await lockUploads(locker, ['b', 'a', 'b']);
    const other = locker.newLock('a');
    await expect(other.lock(never, () => {})).rejects.toBeDefined();
    await release();
    await other.lock(never, () => {});
    await other.unlock();
  });

  it('answers 423 when a partial stays busy, and lets go of those it took', async () => {
    const locker = new MemoryLocker({ acquireLockTimeout: 200 });
    const busy = locker.newLock('b');
    await busy.lock(never, () => {});
    const err = await lockUploads(locker, ['a', 'b']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TusError);
    expect((err as TusError).status_code).toBe(423);
    const a = locker.newLock('a');
    await a.lock(never, () => {});
    await a.unlock();
    await busy.unlock();
  });
});
