// A checksummed PATCH that reaches past its first part, without Content-MD5 (the streaming
// path, s3/patch/plan.ts `marked`): its mark goes first, then every whole part streams into
// the upload as it fills, the last one too, and still nothing counts before the match.
import { PassThrough } from 'node:stream';
import { type RequestContext, requestContext } from '../src/front/request-context.js';
import { checksumOf } from './helpers/checksum.js';
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

const SIZE = 2 * PART + MiB; // three parts: 5 MiB, 5 MiB, 1 MiB

function checkedContext(offset: number, length: number, over: Buffer): RequestContext {
  return {
    baseUrl: '/files',
    method: 'PATCH',
    uploadOffset: offset,
    contentLength: length,
    checksum: checksumOf('sha256', over),
    reply: {},
  };
}

async function streaming() {
  const s3 = fakeS3();
  const store = newStore(s3, { partChecksum: 'none' });
  const data = randomData(SIZE);
  await createUpload(store, 'u', SIZE);
  return { s3, store, data };
}

const isMark = (input: Record<string, unknown>) => String(input.Key).includes('.unv.');

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 2));
  expect(cond()).toBe(true);
}

describe('a checksummed PATCH over several parts, parts streaming', () => {
  it('puts its mark, then streams every whole part before the body ends', async () => {
    const { s3, store, data } = await streaming();
    const since = s3.requests.length;
    const bytes = data.subarray(0, 2 * PART);
    const body = new PassThrough();
    const written = requestContext.run(checkedContext(0, bytes.length, bytes), () =>
      store.write(body, 'u', 0),
    );
    body.write(bytes);
    // Both parts, the request's last included, are in S3 while the body is still open.
    await until(() => s3.sent('UploadPart', since).filter((r) => r.answeredAt).length === 2);
    const [mark] = s3.sent('PutObject', since).filter((r) => isMark(r.input));
    const parts = s3.sent('UploadPart', since);
    expect(mark?.answeredAt).toBeLessThan(Math.min(...parts.map((p) => p.sentAt)));
    // Unverified so far: a reader sees none of it.
    expect((await newStore(s3).getUpload('u')).offset).toBe(0);
    body.end();
    expect(await written).toBe(2 * PART);
    // Matched: the mark is gone and the parts count.
    expect(s3.keys(PREFIX).filter((k) => k.includes('.unv.'))).toEqual([]);
    expect((await newStore(s3).getUpload('u')).offset).toBe(2 * PART);
    expect(await patch(store, 'u', data, 2 * PART, SIZE)).toBe(SIZE);
    expect(digest(s3.object(`${PREFIX}u`))).toBe(digest(data));
  });

  it('that mismatches keeps the offset, its streamed parts under the mark', async () => {
    const { s3, store, data } = await streaming();
    const wrong = randomData(SIZE);
    await expect(
      requestContext.run(checkedContext(0, SIZE, wrong), () => patch(store, 'u', data, 0, SIZE)),
    ).rejects.toMatchObject({ status_code: 460 });
    // All three, the upload's last included: each streamed once it could.
    expect(s3.uploads()[0]?.parts.size).toBe(3);
    expect(s3.keys(PREFIX).filter((k) => k.includes('.unv.'))).toHaveLength(1);
    expect((await newStore(s3).getUpload('u')).offset).toBe(0);
    // The right bytes rewrite the parts, the mark goes, the object is exact.
    const fresh = newStore(s3, { partChecksum: 'none' });
    const good = data.subarray(0, SIZE);
    expect(
      await requestContext.run(checkedContext(0, SIZE, good), () =>
        patch(fresh, 'u', data, 0, SIZE),
      ),
    ).toBe(SIZE);
    expect(digest(s3.object(`${PREFIX}u`))).toBe(digest(data));
    expect(s3.keys(PREFIX)).toEqual([`${PREFIX}u`, `${PREFIX}u.info`]);
  });

  it('cut inside its second part keeps none of its bytes', async () => {
    const { s3, store, data } = await streaming();
    const bytes = data.subarray(0, SIZE);
    const body = new PassThrough();
    const written = requestContext.run(checkedContext(0, SIZE, bytes), () =>
      store.write(body, 'u', 0),
    );
    body.write(bytes.subarray(0, PART + MiB));
    await until(() => s3.sent('UploadPart').some((r) => r.answeredAt));
    body.destroy(new Error('connection cut'));
    await expect(written).rejects.toThrow();
    // Part 1 is in the upload under the mark; nothing was staged; nothing counts.
    expect(s3.uploads()[0]?.parts.has(1)).toBe(true);
    expect(s3.keys(PREFIX).filter((k) => k.includes('.seg.'))).toEqual([]);
    expect((await newStore(s3).getUpload('u')).offset).toBe(0);
  });

  it('within one part holds it and puts no mark', async () => {
    const { s3, store, data } = await streaming();
    const since = s3.requests.length;
    const bytes = data.subarray(0, PART);
    expect(
      await requestContext.run(checkedContext(0, PART, bytes), () =>
        patch(store, 'u', data, 0, PART),
      ),
    ).toBe(PART);
    expect(s3.commands(since).filter((c) => c !== 'UploadPart')).toEqual([]);
    expect((await newStore(s3).getUpload('u')).offset).toBe(PART);
  });
});
