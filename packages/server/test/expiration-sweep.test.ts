// The expiration sweep of S3MultipartStore on the fake S3: what it removes and keeps, how
// many requests it makes as finished and unfinished uploads pile up, and that runs never
// overlap (s3/expiration/).
import { CreateMultipartUploadCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { SweepLease } from '../src/s3/expiration/lease.js';
import type { S3MultipartStore } from '../src/s3/store.js';
import type { FakeS3 } from './helpers/fake-s3.js';
import {
  BUCKET,
  createUpload,
  fakeS3,
  MiB,
  newStore,
  PART,
  PREFIX,
  patch,
  randomData,
  segmentKeyAt,
} from './helpers/store-harness.js';

// Short enough to wait out, long enough that what is created after the wait is still
// younger than it on a loaded machine (a much shorter one was not, under heavy load).
const EXP = 1_000;
const waitOut = () => new Promise((r) => setTimeout(r, EXP + 50));
const marker = (id: string) => `${PREFIX}.open/${id}`;

async function finishedUploads(store: S3MultipartStore, n: number, from = 0): Promise<void> {
  for (let i = from; i < from + n; i++) {
    await createUpload(store, `f${i}`, 1);
    await patch(store, `f${i}`, Buffer.from([i & 0xff]), 0, 1);
  }
}

async function unfinishedUploads(store: S3MultipartStore, n: number, tag: string): Promise<void> {
  for (let i = 0; i < n; i++) {
    // Half multipart (a part written), half one-part (a segment staged).
    const big = i % 2 === 0;
    await createUpload(store, `${tag}${i}`, big ? 2 * PART : MiB);
    await patch(store, `${tag}${i}`, randomData(MiB), 0, big ? 1024 : MiB / 2);
  }
}

/** Requests one sweep makes, by command. */
async function sweepCounting(s3: FakeS3, store: S3MultipartStore) {
  const since = s3.requests.length;
  const removed = await store.deleteExpired();
  const commands = s3.commands(since);
  return { removed, total: commands.length, commands };
}

describe('expiration sweep', () => {
  it('costs requests per unfinished upload, not per finished one', async () => {
    const s3 = fakeS3({ pageSize: 10 });
    const store = newStore(s3, { openMarkerDelay: 0, expiration: EXP });
    await finishedUploads(store, 50);
    // Nothing of a finished one-part upload is left where the sweep looks.
    expect(s3.keys(`${PREFIX}.open/`)).toEqual([]);
    await unfinishedUploads(store, 4, 'u');
    await waitOut();
    // The first run ever also makes the full pass (no stamp yet); from then on, not for a day.
    await store.deleteExpired();
    const baseline = await sweepCounting(s3, store);
    expect(baseline.removed).toBe(0);

    await finishedUploads(store, 50, 50);
    await waitOut();
    const moreFinished = await sweepCounting(s3, store);
    expect(moreFinished.total).toBe(baseline.total);

    await unfinishedUploads(store, 4, 'v');
    const young = await sweepCounting(s3, store);
    // Too young to look at: listed, never read.
    expect(young.commands.filter((c) => c === 'GetObject')).toEqual([]);
    await waitOut();
    const moreUnfinished = await sweepCounting(s3, store);
    expect(moreUnfinished.removed).toBe(4);
    expect(moreUnfinished.total).toBeGreaterThan(baseline.total + 4 * 3);
    for (let i = 0; i < 4; i++) expect(s3.keys(`${PREFIX}v${i}`)).toEqual([]);
    expect(s3.keys(`${PREFIX}.open/`)).toEqual([]);
    expect(s3.uploads()).toEqual([]);
    // Every finished upload is as it was.
    const finished = s3.keys(PREFIX).filter((k) => k.startsWith(`${PREFIX}f`));
    expect(finished).toHaveLength(200);
    for (let i = 0; i < 100; i++) expect(s3.object(`${PREFIX}f${i}`)).toEqual(Buffer.from([i]));
  });

  it('removes expired uploads of every kind, orphans, and nothing created since', async () => {
    const s3 = fakeS3();
    const store = newStore(s3, { openMarkerDelay: 0, expiration: EXP });
    await createUpload(store, 'big', 3 * PART);
    await patch(store, 'big', randomData(PART + 10), 0, PART + 10);
    await createUpload(store, 'small', MiB);
    await patch(store, 'small', randomData(MiB), 0, 100);
    await createUpload(store, 'deferred');
    await createUpload(store, 'empty', 0);
    await finishedUploads(store, 1);
    // A one-part upload whose object went whole but whose completion a crash cut short.
    await createUpload(store, 'crashed', 3);
    const send = (Key: string, Body = '') =>
      s3.client.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body }));
    await send(`${PREFIX}crashed`, 'abc');
    // Orphans: a multipart upload and a marker with no info, staging of an upload without
    // info or marker (only the full pass sees that), a look-alike key that is not staging.
    await s3.client.send(
      new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: `${PREFIX}lostmpu` }),
    );
    await send(marker('lostmarker'));
    await send(segmentKeyAt('lostmarker', 0), 'x');
    await send(segmentKeyAt('lost', 0), 'x');
    await send(`${PREFIX}lost.seg.12`, 'x');
    await waitOut();
    await createUpload(store, 'fresh', MiB);
    await createUpload(store, 'freshbig', 3 * PART);

    const removed = await store.deleteExpired();
    // big, small, deferred, empty (no bytes ever came), and the orphaned multipart upload.
    expect(removed).toBe(5);
    for (const id of ['big', 'small', 'deferred', 'empty', 'lostmpu', 'lostmarker']) {
      expect(s3.keys(`${PREFIX}${id}`)).toEqual([]);
    }
    expect(s3.keys(`${PREFIX}lost`)).toEqual([`${PREFIX}lost.seg.12`]);
    expect(s3.uploads().map((u) => u.key)).toEqual([`${PREFIX}freshbig`]);
    expect(s3.keys(`${PREFIX}.open/`)).toEqual([marker('fresh')]);
    expect(s3.keys(`${PREFIX}f0`)).toEqual([`${PREFIX}f0`, `${PREFIX}f0.info`]);
    // Found whole: recorded complete, kept, out of the sweep's view.
    expect(s3.keys(`${PREFIX}crashed`)).toEqual([`${PREFIX}crashed`, `${PREFIX}crashed.info`]);
    expect(JSON.parse(String(s3.object(`${PREFIX}crashed.info`))).completedAt).toEqual(
      expect.any(String),
    );
    expect((await store.getUpload('fresh')).offset).toBe(0);
  });

  it('makes the full pass once per interval, paged to the end', async () => {
    const s3 = fakeS3({ pageSize: 5 });
    const store = newStore(s3, { openMarkerDelay: 0, expiration: EXP });
    await finishedUploads(store, 20);
    for (let i = 0; i < 12; i++) {
      await s3.client.send(
        new PutObjectCommand({ Bucket: BUCKET, Key: segmentKeyAt(`gone${i}`, 0), Body: 'x' }),
      );
    }
    await waitOut();
    const first = await sweepCounting(s3, store);
    // 40 keys of finished uploads and 12 orphans, 5 a page.
    expect(first.commands.filter((c) => c === 'ListObjectsV2').length).toBeGreaterThan(10);
    expect(s3.keys(`${PREFIX}gone`)).toEqual([]);
    expect(s3.object(`${PREFIX}.sweep`)).toBeDefined();
    const next = await sweepCounting(s3, store);
    expect(next.commands.sort()).toEqual(['HeadObject', 'ListMultipartUploads', 'ListObjectsV2']);
  });

  it('never overlaps a run in progress, and leaves it to whoever holds the lease', async () => {
    const s3 = fakeS3();
    const store = newStore(s3, { openMarkerDelay: 0, expiration: EXP, fullSweepInterval: 0 });
    const since = s3.requests.length;
    const [a, b] = [store.deleteExpired(), store.deleteExpired()];
    await Promise.all([a, b]);
    expect(s3.count('ListMultipartUploads', since)).toBe(1);
    await store.deleteExpired();
    expect(s3.count('ListMultipartUploads', since)).toBe(2);

    // A lease as Redis gives it: one holder at a time.
    let held = 0;
    const lease: SweepLease = {
      acquire: async () => {
        if (held > 0) return undefined;
        held++;
        return { lost: () => false, release: async () => void held-- };
      },
    };
    const first = newStore(s3, { openMarkerDelay: 0, expiration: EXP, sweepLease: lease });
    const second = newStore(s3, { openMarkerDelay: 0, expiration: EXP, sweepLease: lease });
    const before = s3.requests.length;
    const [x, y] = await Promise.all([first.deleteExpired(), second.deleteExpired()]);
    expect([x, y]).toEqual([0, 0]);
    expect(s3.count('ListMultipartUploads', before)).toBe(1);
    expect(held).toBe(0);
  });

  it('stops once its lease is lost', async () => {
    const s3 = fakeS3();
    const store = newStore(s3, {
      expiration: EXP,
      sweepLease: { acquire: async () => ({ lost: () => true, release: async () => {} }) },
    });
    await unfinishedUploads(store, 2, 'u');
    await waitOut();
    expect(await store.deleteExpired()).toBe(0);
    expect(s3.keys(`${PREFIX}u0`)).not.toEqual([]);
  });
});
