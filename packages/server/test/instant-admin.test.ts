// The instant-upload index and the admin paths (`tus-s3-server uploads abort|sweep`): they
// never take a finished upload, so its object and its index entry stay.
import { createHash } from 'node:crypto';
import { Upload } from '@tus/utils';
import { requestContext } from '../src/front/request-context.js';
import { indexKey, OPEN_TENANT } from '../src/instant/index-keys.js';
import { UploadsAdmin } from '../src/s3/admin.js';
import { objectKey } from '../src/s3/keys.js';
import type { S3MultipartStore } from '../src/s3/store.js';
import {
  BUCKET,
  body,
  fakeS3,
  newStore,
  PART,
  PREFIX,
  randomData,
} from './helpers/store-harness.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function stored(store: S3MultipartStore, id: string, data: Buffer): Promise<void> {
  await requestContext.run(
    { baseUrl: '/files', method: 'POST', reply: {}, reprDigest: sha(data) },
    () => store.create(new Upload({ id, size: data.length, offset: 0 })),
  );
  const offset = await requestContext.run(
    { baseUrl: '/files', method: 'PATCH', reply: {}, uploadOffset: 0 },
    () => store.write(body(data), id, 0),
  );
  expect(offset).toBe(data.length);
}

describe('the index and the admin paths', () => {
  it.each([
    ['one-part', 3000],
    ['multipart', 2 * PART + 10],
  ])('abort and sweep leave a finished %s upload and its entry', async (_kind, size) => {
    const s3 = fakeS3();
    const store = newStore(s3, { instantUpload: { floorMs: 0 } });
    const data = randomData(size);
    await stored(store, 'done', data);
    const key = indexKey(PREFIX, OPEN_TENANT, sha(data), data.length);
    expect(s3.object(key)).toBeDefined();
    const admin = new UploadsAdmin({
      client: s3.client,
      bucket: BUCKET,
      prefix: PREFIX,
      expiration: 1,
    });
    await new Promise((r) => setTimeout(r, 5));
    expect(await admin.sweep()).toBe(0);
    expect(await admin.abort('done')).toBe('finished');
    expect(s3.object(objectKey(PREFIX, 'done'))?.length).toBe(size);
    expect(s3.object(key)).toBeDefined();
  });
});
