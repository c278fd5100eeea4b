// Loading an upload's state in S3MultipartStore from the fake S3, as a restarted instance
// does: the offset from parts and segments, completion finished where it was cut short.
import { ERRORS } from '../src/errors.js';
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
  startedUpload,
} from './helpers/store-harness.js';

const SIZE = 2 * PART + MiB;

describe('state loading', () => {
  it('derives the same offset from parts and segments in a fresh store', async () => {
    const { s3, store, data } = await startedUpload('u', SIZE);
    await patch(store, 'u', data, 0, 3 * MiB);
    await patch(store, 'u', data, 3 * MiB, 7 * MiB);
    const since = s3.requests.length;
    const fresh = newStore(s3);
    const upload = await fresh.getUpload('u');
    expect([upload.offset, upload.size]).toEqual([7 * MiB, SIZE]);
    expect(s3.commands(since).sort()).toEqual(['GetObject', 'ListObjectsV2', 'ListParts']);
    expect(await patch(fresh, 'u', data, 7 * MiB, SIZE)).toBe(SIZE);
    expect(digest(s3.object(`${PREFIX}u`))).toBe(digest(data));
  });

  it('reads every page of the part and staging listings', async () => {
    const s3 = fakeS3({ pageSize: 1 });
    const store = newStore(s3);
    const data = randomData(SIZE);
    await createUpload(store, 'u', SIZE);
    const at = 2 * PART + MiB / 2;
    expect(await patch(store, 'u', data, 0, at)).toBe(at);
    const since = s3.requests.length;
    expect((await newStore(s3).getUpload('u')).offset).toBe(at);
    expect(s3.count('ListParts', since)).toBe(2);
    expect(s3.count('ListObjectsV2', since)).toBe(2); // the info and the segment
  });

  it('completes an upload whose bytes are all durable but whose Complete failed', async () => {
    const { s3, store, data } = await startedUpload('u', SIZE);
    s3.failOn('CompleteMultipartUpload');
    await expect(patch(store, 'u', data, 0, SIZE)).rejects.toMatchObject({
      name: 'InternalError',
    });
    expect(s3.object(`${PREFIX}u`)).toBeUndefined();
    const since = s3.requests.length;
    expect((await newStore(s3).getUpload('u')).offset).toBe(SIZE);
    expect(s3.count('CompleteMultipartUpload', since)).toBe(1);
    expect(digest(s3.object(`${PREFIX}u`))).toBe(digest(data));
    expect(s3.keys(PREFIX)).toEqual([`${PREFIX}u`, `${PREFIX}u.info`]);
  });

  it('records a completion whose info write failed after Complete', async () => {
    const { s3, store, data } = await startedUpload('u', SIZE);
    s3.failOn('PutObject', { match: (input) => input.Key === `${PREFIX}u.info` });
    await expect(patch(store, 'u', data, 0, SIZE)).rejects.toMatchObject({
      name: 'InternalError',
    });
    expect(digest(s3.object(`${PREFIX}u`))).toBe(digest(data));
    // ListParts of the finished upload answers NoSuchKey (RGW); the object says it is done.
    expect((await newStore(s3).getUpload('u')).offset).toBe(SIZE);
    const since = s3.requests.length;
    expect((await newStore(s3).getUpload('u')).offset).toBe(SIZE);
    expect(s3.commands(since)).toEqual(['GetObject']);
  });

  it('answers FILE_NOT_FOUND for an upload with no info', async () => {
    const s3 = fakeS3();
    const store = newStore(s3);
    await expect(store.getUpload('nope')).rejects.toBe(ERRORS.FILE_NOT_FOUND);
    expect(s3.commands()).toEqual(['GetObject']);
    await expect(store.getUpload('not.an.id')).rejects.toBe(ERRORS.FILE_NOT_FOUND);
    expect(s3.requests).toHaveLength(1);
  });

  it('finds nothing of an upload after remove()', async () => {
    const { s3, store, data } = await startedUpload('u', SIZE);
    await patch(store, 'u', data, 0, 7 * MiB);
    await store.remove('u');
    expect(s3.keys()).toEqual([]);
    expect(s3.uploads()).toEqual([]);
    await expect(newStore(s3).getUpload('u')).rejects.toBe(ERRORS.FILE_NOT_FOUND);
  });
});
