// Two instances' stores on one (fake) S3, each request with the Fence its lock handed it
// (locks/fence.ts): what a holder that lost its lock writes late cannot lower the offset a
// newer holder acknowledged, and a holder that knows it may have lost it writes nothing.
import { Readable } from 'node:stream';
import { Upload } from '@tus/utils';
import { type RequestContext, requestContext } from '../src/front/request-context.js';
import { type Fence, lockLostError } from '../src/locks/fence.js';
import type { S3MultipartStore } from '../src/s3/store.js';
import {
  fakeS3,
  MiB,
  newStore,
  PART,
  PREFIX,
  randomData,
  segmentKeyAt,
} from './helpers/store-harness.js';

/** A fence of `generation` whose lock is held while `held()` says so. */
function fence(generation: number, held: () => boolean = () => true): Fence {
  return {
    generation,
    assertHeld: () => {
      if (!held()) throw lockLostError();
    },
  };
}

/** Runs `fn` as a request of `method` on `id` holding `f`. */
function as<T>(method: string, id: string, f: Fence, fn: () => Promise<T>): Promise<T> {
  const ctx: RequestContext = {
    baseUrl: '/files',
    method,
    reply: {},
    lockGenerations: new Map([[id, f.generation]]),
    fences: new Map([[id, f]]),
  };
  return requestContext.run(ctx, fn);
}

/** A body that sends `first`, then waits for `go()` before it sends `rest` and ends. */
function pausedBody(first: Buffer, rest?: Buffer): { body: Readable; go: () => void } {
  let go = () => {};
  const resumed = new Promise<void>((r) => {
    go = r;
  });
  async function* chunks() {
    yield first;
    await resumed;
    if (rest) yield rest;
  }
  return { body: Readable.from(chunks()), go };
}

/** Two instances, and the offset a third derives from S3 alone. */
function instances() {
  const s3 = fakeS3();
  const [a, b] = [newStore(s3, { sharedLocks: true }), newStore(s3, { sharedLocks: true })];
  const offsetSeen = async (id: string) => {
    const fresh = newStore(s3, { sharedLocks: true });
    return (await as('HEAD', id, fence(1000), () => fresh.getUpload(id))).offset;
  };
  return { s3, a, b, offsetSeen };
}

async function create(store: S3MultipartStore, id: string, size: number) {
  await as('POST', id, fence(1), () => store.create(new Upload({ id, size, offset: 0 })));
}

describe('fenced writes', () => {
  it("a late tail at the same offset loses to the newer holder's (it believed it held the lock)", async () => {
    const { s3, a, b, offsetSeen } = instances();
    const data = randomData(2 * PART);
    await create(a, 'u', data.length);
    // A (generation 5) has received 1 MiB when it stops; B (7) takes over and stages 3 MiB.
    const late = pausedBody(data.subarray(0, MiB));
    const aWrite = as('PATCH', 'u', fence(5), () => a.write(late.body, 'u', 0));
    await new Promise((r) => setTimeout(r, 20));
    const bBody = Readable.from([data.subarray(0, 3 * MiB)]);
    expect(await as('PATCH', 'u', fence(7), () => b.write(bBody, 'u', 0))).toBe(3 * MiB);
    late.go();
    expect(await aWrite).toBe(MiB);
    // Both tails are there, under their own keys; the newer one counts.
    expect(s3.keys(`${PREFIX}u.seg.`)).toEqual([
      `${segmentKeyAt('u', 0)}.0000000000000005`,
      `${segmentKeyAt('u', 0)}.0000000000000007`,
    ]);
    expect(await offsetSeen('u')).toBe(3 * MiB);
  });

  it('a holder whose lease may have run out stages nothing and answers 423', async () => {
    const { s3, a, offsetSeen } = instances();
    const data = randomData(2 * PART);
    await create(a, 'u', data.length);
    let held = true;
    const late = pausedBody(data.subarray(0, MiB));
    const aWrite = as(
      'PATCH',
      'u',
      fence(5, () => held),
      () => a.write(late.body, 'u', 0),
    );
    await new Promise((r) => setTimeout(r, 20));
    held = false;
    late.go();
    await expect(aWrite).rejects.toMatchObject({ status_code: 423 });
    expect(s3.keys(`${PREFIX}u.seg.`)).toEqual([]);
    expect(await offsetSeen('u')).toBe(0);
  });

  it('without a shared locker (generation 0) the keys are what they always were', async () => {
    const s3 = fakeS3();
    const store = newStore(s3);
    const data = randomData(2 * PART);
    await store.create(new Upload({ id: 'u', size: data.length, offset: 0 }));
    expect(await store.write(Readable.from([data.subarray(0, MiB)]), 'u', 0)).toBe(MiB);
    expect(s3.keys(`${PREFIX}u.seg.`)).toEqual([segmentKeyAt('u', 0)]);
  });

  it('a late one-part PutObject after a DELETE removes the object it wrote', async () => {
    const { s3, a, b } = instances();
    const data = randomData(MiB);
    await create(a, 'small', data.length);
    // A has all but the last byte when it stops; its PutObject goes out once that arrives.
    const late = pausedBody(data.subarray(0, -1), data.subarray(-1));
    const aWrite = as('PATCH', 'small', fence(5), () => a.write(late.body, 'small', 0));
    await new Promise((r) => setTimeout(r, 20));
    await as('DELETE', 'small', fence(7), () => b.remove('small'));
    late.go();
    await expect(aWrite).rejects.toMatchObject({ status_code: 404 });
    expect(s3.keys(`${PREFIX}small`)).toEqual([]);
  });
});
