// S3's own full-object check (fullObjectChecksum: 'crc64nvme') on the fake S3's aws
// dialect, which, like AWS, completes a FULL_OBJECT multipart upload only with the CRC64NVME
// of the bytes it assembled. RGW lacks it (the server README says what it answers).
import { Upload } from '@tus/utils';
import type { TusError } from '../src/errors.js';
import { requestContext } from '../src/front/request-context.js';
import { UploadHash } from '../src/s3/digest/hasher.js';
import { objectKey } from '../src/s3/keys.js';
import type { S3MultipartStore } from '../src/s3/store.js';
import type { FakeS3 } from './helpers/fake-s3.js';
import {
  BUCKET,
  body,
  digest,
  fakeS3,
  newStore,
  PART,
  PREFIX,
  randomData,
} from './helpers/store-harness.js';

const OPTS = { fullObjectChecksum: 'crc64nvme' } as const;

function inRequest<T>(method: string, fn: () => Promise<T>): Promise<T> {
  return requestContext.run({ baseUrl: '/files', method, reply: {} }, fn);
}

const create = (store: S3MultipartStore, id: string, size: number) =>
  inRequest('POST', () => store.create(new Upload({ id, size, offset: 0 })));

const write = (store: S3MultipartStore, id: string, data: Buffer, from: number, to: number) =>
  inRequest('PATCH', () => store.write(body(data.subarray(from, to)), id, from));

async function statusOf(p: Promise<unknown>): Promise<number | undefined> {
  try {
    await p;
  } catch (e) {
    return (e as TusError).status_code ?? -1;
  }
  return undefined;
}

const objectOf = (s3: FakeS3, id: string) => s3.state.bucket(BUCKET).get(objectKey(PREFIX, id));

describe('the running CRC64NVME', () => {
  it('is CRC-64/NVME (its check value) and resumes from a saved state', async () => {
    const one = await UploadHash.start(undefined, true);
    one.update(Buffer.from('123456789'));
    // The catalogue check value of CRC-64/NVME, 0xae8b14860a799888, in base64.
    expect(one.digests().crc64nvme).toBe(Buffer.from('ae8b14860a799888', 'hex').toString('base64'));
    const first = await UploadHash.start(undefined, true);
    first.update(Buffer.from('1234'));
    const resumed = await UploadHash.start(first.save(), true);
    resumed.update(Buffer.from('56789'));
    expect(resumed.digests()).toEqual(one.digests());
  });

  it('refuses a state that lacks the CRC for an upload that needs it', async () => {
    const shaOnly = await UploadHash.start();
    shaOnly.update(Buffer.from('abc'));
    await expect(UploadHash.start(shaOnly.save(), true)).rejects.toThrow(/CRC64NVME/);
  });
});

describe('fullObjectChecksum: crc64nvme', () => {
  const size = 2 * PART + 4321;
  const data = randomData(size);
  const cuts = [0, 999, PART, PART + 10, 2 * PART + 1, size];

  it('S3 completes the object with the CRC computed across restarts at every kind of cut', async () => {
    const s3 = fakeS3({ dialect: 'aws' });
    await create(newStore(s3, OPTS), 'a', size);
    expect(s3.state.uploads.size).toBe(1);
    expect([...s3.state.uploads.values()][0]?.fullObjectCrc).toBe(true);
    for (let i = 1; i < cuts.length; i++) {
      // A fresh store per PATCH: every hash state comes from S3.
      const from = cuts[i - 1] as number;
      const to = cuts[i] as number;
      expect(await write(newStore(s3, OPTS), 'a', data, from, to)).toBe(to);
    }
    expect(digest(objectOf(s3, 'a')?.bytes)).toBe(digest(data));
  });

  it('a part that S3 holds corrupted is never published', async () => {
    const s3 = fakeS3({ dialect: 'aws' });
    const store = newStore(s3, OPTS);
    await create(store, 'b', size);
    expect(await write(store, 'b', data, 0, PART + 5)).toBe(PART + 5);
    // Storage flips a byte of part 1 after accepting it (its ETag stays as it was).
    const part = [...s3.state.uploads.values()][0]?.parts.get(1);
    if (!part) throw new Error('part 1 missing');
    part.bytes = Buffer.from(part.bytes);
    part.bytes[7] = (part.bytes[7] as number) ^ 1;
    expect(await statusOf(write(store, 'b', data, PART + 5, size))).toBeDefined();
    expect(objectOf(s3, 'b')).toBeUndefined();
    // Refused for the CRC the store sent, not for a missing one.
    expect(s3.sent('CompleteMultipartUpload').map((r) => r.error)).toEqual(['BadDigest']);
  });

  it('a one-part upload sends the CRC with its PutObject', async () => {
    const s3 = fakeS3({ dialect: 'aws' });
    const small = data.subarray(0, 5000);
    const store = newStore(s3, OPTS);
    await create(store, 'c', small.length);
    expect(await write(store, 'c', small, 0, 3000)).toBe(3000);
    const since = s3.commands().length;
    expect(await write(newStore(s3, OPTS), 'c', small, 3000, small.length)).toBe(small.length);
    expect(digest(objectOf(s3, 'c')?.bytes)).toBe(digest(small));
    // The fake checked the CRC it was given; it must have been given one.
    const put = s3.sent('PutObject', since).find((r) => r.input.Key === objectKey(PREFIX, 'c'));
    expect(put?.input.ChecksumCRC64NVME).toBeDefined();
    expect(put?.error).toBeUndefined();
  });

  it('without the option nothing asks S3 for a full-object check', async () => {
    const s3 = fakeS3({ dialect: 'aws' });
    await create(newStore(s3), 'd', size);
    expect([...s3.state.uploads.values()][0]?.fullObjectCrc).toBe(false);
  });
});
