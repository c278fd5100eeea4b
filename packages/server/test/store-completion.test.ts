// Completion in S3MultipartStore on the fake S3: the last byte completes the object from a
// verified part list, a one-part upload is one PutObject, and sizes are held to.
import { Readable } from 'node:stream';
import { ERRORS } from '../src/errors.js';
import {
  createUpload,
  digest,
  fakeS3,
  MiB,
  newStore,
  PART,
  PREFIX,
  partEtag,
  patch,
  randomData,
  segmentKeyAt,
  startedUpload,
} from './helpers/store-harness.js';

const SIZE = 2 * PART + MiB;

describe('completion', () => {
  it('completes on the last byte with every part and its ETag, in order', async () => {
    const { s3, store, data } = await startedUpload('u', SIZE);
    await patch(store, 'u', data, 0, 3 * MiB);
    const since = s3.requests.length;
    expect(await patch(store, 'u', data, 3 * MiB, SIZE)).toBe(SIZE);
    const completes = s3.sent('CompleteMultipartUpload', since);
    expect(completes).toHaveLength(1);
    expect(completes[0]?.input.MultipartUpload).toEqual({
      Parts: [
        { PartNumber: 1, ETag: partEtag(data.subarray(0, PART)) },
        { PartNumber: 2, ETag: partEtag(data.subarray(PART, 2 * PART)) },
        { PartNumber: 3, ETag: partEtag(data.subarray(2 * PART)) },
      ],
    });
    // The object's length is checked after Complete (RGW answers it with no ETag).
    const after = s3.commands(since).slice(s3.commands(since).indexOf('CompleteMultipartUpload'));
    expect(after[1]).toBe('HeadObject');
    expect(digest(s3.object(`${PREFIX}u`))).toBe(digest(data));
    expect(s3.keys(PREFIX)).toEqual([`${PREFIX}u`, `${PREFIX}u.info`]);
    expect(s3.uploads()).toEqual([]);
    // The info records the completion: a fresh store reads only it.
    const fresh = s3.requests.length;
    expect((await newStore(s3).getUpload('u')).offset).toBe(SIZE);
    expect(s3.commands(fresh)).toEqual(['GetObject']);
  });

  it('writes a one-part upload with a single PutObject', async () => {
    const s3 = fakeS3();
    const store = newStore(s3);
    const data = randomData(MiB + 5);
    const created = s3.requests.length;
    await createUpload(store, 'one', data.length);
    // The info only: the open marker waits (s3/pending-markers.ts); no multipart upload.
    expect(s3.sent('PutObject', created).map((r) => r.input.Key)).toEqual([`${PREFIX}one.info`]);
    const since = s3.requests.length;
    expect(await patch(store, 'one', data, 0, data.length)).toBe(data.length);
    // The object whole, and the waiting marker is never written.
    expect(s3.commands(since)).toEqual(['PutObject']);
    await store.drained();
    expect(s3.keys(`${PREFIX}.open/`)).toEqual([]);
    expect(s3.sent('PutObject', since)[0]).toMatchObject({
      input: { Key: `${PREFIX}one` },
      bodyLength: data.length,
    });
    expect(digest(s3.object(`${PREFIX}one`))).toBe(digest(data));
    expect((await newStore(s3).getUpload('one')).offset).toBe(data.length);
  });

  it('writes a one-part upload sent in two PATCHes from its segment and the rest', async () => {
    const s3 = fakeS3();
    const store = newStore(s3);
    const data = randomData(MiB);
    await createUpload(store, 'one', data.length);
    expect(await patch(store, 'one', data, 0, MiB / 2)).toBe(MiB / 2);
    expect(s3.object(segmentKeyAt('one', 0))?.length).toBe(MiB / 2);
    expect(await newStore(s3).write(bodyOf(data, MiB / 2), 'one', MiB / 2)).toBe(MiB);
    // Info, segment, object. The first store's marker still waits; the second store deletes
    // the marker it cannot know was never written.
    expect(s3.count('PutObject', 0)).toBe(3);
    expect(s3.count('DeleteObject', 0)).toBe(1);
    expect(s3.count('CreateMultipartUpload')).toBe(0);
    expect(digest(s3.object(`${PREFIX}one`))).toBe(digest(data));
    expect(s3.keys(PREFIX)).toEqual([`${PREFIX}one`, `${PREFIX}one.info`]);
  });

  it('refuses bytes past the declared length, and none of them reach S3', async () => {
    const s3 = fakeS3();
    const store = newStore(s3);
    const data = randomData(SIZE + MiB);
    await createUpload(store, 'u', SIZE);
    const since = s3.requests.length;
    await expect(patch(store, 'u', data, 0, data.length)).rejects.toBe(ERRORS.ERR_SIZE_EXCEEDED);
    const sent = s3.sent('UploadPart', since).reduce((n, r) => n + (r.bodyLength ?? 0), 0);
    expect(sent).toBe(SIZE);
    // What came before the excess is kept: the next look completes the upload with it.
    expect((await newStore(s3).getUpload('u')).offset).toBe(SIZE);
    expect(digest(s3.object(`${PREFIX}u`))).toBe(digest(data.subarray(0, SIZE)));
    await expect(patch(store, 'u', data, SIZE, SIZE + 1)).rejects.toBe(ERRORS.ERR_SIZE_EXCEEDED);
  });

  it('refuses a declared length below the offset, and completes on the right one', async () => {
    const s3 = fakeS3();
    const store = newStore(s3);
    const data = randomData(7 * MiB);
    await createUpload(store, 'd');
    await patch(store, 'd', data, 0, 3 * MiB);
    await expect(store.declareUploadLength('d', 2 * MiB)).rejects.toMatchObject({
      status_code: 400,
    });
    const before = await newStore(s3).getUpload('d');
    expect([before.size, before.offset]).toEqual([undefined, 3 * MiB]);
    await store.declareUploadLength('d', data.length);
    expect(await patch(store, 'd', data, 3 * MiB, data.length)).toBe(data.length);
    expect(digest(s3.object(`${PREFIX}d`))).toBe(digest(data));
  });
});

function bodyOf(data: Buffer, from: number) {
  return Readable.from([data.subarray(from)]);
}
