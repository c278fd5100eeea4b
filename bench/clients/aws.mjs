// Peer A, the physical reference: @aws-sdk/lib-storage Upload straight to S3 from a file
// stream, 8 MiB parts, queueSize 4.
import { createReadStream } from 'node:fs';
import { S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { pool, runClient } from './common.mjs';

const MiB = 1024 * 1024;

await runClient(async (job) => {
  const { endpoint, region, accessKeyId, secretAccessKey, bucket } = job.s3;
  const client = new S3Client({
    endpoint,
    region,
    forcePathStyle: true,
    credentials: { accessKeyId, secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const uploads = await pool(job.files, job.concurrency, async (f, i) => {
    const key = `${job.keyPrefix}${i}`;
    const up = new Upload({
      client,
      params: {
        Bucket: bucket,
        Key: key,
        Body: createReadStream(f.path, { highWaterMark: 1 * MiB }),
        ContentType: 'application/octet-stream',
      },
      partSize: 8 * MiB,
      queueSize: 4,
    });
    await up.done();
    return { key, file: f.path, size: f.size };
  });
  return { uploads };
});
