// Staging bounded whatever the PATCH sizes, on the fake S3: many tiny PATCHes keep few
// segments (they merge, s3/staging/compaction.ts), the part that fills reads them back a
// few at a time, and a kill or failure at any point of a merge loses no acknowledged byte.

import type { S3Client } from '@aws-sdk/client-s3';
import { UNFENCED } from '../src/locks/fence.js';
import { MAX_LIVE_SEGMENTS } from '../src/s3/staging/compaction.js';
import { SegmentStaging } from '../src/s3/staging/segments.js';
import type { StoredSegment } from '../src/s3/state/progress.js';
import type { FakeS3 } from './helpers/fake-s3.js';
import {
  BUCKET,
  digest,
  MiB,
  newStore,
  PART,
  PREFIX,
  patch,
  segmentKeyAt,
  startedUpload,
} from './helpers/store-harness.js';

const SIZE = PART + MiB;

const segmentKeys = (s3: FakeS3, id = 'u') => s3.keys(`${PREFIX}${id}.seg.`);

/** The offset a fresh instance derives from S3 alone. */
const derived = async (s3: FakeS3) => (await newStore(s3).getUpload('u')).offset;

/** `n` one-byte PATCHes from offset 0, each acknowledged. */
async function oneBytePatches(s3: FakeS3, data: Buffer, n: number, each?: () => void) {
  const store = newStore(s3);
  for (let i = 0; i < n; i++) {
    expect(await patch(store, 'u', data, i, i + 1)).toBe(i + 1);
    each?.();
  }
  return store;
}

/**
 * The fake S3 seen through a process that dies before its `alive`th request (counted from
 * now); with `answered`, that last request reaches S3 but its answer is lost.
 */
function dyingClient(s3: FakeS3, alive: number, answered: boolean): S3Client {
  let n = 0;
  const send = async (command: { input: object }, options?: object) => {
    n++;
    if (n < alive) return s3.send(command, options);
    if (n === alive && answered) await s3.send(command, options).catch(() => {});
    throw Object.assign(new Error('process killed'), { name: 'Killed' });
  };
  return { send } as unknown as S3Client;
}

describe('staging of many small PATCHes', () => {
  it(`keeps at most ${MAX_LIVE_SEGMENTS} segments, then the part and object are exact`, async () => {
    const { s3, data } = await startedUpload('u', SIZE);
    let most = 0;
    const store = await oneBytePatches(s3, data, 200, () => {
      most = Math.max(most, segmentKeys(s3).length);
    });
    expect(most).toBeLessThanOrEqual(MAX_LIVE_SEGMENTS);
    expect(store.metrics.segmentMerges).toBeGreaterThan(0);
    expect(await derived(s3)).toBe(200);
    const since = s3.requests.length;
    expect(await patch(store, 'u', data, 200, SIZE)).toBe(SIZE);
    expect(s3.count('GetObject', since)).toBeLessThanOrEqual(MAX_LIVE_SEGMENTS);
    expect(digest(s3.object(`${PREFIX}u`))).toBe(digest(data));
    expect(s3.keys(`${PREFIX}u.`)).toEqual([`${PREFIX}u.info`]);
  });

  it('reads the segments back a few at a time when the part fills', async () => {
    const { s3, data } = await startedUpload('u', SIZE);
    await oneBytePatches(s3, data, MAX_LIVE_SEGMENTS);
    expect(segmentKeys(s3)).toHaveLength(MAX_LIVE_SEGMENTS);
    let inFlight = 0;
    let most = 0;
    const client = {
      send: async (command: { input: object }, options?: object) => {
        if (command.constructor.name !== 'GetObjectCommand') return s3.send(command, options);
        most = Math.max(most, ++inFlight);
        try {
          await new Promise((resolve) => setTimeout(resolve, 5));
          return await s3.send(command, options);
        } finally {
          inFlight--;
        }
      },
    } as unknown as S3Client;
    const store = newStore(s3, { client });
    expect(await patch(store, 'u', data, MAX_LIVE_SEGMENTS, SIZE)).toBe(SIZE);
    expect(most).toBeGreaterThan(1);
    expect(most).toBeLessThanOrEqual(4);
    expect(digest(s3.object(`${PREFIX}u`))).toBe(digest(data));
  });

  it('has stopped reading staged bytes when one read fails', async () => {
    const { s3 } = await startedUpload('u', SIZE);
    const staging = new SegmentStaging(s3.client, BUCKET, PREFIX);
    const segs = [];
    for (let i = 0; i < 8; i++) segs.push(await staging.put('u', i, Buffer.from([i]), UNFENCED));
    let inFlight = 0;
    let gets = 0;
    const client = {
      send: async (command: { input: object }, options?: object) => {
        inFlight++;
        try {
          if (++gets === 1) throw new Error('first GET fails');
          await new Promise((resolve) => setTimeout(resolve, 20));
          return await s3.send(command, options);
        } finally {
          inFlight--;
        }
      },
    } as unknown as S3Client;
    const reading = new SegmentStaging(client, BUCKET, PREFIX);
    await expect(readRun(reading, segs)).rejects.toThrow('first GET fails');
    expect(inFlight).toBe(0);
    // The reads in flight finished; none started after the failure.
    expect(gets).toBe(4);
  });

  it('refuses a segment whose bytes differ in length from its listing', async () => {
    const { s3 } = await startedUpload('u', SIZE);
    const staging = new SegmentStaging(s3.client, BUCKET, PREFIX);
    const seg = await staging.put('u', 0, Buffer.from('abc'), UNFENCED);
    await expect(readRun(staging, [{ ...seg, size: 4 }])).rejects.toThrow(/3 bytes, listed 4/);
    await expect(readRun(staging, [{ ...seg, size: 2 }])).rejects.toThrow(/more bytes, listed 2/);
    expect((await readRun(staging, [seg])).toString()).toBe('abc');
  });

  it('answers a segment body S3 cut off as storage unavailable (503), not an internal error', async () => {
    const cut = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
    async function* cutBody() {
      yield new Uint8Array([1]);
      throw cut;
    }
    const client = { send: async () => ({ Body: cutBody() }) } as unknown as S3Client;
    const staging = new SegmentStaging(client, BUCKET, PREFIX);
    const seg = { key: `${PREFIX}u.seg.000000000000000`, offset: 0, size: 3, generation: 0 };
    await expect(readRun(staging, [seg])).rejects.toMatchObject({ status_code: 503 });
  });
});

