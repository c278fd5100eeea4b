// Proves the test harness: the RGW from jest-global-setup answers real S3 calls.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListPartsCommand,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { makeRandomFile, removeDir, sha256, tmpDir } from './helpers/files.js';
import {
  createTestBucket,
  deleteBucketDeep,
  listKeys,
  listMultipartUploads,
  sha256OfObject,
  testS3Client,
} from './helpers/s3.js';

const MiB = 1024 * 1024;
const s3 = testS3Client();
let bucket: string;
let dir: string;

beforeAll(async () => {
  bucket = await createTestBucket('rgw-harness');
  dir = await tmpDir();
});

afterAll(async () => {
  await deleteBucketDeep(bucket);
  await removeDir(dir);
});

test('env points at the RGW started by global setup', () => {
  expect(process.env.TUS_S3_TEST_ENDPOINT).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  expect(process.env.TUS_S3_TEST_REGION).toBe('us-east-1');
  expect(process.env.TUS_S3_TEST_RGW_DIR).toBeTruthy();
});

test('put and get an object', async () => {
  const body = Buffer.from('hello rgw\n'.repeat(1000));
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'small/hello.txt', Body: body }));
  const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'small/hello.txt' }));
  expect(Buffer.from(await got.Body!.transformToByteArray()).equals(body)).toBe(true);
  expect(await sha256OfObject(bucket, 'small/hello.txt')).toBe(sha256(body));
  expect(await listKeys(bucket, 'small/')).toEqual(['small/hello.txt']);
});

test('put a file as a stream (WHEN_REQUIRED checksums: no aws-chunked 411)', async () => {
  const f = await makeRandomFile(dir, 3 * MiB + 17);
  await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: 'stream/file.bin',
      Body: createReadStream(f.path),
      ContentLength: (await stat(f.path)).size,
    }),
  );
  expect(await sha256OfObject(bucket, 'stream/file.bin')).toBe(f.sha256);
});

test('multipart upload of 2 parts: listed while open, complete, and abort removes it', async () => {
  const f = await makeRandomFile(dir, 5 * MiB + 1234, { seed: 'mpu' });
  const again = await makeRandomFile(dir, 5 * MiB + 1234, { seed: 'mpu', name: 'again.bin' });
  expect(again.sha256).toBe(f.sha256); // seeded content is reproducible

  const key = 'mpu/complete.bin';
  const { UploadId } = await s3.send(
    new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }),
  );
  expect(UploadId).toBeTruthy();
  expect((await listMultipartUploads(bucket, 'mpu/')).map((u) => u.key)).toEqual([key]);

  const parts = [
    { start: 0, end: 5 * MiB - 1 },
    { start: 5 * MiB, end: f.size - 1 },
  ];
  const etags: string[] = [];
  for (const [i, p] of parts.entries()) {
    const res = await s3.send(
      new UploadPartCommand({
        Bucket: bucket,
        Key: key,
        UploadId,
        PartNumber: i + 1,
        Body: createReadStream(f.path, { start: p.start, end: p.end }),
        ContentLength: p.end - p.start + 1,
      }),
    );
    etags.push(res.ETag!);
  }
  const listed = await s3.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId }));
  expect(listed.Parts?.map((p) => p.Size)).toEqual([5 * MiB, 1234]);

  await s3.send(
    new CompleteMultipartUploadCommand({
      Bucket: bucket,
      Key: key,
      UploadId,
      MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
    }),
  );
  expect(await listMultipartUploads(bucket, 'mpu/')).toEqual([]);
  const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
  expect(head.ContentLength).toBe(f.size);
  expect(head.ETag).toMatch(/-2"$/);
  expect(await sha256OfObject(bucket, key)).toBe(f.sha256);

  // A second upload, aborted: ListMultipartUploads shows it, then no longer.
  const abortKey = 'mpu/aborted.bin';
  const created = await s3.send(
    new CreateMultipartUploadCommand({ Bucket: bucket, Key: abortKey }),
  );
  await s3.send(
    new UploadPartCommand({
      Bucket: bucket,
      Key: abortKey,
      UploadId: created.UploadId,
      PartNumber: 1,
      Body: Buffer.alloc(5 * MiB, 7),
    }),
  );
  const open = await listMultipartUploads(bucket, 'mpu/');
  expect(open).toEqual([expect.objectContaining({ key: abortKey, uploadId: created.UploadId })]);
  await s3.send(
    new AbortMultipartUploadCommand({ Bucket: bucket, Key: abortKey, UploadId: created.UploadId }),
  );
  expect(await listMultipartUploads(bucket, 'mpu/')).toEqual([]);
  expect(await listKeys(bucket, 'mpu/')).toEqual([key]);
});

test('deleteBucketDeep empties and removes a bucket with objects and open uploads', async () => {
  const b = await createTestBucket('deep');
  await s3.send(new PutObjectCommand({ Bucket: b, Key: 'a', Body: 'a' }));
  await s3.send(new PutObjectCommand({ Bucket: b, Key: 'dir/b', Body: 'b' }));
  await s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'open' }));
  await deleteBucketDeep(b);
  await expect(listKeys(b)).rejects.toMatchObject({ name: 'NoSuchBucket' });
  await deleteBucketDeep(b); // missing bucket: no-op
});
