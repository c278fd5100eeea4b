// The PATCH path under a part memory too small for every request at once, on the fake S3:
// requests that each hold part of a part and all wait for more give back what they hold
// (staged) instead of waiting on each other; a wait past the deadline answers 503 with the
// bytes so far kept; a part over the whole budget is never held over it.
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { TusError } from '../src/errors.js';
import { type RequestContext, requestContext } from '../src/front/request-context.js';
import {
  createUpload,
  digest,
  fakeS3,
  MiB,
  newStore,
  PART,
  PREFIX,
  patch,
  randomData,
} from './helpers/store-harness.js';

/** A PATCH with its declared Content-Length, as the front layer hands it to the store. */
function declared<T>(offset: number, length: number, run: () => Promise<T>): Promise<T> {
  const ctx: RequestContext = {
    baseUrl: '/files',
    method: 'PATCH',
    uploadOffset: offset,
    contentLength: length,
    reply: {},
  };
  return requestContext.run(ctx, run);
}

/** A body that yields `bytes` in 256 KiB chunks, waiting `pauseMs` after each MiB. */
function slowBody(bytes: Buffer, pauseMs: number): Readable {
  async function* chunks() {
    for (let i = 0; i < bytes.length; i += 256 * 1024) {
      yield bytes.subarray(i, i + 256 * 1024);
      if ((i + 256 * 1024) % MiB === 0) await new Promise((r) => setTimeout(r, pauseMs));
    }
  }
  return Readable.from(chunks());
}

/** A body that yields `bytes` and then never ends. */
function stalledBody(bytes: Buffer): Readable {
  async function* chunks() {
    yield bytes;
    await new Promise(() => {});
  }
  return Readable.from(chunks());
}

