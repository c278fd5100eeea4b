// The PATCH path of S3MultipartStore on the fake S3: how a body is cut into parts and a
// staged tail, what a failure or a wrong offset leaves, and resuming from the offset.

import { ERRORS } from '../src/errors.js';
import { type RequestContext, requestContext } from '../src/front/request-context.js';
import { FRESH_BODY_ATTEMPTS } from '../src/s3/fresh-body-retry.js';
import { checksumOf } from './helpers/checksum.js';
import {
  body,
  digest,
  MiB,
  newStore,
  PART,
  PREFIX,
  patch,
  randomData,
  segmentKeyAt,
  startedUpload,
  writesSince,
} from './helpers/store-harness.js';

const SIZE = 2 * PART + MiB; // three parts: 5 MiB, 5 MiB, 1 MiB
const partOne = (input: Record<string, unknown>) => input.PartNumber === 1;
const partTwo = (input: Record<string, unknown>) => input.PartNumber === 2;

const started = () => startedUpload('u', SIZE);

describe('a PATCH', () => {
  it('that ends mid-part stages its tail as a segment, and the offset counts it', async () => {
    const { s3, store, data } = await started();
    const since = s3.requests.length;
    expect(await patch(store, 'u', data, 0, 3 * MiB)).toBe(3 * MiB);
    expect(s3.commands(since)).toEqual(['PutObject']);
    expect(digest(s3.object(segmentKeyAt('u', 0)))).toBe(digest(data.subarray(0, 3 * MiB)));
    expect(s3.uploads()[0]?.parts.size).toBe(0);
    expect((await newStore(s3).getUpload('u')).offset).toBe(3 * MiB);
  });

  it('that crosses a part boundary uploads the whole part with the segment folded in', async () => {
    const { s3, store, data } = await started();
    await patch(store, 'u', data, 0, 3 * MiB);
    const since = s3.requests.length;
    expect(await patch(store, 'u', data, 3 * MiB, 7 * MiB)).toBe(7 * MiB);
    const [part] = s3.sent('UploadPart', since);
    expect(s3.count('UploadPart', since)).toBe(1);
    expect(part).toMatchObject({ input: { PartNumber: 1 }, bodyLength: PART });
    expect(digest(s3.uploads()[0]?.parts.get(1))).toBe(digest(data.subarray(0, PART)));
    // The old segment is gone, the new tail is staged from the part boundary.
    expect(s3.keys(`${PREFIX}u.`)).toEqual([`${PREFIX}u.info`, segmentKeyAt('u', PART)]);
    expect(digest(s3.object(segmentKeyAt('u', PART)))).toBe(digest(data.subarray(PART, 7 * MiB)));
    // ...and went only once S3 had answered for the part it was folded into.
    const [deleted] = s3
      .sent('DeleteObjects', since)
      .filter((r) => JSON.stringify(r.input).includes(segmentKeyAt('u', 0)));
    expect(deleted?.sentAt).toBeGreaterThan(part?.answeredAt ?? Number.POSITIVE_INFINITY);
  });

  it('keeps the segment while the part it was folded into is not durable', async () => {
    const { s3, store, data } = await started();
    await patch(store, 'u', data, 0, 3 * MiB);
    // The part is resent from memory, and that stream-bodied send is tried again as the
    // SDK would a buffered one (s3/fresh-body-retry.ts): fail every attempt.
    s3.failOn('UploadPart', { match: partOne, times: 1 + FRESH_BODY_ATTEMPTS });
    await expect(patch(store, 'u', data, 3 * MiB, 7 * MiB)).rejects.toMatchObject({
      name: 'InternalError',
    });
    expect(digest(s3.object(segmentKeyAt('u', 0)))).toBe(digest(data.subarray(0, 3 * MiB)));
    expect(s3.uploads()[0]?.parts.has(1)).toBe(false);
    // Resuming at the offset S3 still backs works.
    const offset = (await store.getUpload('u')).offset;
    expect(offset).toBe(3 * MiB);
    expect(await patch(store, 'u', data, offset, SIZE)).toBe(SIZE);
    expect(digest(s3.object(`${PREFIX}u`))).toBe(digest(data));
  });

  it('resends from memory a whole part whose request failed once', async () => {
    const { s3, store, data } = await started();
    s3.failOn('UploadPart', { match: partTwo });
    const since = s3.requests.length;
    expect(await patch(store, 'u', data, 0, SIZE)).toBe(SIZE);
    expect(s3.sent('UploadPart', since).map((r) => [r.input.PartNumber, r.error])).toEqual(
      expect.arrayContaining([
        [2, 'InternalError'],
        [2, undefined],
      ]),
    );
    expect(s3.count('UploadPart', since)).toBe(4);
    expect(digest(s3.object(`${PREFIX}u`))).toBe(digest(data));
  });

  it('whose part S3 keeps failing leaves the offset at what S3 confirmed', async () => {
    const { s3, store, data } = await started();
    s3.failOn('UploadPart', { match: partTwo, times: 1 + FRESH_BODY_ATTEMPTS });
    await expect(patch(store, 'u', data, 0, SIZE)).rejects.toMatchObject({
      $metadata: { httpStatusCode: 500 },
    });
    expect(digest(s3.uploads()[0]?.parts.get(1))).toBe(digest(data.subarray(0, PART)));
    expect(s3.object(`${PREFIX}u`)).toBeUndefined();
    const fresh = newStore(s3);
    const offset = (await fresh.getUpload('u')).offset;
    expect(offset).toBe(PART);
    expect(await patch(fresh, 'u', data, offset, SIZE)).toBe(SIZE);
    expect(digest(s3.object(`${PREFIX}u`))).toBe(digest(data));
  });

  it('at a wrong offset is refused with 409 and changes nothing', async () => {
    const { s3, store, data } = await started();
    await patch(store, 'u', data, 0, 3 * MiB);
    const since = s3.requests.length;
    for (const offset of [2 * MiB, 4 * MiB]) {
      const refused = store.write(body(data.subarray(offset, offset + MiB)), 'u', offset);
      await expect(refused).rejects.toBe(ERRORS.INVALID_OFFSET);
    }
    expect(ERRORS.INVALID_OFFSET.status_code).toBe(409);
    expect(writesSince(s3, since)).toEqual([]);
    expect((await newStore(s3).getUpload('u')).offset).toBe(3 * MiB);
    expect(await patch(store, 'u', data, 3 * MiB, SIZE)).toBe(SIZE);
    expect(digest(s3.object(`${PREFIX}u`))).toBe(digest(data));
  });
});

