import { Upload } from '@tus/utils';
import type { Principal } from '../src/auth/principal.js';
import { KeyedQueue, sizeRefusal, usageRefusal } from '../src/auth/quotas.js';
import type { TusError } from '../src/errors.js';
import { type RequestContext, requestContext } from '../src/front/request-context.js';
import type { S3MultipartStore } from '../src/s3/store.js';
import { fakeS3, newStore, PART } from './helpers/store-harness.js';

describe('quota verdicts', () => {
  it('413 over the largest upload; a deferred length passes until declared', () => {
    expect(sizeRefusal({ maxUploadSize: 10 }, 10)).toBeUndefined();
    expect(sizeRefusal({ maxUploadSize: 10 }, 11)?.status_code).toBe(413);
    expect(sizeRefusal({ maxUploadSize: 10 }, undefined)).toBeUndefined();
    expect(sizeRefusal({}, 1e12)).toBeUndefined();
  });

  it('429 at the Nth upload or past the bytes', () => {
    expect(usageRefusal({ maxUnfinishedUploads: 2 }, { uploads: 1, bytes: 0 }, 1)).toBeUndefined();
    expect(usageRefusal({ maxUnfinishedUploads: 2 }, { uploads: 2, bytes: 0 }, 1)?.body).toBe(
      'this tenant holds 2 unfinished uploads, its limit\n',
    );
    expect(usageRefusal({ maxUnfinishedBytes: 10 }, { uploads: 5, bytes: 4 }, 6)).toBeUndefined();
    expect(usageRefusal({ maxUnfinishedBytes: 10 }, { uploads: 5, bytes: 4 }, 7)?.status_code).toBe(
      429,
    );
  });
});

describe('KeyedQueue', () => {
  it('runs one task per key at a time, other keys alongside, past failures', async () => {
    const queue = new KeyedQueue();
    const log: string[] = [];
    const task =
      (name: string, ms: number, fail = false) =>
      async () => {
        log.push(`${name}+`);
        await new Promise((r) => setTimeout(r, ms));
        log.push(`${name}-`);
        if (fail) throw new Error(name);
        return name;
      };
    const results = await Promise.allSettled([
      queue.run('a', task('a1', 20, true)),
      queue.run('a', task('a2', 1)),
      queue.run('b', task('b1', 5)),
    ]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'fulfilled', 'fulfilled']);
    expect(log.indexOf('a2+')).toBeGreaterThan(log.indexOf('a1-'));
    expect(log.indexOf('b1+')).toBeLessThan(log.indexOf('a1-'));
  });
});

describe('the store counts unfinished uploads per tenant from S3', () => {
  const acme1: Principal = { owner: 'u1', tenant: 'acme' };
  const acme2: Principal = { owner: 'u2', tenant: 'acme' };
  const other: Principal = { owner: 'o', tenant: 'other' };

  function create(store: S3MultipartStore, p: Principal, id: string, size: number) {
    const ctx: RequestContext = { baseUrl: '/files', method: 'POST', reply: {}, principal: p };
    return requestContext.run(ctx, () => store.create(new Upload({ id, size, offset: 0 })));
  }

  it('admits exactly N of concurrent creations; another store on the same S3 counts them too', async () => {
    const s3 = fakeS3();
    const quotas = { maxUnfinishedUploads: 2, maxUnfinishedBytes: 3 * PART };
    const store = newStore(s3, { quotas });
    const tries = await Promise.allSettled(
      ['a', 'b', 'c', 'd', 'e'].map((id, i) =>
        create(store, i % 2 ? acme1 : acme2, id, i === 0 ? 10 : 2 * PART),
      ),
    );
    const refused = tries.filter((t) => t.status === 'rejected');
    expect(tries.filter((t) => t.status === 'fulfilled')).toHaveLength(2);
    for (const r of refused) expect((r.reason as TusError).status_code).toBe(429);
    await create(store, other, 'f', 2 * PART);
    // A new process (no memory of its own) reads the same from S3.
    const again = newStore(s3, { quotas });
    const err = await create(again, acme1, 'g', 1).catch((e: unknown) => e);
    expect((err as TusError).status_code).toBe(429);
    // The bytes: 2 * PART + 10 held by acme; another 2 * PART would pass 3 * PART.
    const bytes = newStore(s3, { quotas: { maxUnfinishedBytes: 3 * PART } });
    const over = await create(bytes, acme1, 'h', 2 * PART).catch((e: unknown) => e);
    expect((over as TusError).body).toContain('more than its limit');
    await create(bytes, acme1, 'i', PART - 10);
  });
});