describe('part memory', () => {
  it('requests that would wait on each other take turns: all finish exactly, none staged', async () => {
    const s3 = fakeS3();
    const store = newStore(s3, { partMemory: 4 * MiB, memoryWait: 8000 });
    const size = 3 * MiB; // one part each, of three slabs; four slabs for both
    const datas = [randomData(size), randomData(size)];
    await createUpload(store, 'a', size);
    await createUpload(store, 'b', size);
    const offsets = await Promise.all(
      ['a', 'b'].map((id, i) => store.write(slowBody(datas[i] as Buffer, 50), id, 0)),
    );
    expect(offsets).toEqual([size, size]);
    // Each took slabs only under a turn, so neither held part of a part while waiting.
    expect(store.metrics.segmentsWritten).toBe(0);
    expect(digest(s3.object(`${PREFIX}a`))).toBe(digest(datas[0] as Buffer));
    expect(digest(s3.object(`${PREFIX}b`))).toBe(digest(datas[1] as Buffer));
    expect(store.partBudget.held).toBe(0);
    expect(store.partBudget.held + store.partBudget.cached).toBeLessThanOrEqual(4 * MiB);
  }, 20_000);

  it('answers 503 with Retry-After past the wait; the bytes so far count', async () => {
    const s3 = fakeS3();
    const store = newStore(s3, { partMemory: MiB, memoryWait: 200 });
    await createUpload(store, 'hog', 2 * PART);
    await createUpload(store, 'late', 2 * PART);
    // The hog holds the only slab, its body silent.
    const hog = store.write(stalledBody(randomData(1000)), 'hog', 0);
    await new Promise((r) => setTimeout(r, 50));
    const data = randomData(3 * MiB);
    const err = await store.write(slowBody(data, 0), 'late', 0).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(TusError);
    expect((err as TusError).status_code).toBe(503);
    expect((err as TusError).retryAfter).toBe(1);
    // Waited holding nothing: nothing of 'late' arrived into memory, nothing is lost.
    expect((await newStore(s3).getUpload('late')).offset).toBe(0);
    expect(store.partBudget.waiting).toBe(0);
    void hog;
  });

  it('stages a part over the whole budget window by window when it cannot stream', async () => {
    const s3 = fakeS3();
    const store = newStore(s3, { partMemory: 2 * MiB, partSize: PART });
    const size = 2 * PART;
    const data = randomData(size);
    await createUpload(store, 'big', size);
    let peak = 0;
    const watch = setInterval(() => {
      peak = Math.max(peak, store.partBudget.held + store.partBudget.cached);
    }, 1);
    try {
      // Bodies of undeclared length, as a chunked client sends: none can stream early.
      expect(await store.write(slowBody(data.subarray(0, 4 * MiB), 0), 'big', 0)).toBe(4 * MiB);
      expect(await store.write(slowBody(data.subarray(4 * MiB), 0), 'big', 4 * MiB)).toBe(size);
    } finally {
      clearInterval(watch);
    }
    expect(peak).toBeLessThanOrEqual(2 * MiB);
    expect(digest(s3.object(`${PREFIX}big`))).toBe(digest(data));
    expect(store.partBudget.held).toBe(0);
  });

  it('refuses to hold more of a part over the whole budget under Upload-Checksum (413)', async () => {
    const s3 = fakeS3();
    const store = newStore(s3, { partMemory: 2 * MiB, partSize: PART });
    await createUpload(store, 'big', 2 * PART);
    const data = randomData(4 * MiB);
    const ctx: RequestContext = {
      baseUrl: '/files',
      method: 'PATCH',
      uploadOffset: 0,
      reply: {},
      checksum: { algorithm: 'sha1', digest: createHash('sha1').update(data).digest() },
    };
    const err = await requestContext
      .run(ctx, () => store.write(slowBody(data, 0), 'big', 0))
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect((err as TusError).status_code).toBe(413);
    // Nothing of a request under a checksum counts before its match.
    expect((await newStore(s3).getUpload('big')).offset).toBe(0);
    expect(store.partBudget.held).toBe(0);
  });

  it('fails a PATCH whose early part S3 dropped unread, instead of waiting on its slabs', async () => {
    const s3 = fakeS3();
    const store = newStore(s3, { partMemory: 2 * MiB, partSize: PART });
    const size = 2 * PART;
    const data = randomData(size);
    await createUpload(store, 'big', size);
    s3.failOn('UploadPart', { when: 'unread' });
    // Its slabs go back only as S3 reads them; S3 never will.
    await expect(declared(0, size, () => patch(store, 'big', data, 0, size))).rejects.toThrow(
      'injected failure',
    );
    expect(store.partBudget.held).toBe(0);
    // The upload goes on from whatever a fresh look finds durable.
    const from = (await newStore(s3, { partMemory: 2 * MiB, partSize: PART }).getUpload('big'))
      .offset;
    expect(from).toBeLessThan(size);
    expect(await declared(from, size - from, () => patch(store, 'big', data, from, size))).toBe(
      size,
    );
    expect(digest(s3.object(`${PREFIX}big`))).toBe(digest(data));
  });

  it('streams a part over the whole budget early, its staged head first, within the budget', async () => {
    const s3 = fakeS3();
    const store = newStore(s3, { partMemory: 2 * MiB, partSize: PART });
    const size = 2 * PART;
    const data = randomData(size);
    await createUpload(store, 'big', size);
    // A first PATCH of 1 byte is staged; the next brings the rest of the part and more.
    expect(await declared(0, 1, () => patch(store, 'big', data, 0, 1))).toBe(1);
    let peak = 0;
    const watch = setInterval(() => {
      peak = Math.max(peak, store.partBudget.held + store.partBudget.cached);
    }, 1);
    try {
      expect(await declared(1, size - 1, () => patch(store, 'big', data, 1, size))).toBe(size);
    } finally {
      clearInterval(watch);
    }
    expect(peak).toBeLessThanOrEqual(2 * MiB);
    expect(store.metrics.segmentBytesReadBack).toBe(1);
    expect(digest(s3.object(`${PREFIX}big`))).toBe(digest(data));
    expect(store.partBudget.held).toBe(0);
  });
});