/** The bytes of `segs` as SegmentStaging streams them into a request body. */
async function readRun(staging: SegmentStaging, segs: StoredSegment[]): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of staging.run(segs).open()) chunks.push(chunk);
  return Buffer.concat(chunks);
}

describe('a merge killed at any point', () => {
  // The PATCH after MAX_LIVE_SEGMENTS one-byte ones merges them all with its own byte.
  const ACKED = MAX_LIVE_SEGMENTS;

  /** Requests the merging PATCH makes when nothing fails. */
  async function mergeRequests(): Promise<string[]> {
    const { s3, data } = await startedUpload('u', SIZE);
    const store = await oneBytePatches(s3, data, ACKED);
    const since = s3.requests.length;
    expect(await patch(store, 'u', data, ACKED, ACKED + 1)).toBe(ACKED + 1);
    expect(store.metrics.segmentMerges).toBe(1);
    return s3.commands(since);
  }

  it('writes the superset before it deletes anything', async () => {
    const commands = await mergeRequests();
    const put = commands.lastIndexOf('PutObject');
    expect(commands.slice(0, put)).not.toContain('DeleteObjects');
    // The merged segments' GETs stream into the PutObject's body (they change nothing).
    expect(commands.slice(put + 1).filter((c) => c !== 'GetObject')).toEqual(['DeleteObjects']);
  });

  for (const answered of [false, true]) {
    it(`loses no acknowledged byte (${answered ? 'answer lost' : 'request lost'})`, async () => {
      const steps = (await mergeRequests()).length;
      for (let alive = 1; alive <= steps; alive++) {
        const { s3, data } = await startedUpload('u', SIZE);
        await oneBytePatches(s3, data, ACKED);
        const dying = newStore(s3, { client: dyingClient(s3, alive, answered) });
        await expect(patch(dying, 'u', data, ACKED, ACKED + 1)).rejects.toThrow('process killed');
        // A restarted instance finds every acknowledged byte (and maybe the new one).
        const offset = await derived(s3);
        expect([ACKED, ACKED + 1]).toContain(offset);
        expect(segmentKeys(s3).length).toBeLessThanOrEqual(MAX_LIVE_SEGMENTS);
        // ...and resumes from there to an exact object.
        expect(await patch(newStore(s3), 'u', data, offset, SIZE)).toBe(SIZE);
        expect(digest(s3.object(`${PREFIX}u`))).toBe(digest(data));
      }
    });
  }

  it('acknowledges the merge when only the deletes fail, and the leftovers never count', async () => {
    const { s3, data } = await startedUpload('u', SIZE);
    const store = await oneBytePatches(s3, data, ACKED);
    s3.failOn('DeleteObjects');
    expect(await patch(store, 'u', data, ACKED, ACKED + 1)).toBe(ACKED + 1);
    // The superset, and the segments it superseded, still there.
    expect(segmentKeys(s3)).toHaveLength(ACKED);
    expect(digest(s3.object(segmentKeyAt('u', 0)))).toBe(digest(data.subarray(0, ACKED + 1)));
    expect(await derived(s3)).toBe(ACKED + 1);
    // A restarted instance's next merge deletes them.
    const store2 = newStore(s3);
    let at = ACKED + 1;
    while (store2.metrics.segmentMerges === 0) {
      expect(await patch(store2, 'u', data, at, at + 1)).toBe(at + 1);
      at++;
      expect(segmentKeys(s3).length).toBeLessThan(2 * MAX_LIVE_SEGMENTS);
    }
    expect(segmentKeys(s3).length).toBeLessThanOrEqual(2);
    expect(await derived(s3)).toBe(at);
    expect(await patch(newStore(s3), 'u', data, at, SIZE)).toBe(SIZE);
    expect(digest(s3.object(`${PREFIX}u`))).toBe(digest(data));
    expect(s3.keys(`${PREFIX}u.`)).toEqual([`${PREFIX}u.info`]);
  });
});
