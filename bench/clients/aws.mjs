// Peer A, the physical reference: @aws-sdk/lib-storage Upload straight to S3 from a file
// stream, 8 MiB parts, queueSize 4 (1 for the serial reference A1), unsigned payload.
import { createReadStream } from 'node:fs';
import { Agent } from 'node:http';
import { S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { pool, runClient } from './common.mjs';

const MiB = 1024 * 1024;

await runClient(async (job) => {
  const { endpoint, region, accessKeyId, secretAccessKey, bucket } = job.s3;
  const queueSize = job.queueSize ?? 4;
  const parts = Math.min(job.concurrency, job.files.length) * queueSize;
  const client = new S3Client({
    endpoint,
    region,
    forcePathStyle: true,
    credentials: { accessKeyId, secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    // No Expect: 100-continue on parts, as our server sends none: RGW closes the
    // connection after every request that had it.
    expectContinueHeader: process.env.BENCH_A_EXPECT ? undefined : false,
    // The SDK's handler allows 50 sockets; many uploads at once (scale: 200 × 4 parts in
    // flight) would otherwise queue behind each other in the client, not at the server.
    ...(parts > 50
      ? { requestHandler: { httpAgent: new Agent({ keepAlive: true, maxSockets: parts }) } }
      : {}),
  });
  // Over plain HTTP the SDK signs the SHA-256 of every part body, and RGW then hashes it
  // again to check: CPU that neither tus server spends (both send UNSIGNED-PAYLOAD), on a
  // machine where CPU is the limit. A is the transport's ceiling, so it skips that too.
  client.middlewareStack.add(
    (next) => async (args) => {
      if (args.request?.headers && !args.request.headers['x-amz-content-sha256']) {
        args.request.headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
      }
      return next(args);
    },
    { step: 'build', name: 'benchUnsignedPayload' },
  );
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
      queueSize,
    });
    await up.done();
    return { key, file: f.path, size: f.size };
  });
  return { uploads };
});
