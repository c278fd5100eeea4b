// S3 side of the benchmark: buckets, emptying between runs, and the checks that make a
// fast wrong answer fail loudly (HeadObject size of every object, SHA-256 of some).
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import {
  AbortMultipartUploadCommand,
  CreateBucketCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export function s3Client(rgw) {
  return new S3Client({
    endpoint: rgw.endpoint,
    region: rgw.region,
    forcePathStyle: true,
    credentials: { accessKeyId: rgw.accessKeyId, secretAccessKey: rgw.secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

export async function createBucket(s3, bucket) {
  try {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  } catch (e) {
    if (e.name !== 'BucketAlreadyOwnedByYou' && e.name !== 'BucketAlreadyExists') throw e;
  }
}

/** Deletes every object and aborts every multipart upload in `bucket`. */
export async function emptyBucket(s3, bucket) {
  let token;
  do {
    const res = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }),
    );
    const keys = (res.Contents ?? []).map((o) => ({ Key: o.Key }));
    if (keys.length > 0) {
      await s3.send(
        new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys, Quiet: true } }),
      );
    }
    token = res.IsTruncated ? res.NextContinuationToken : undefined;
  } while (token);
  for (;;) {
    const res = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
    const ups = res.Uploads ?? [];
    if (ups.length === 0) break;
    await Promise.all(
      ups.map((u) =>
        s3.send(
          new AbortMultipartUploadCommand({ Bucket: bucket, Key: u.Key, UploadId: u.UploadId }),
        ),
      ),
    );
    if (!res.IsTruncated) break;
  }
}

async function each(items, n, fn) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]);
    }),
  );
}

/** HeadObject on every `{ key, size }`: throws naming the first object of the wrong size. */
export async function verifySizes(s3, bucket, objects) {
  await each(objects, 16, async ({ key, size }) => {
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })).catch((e) => {
      throw new Error(`object ${bucket}/${key} is missing (${e.name})`);
    });
    if (head.ContentLength !== size) {
      throw new Error(`object ${bucket}/${key} has ${head.ContentLength} bytes, expected ${size}`);
    }
  });
}

/** GETs every `{ key, sha256 }` and compares its SHA-256: throws on the first mismatch. */
export async function verifyHashes(s3, bucket, objects, concurrency = 4) {
  await each(objects, concurrency, async ({ key, sha256 }) => {
    const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const hash = createHash('sha256');
    for await (const chunk of res.Body) hash.update(chunk);
    const got = hash.digest('hex');
    if (got !== sha256) {
      throw new Error(`object ${bucket}/${key} SHA-256 ${got} differs from the file's ${sha256}`);
    }
  });
}

/**
 * Writes `path` `times` times into `bucket` as A does (8 MiB parts, 4 at a time), then
 * empties it. A freshly made bluestore is slow for its first GiBs (its pools and its block
 * file are new): rep 0's A, always the first run, once got 86 MiB/s against 145 and 148 in
 * reps 1 and 2. Writing through that before rep 0 keeps every rep comparable.
 */
export async function warmBackend(s3, bucket, path, times) {
  await createBucket(s3, bucket);
  for (let i = 0; i < times; i++) {
    await new Upload({
      client: s3,
      params: { Bucket: bucket, Key: `warm-${i}`, Body: createReadStream(path) },
      partSize: 8 * 1024 * 1024,
      queueSize: 4,
    }).done();
  }
  await emptyBucket(s3, bucket);
}