describe('a PATCH under Upload-Checksum', () => {
  /** The request context the front layer sets up for a PATCH (front/handler.ts). */
  function patchRequest(offset: number, length: number, checksum: RequestContext['checksum']) {
    const ctx: RequestContext = {
      baseUrl: '/files',
      method: 'PATCH',
      uploadOffset: offset,
      contentLength: length,
      checksum,
      reply: {},
    };
    return ctx;
  }
  const checked = (
    store: ReturnType<typeof newStore>,
    data: Buffer,
    from: number,
    to: number,
    over: Buffer,
  ) =>
    requestContext.run(patchRequest(from, to - from, checksumOf('sha1', over)), () =>
      patch(store, 'u', data, from, to),
    );

  it('that mismatches within a part writes nothing and keeps the offset', async () => {
    const { s3, store, data } = await started();
    const since = s3.requests.length;
    const wrong = randomData(3 * MiB);
    await expect(checked(store, data, 0, 3 * MiB, wrong)).rejects.toMatchObject({
      status_code: 460,
    });
    expect(writesSince(s3, since)).toEqual([]);
    expect((await newStore(s3).getUpload('u')).offset).toBe(0);
  });

  it('that mismatches across a part boundary lets none of its part count', async () => {
    const { s3, store, data } = await started();
    await patch(store, 'u', data, 0, 3 * MiB);
    const wrong = randomData(4 * MiB);
    await expect(checked(store, data, 3 * MiB, 7 * MiB, wrong)).rejects.toMatchObject({
      status_code: 460,
    });
    // The part streamed into the upload before the body could be checked; it does not count.
    expect(s3.uploads()[0]?.parts.has(1)).toBe(true);
    expect(digest(s3.object(segmentKeyAt('u', 0)))).toBe(digest(data.subarray(0, 3 * MiB)));
    expect((await newStore(s3).getUpload('u')).offset).toBe(3 * MiB);
    // The same bytes with their right checksum count, and the upload completes.
    const good = data.subarray(3 * MiB, 7 * MiB);
    expect(await checked(store, data, 3 * MiB, 7 * MiB, good)).toBe(7 * MiB);
    expect((await newStore(s3).getUpload('u')).offset).toBe(7 * MiB);
    expect(await patch(store, 'u', data, 7 * MiB, SIZE)).toBe(SIZE);
    expect(digest(s3.object(`${PREFIX}u`))).toBe(digest(data));
    expect(s3.keys(PREFIX)).toEqual([`${PREFIX}u`, `${PREFIX}u.info`]);
  });
});
