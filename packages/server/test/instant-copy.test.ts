// The copy of a proven instant upload above CopyObject's limit (5 GiB, lowered here): every
// part an UploadPartCopy into the upload's own multipart upload at its part size, each
// naming the ETag the proof's ranges were read under.
import { CreateMultipartUploadCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { UNFENCED } from '../src/locks/fence.js';
import { silentLogger } from '../src/log.js';
import type { StoreContext } from '../src/s3/context.js';
import type { UploadInfo } from '../src/s3/info.js';
import { copyIndexed } from '../src/s3/instant/copy.js';
import { newMetrics } from '../src/s3/metrics.js';
import { BUCKET, fakeS3, PART, PREFIX, randomData } from './helpers/store-harness.js';

async function setUp(size: number) {
  const s3 = fakeS3();
  const ctx: StoreContext = {
    client: s3.client,
    bucket: BUCKET,
    prefix: PREFIX,
    metrics: newMetrics(),
    partChecksum: 'md5',
    log: silentLogger,
    fence: UNFENCED,
  };
  const data = randomData(size);
  const put = await s3.client.send(
    new PutObjectCommand({ Bucket: BUCKET, Key: `${PREFIX}src`, Body: data }),
  );
  const mpu = await s3.client.send(
    new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: `${PREFIX}dst` }),
  );
  const info: UploadInfo = {
    version: 1,
    id: 'dst',
    size,
    partSize: PART,
    uploadId: mpu.UploadId,
    createdAt: new Date().toISOString(),
  };
  return { s3, ctx, data, info, etag: put.ETag as string };
}

describe('copyIndexed above the whole-copy limit', () => {
  it('copies every part at the upload part size into its multipart upload', async () => {
    const size = 3 * PART + 1000;
    const { s3, ctx, data, info, etag } = await setUp(size);
    const copied = await copyIndexed(ctx, info, { key: `${PREFIX}src`, etag }, 2, PART);
    expect(copied.replaced).toBeUndefined();
    expect(copied.info.uploadId).toBe(info.uploadId);
    expect(copied.parts.map((p) => [p.partNumber, p.size])).toEqual([
      [1, PART],
      [2, PART],
      [3, PART],
      [4, 1000],
    ]);
    expect(s3.count('UploadPartCopy')).toBe(4);
    expect(s3.sent('UploadPartCopy').every((r) => r.input.CopySourceIfMatch === etag)).toBe(true);
    const parts = s3.uploads()[0]?.parts;
    expect(Buffer.concat([1, 2, 3, 4].map((n) => parts?.get(n) as Buffer)).equals(data)).toBe(true);
  });

  it('fails when the source is not the object the ranges were read from (412)', async () => {
    const { ctx, info } = await setUp(2 * PART + 1);
    const stale = { key: `${PREFIX}src`, etag: '"0123456789abcdef0123456789abcdef"' };
    await expect(copyIndexed(ctx, info, stale, 2, PART)).rejects.toMatchObject({
      $metadata: { httpStatusCode: 412 },
    });
    // At or below the limit: one CopyObject, the multipart upload handed back to abort.
    await expect(copyIndexed(ctx, info, stale, 2)).rejects.toMatchObject({
      $metadata: { httpStatusCode: 412 },
    });
  });
});
