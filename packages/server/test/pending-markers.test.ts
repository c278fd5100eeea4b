// Open markers written late (s3/pending-markers.ts): the class on its own, then what the
// store and its sweep do with a marker that waited, never came, or came after completion.
import { PendingMarkers } from '../src/s3/pending-markers.js';
import {
  createUpload,
  fakeS3,
  MiB,
  newStore,
  PREFIX,
  patch,
  randomData,
} from './helpers/store-harness.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const marker = (id: string) => `${PREFIX}.open/${id}`;
// Expiration for the sweep cases: waited out before each sweep.
const EXP = 300;

describe('PendingMarkers', () => {
  function pending(delay: number, fail = false) {
    const written: string[] = [];
    const errors: string[] = [];
    const markers = new PendingMarkers(
      delay,
      async (id) => {
        if (fail) throw new Error('S3 down');
        written.push(id);
      },
      (_err, id) => errors.push(id),
    );
    return { markers, written, errors };
  }

  it('writes after the delay unless cancelled first', async () => {
    const { markers, written } = pending(30);
    await markers.schedule('a');
    await markers.schedule('b');
    expect(markers.cancel('b')).toBe(true);
    expect(markers.cancel('b')).toBe(false);
    expect(written).toEqual([]);
    await sleep(80);
    expect(written).toEqual(['a']);
    expect(markers.size).toBe(0);
    expect(markers.cancel('a')).toBe(false);
  });

  it('flush writes every waiting marker now and waits for the writes', async () => {
    const { markers, written } = pending(60_000);
    await markers.schedule('a');
    await markers.schedule('b');
    await markers.flush();
    expect(written.sort()).toEqual(['a', 'b']);
    expect(markers.size).toBe(0);
  });

  it('a failed write is reported, not thrown', async () => {
    const { markers, errors } = pending(60_000, true);
    await markers.schedule('a');
    await markers.flush();
    expect(errors).toEqual(['a']);
  });
});

describe('the store with late open markers', () => {
  it('an unfinished one-part upload gets its marker after the delay, and expires by it', async () => {
    const s3 = fakeS3();
    const store = newStore(s3, { openMarkerDelay: 50, expiration: EXP, fullSweepInterval: 0 });
    await createUpload(store, 'u', MiB);
    await patch(store, 'u', randomData(MiB), 0, MiB / 2);
    expect(s3.keys(`${PREFIX}.open/`)).toEqual([]);
    await sleep(120);
    expect(s3.keys(`${PREFIX}.open/`)).toEqual([marker('u')]);
    await sleep(EXP + 50);
    // fullSweepInterval 0: only the incremental sweep, which finds it by its marker.
    expect(await store.deleteExpired()).toBe(1);
    expect(s3.keys(`${PREFIX}u`)).toEqual([]);
    expect(s3.keys(`${PREFIX}.open/`)).toEqual([]);
  });

  it('a crash before the marker: the full pass finds the upload', async () => {
    const s3 = fakeS3();
    const crashed = newStore(s3, { openMarkerDelay: 60_000, expiration: EXP });
    await createUpload(crashed, 'lost', MiB);
    await patch(crashed, 'lost', randomData(MiB), 0, MiB / 2);
    // The process is gone: its marker never comes. A new instance sweeps.
    const next = newStore(s3, { openMarkerDelay: 60_000, expiration: EXP });
    await sleep(EXP + 50);
    expect(s3.keys(`${PREFIX}.open/`)).toEqual([]);
    // The first sweep ever makes the full pass.
    expect(await next.deleteExpired()).toBe(1);
    expect(s3.keys(`${PREFIX}lost`)).toEqual([]);
  });

  it('completed on another instance: the late marker is dropped, the object kept', async () => {
    const s3 = fakeS3();
    const creator = newStore(s3, { openMarkerDelay: 60_000, expiration: EXP });
    const data = randomData(MiB);
    await createUpload(creator, 'moved', MiB);
    expect(await patch(newStore(s3), 'moved', data, 0, MiB)).toBe(MiB);
    // The creator's marker comes after the completion (here: at its shutdown).
    await creator.drained();
    expect(s3.keys(`${PREFIX}.open/`)).toEqual([marker('moved')]);
    await sleep(EXP + 50);
    expect(await newStore(s3, { expiration: EXP }).deleteExpired()).toBe(0);
    expect(s3.keys(`${PREFIX}.open/`)).toEqual([]);
    expect(s3.object(`${PREFIX}moved`)?.equals(data)).toBe(true);
    expect((await newStore(s3).getUpload('moved')).offset).toBe(MiB);
  });

  it('termination cancels a waiting marker; with quotas markers never wait', async () => {
    const s3 = fakeS3();
    const store = newStore(s3, { openMarkerDelay: 30 });
    await createUpload(store, 'gone', MiB);
    await store.remove('gone');
    await sleep(80);
    expect(s3.keys(`${PREFIX}.open/`)).toEqual([]);
    expect(s3.keys(`${PREFIX}gone`)).toEqual([]);

    const quoted = newStore(s3, { openMarkerDelay: 60_000, quotas: { maxUnfinishedUploads: 5 } });
    await createUpload(quoted, 'counted', MiB);
    expect(s3.keys(`${PREFIX}.open/`)).toEqual([marker('counted')]);
  });
});
