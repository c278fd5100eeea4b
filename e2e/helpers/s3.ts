// S3 helpers for tests, against the RGW that scripts/jest-global-setup.js started
// (connection info in process.env: TUS_S3_TEST_ENDPOINT, TUS_S3_TEST_REGION,
// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY). Give every test its own bucket.
import { createHash, randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';

export interface TestS3Env {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
}

/** Connection info from the environment; throws if the Jest global setup did not run. */
export function testS3Env(): TestS3Env {
  const { TUS_S3_TEST_ENDPOINT, TUS_S3_TEST_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY } =
    process.env;
  if (!TUS_S3_TEST_ENDPOINT || !AWS_ACCESS_KEY_ID || !AWS_SECRET_ACCESS_KEY) {
    throw new Error(
      'TUS_S3_TEST_ENDPOINT / AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY are not set: ' +
        'run tests through Jest with scripts/jest-global-setup.js (bash scripts/test.sh)',
    );
  }
  return {
    endpoint: TUS_S3_TEST_ENDPOINT,
    region: TUS_S3_TEST_REGION ?? 'us-east-1',
    accessKeyId: AWS_ACCESS_KEY_ID,
    secretAccessKey: AWS_SECRET_ACCESS_KEY,
  };
}

/**
 * The S3Client configuration RGW needs: path-style, and checksums only when required
 * (the SDK default sends aws-chunked stream bodies, which RGW rejects with 411).
 */
export function testS3Config(overrides: Partial<S3ClientConfig> = {}): S3ClientConfig {
  const env = testS3Env();
  return {
    endpoint: env.endpoint,
    region: env.region,
    forcePathStyle: true,
    credentials: { accessKeyId: env.accessKeyId, secretAccessKey: env.secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    ...overrides,
  };
}

let shared: S3Client | undefined;

/** A new S3Client for the test RGW if overrides are given, else one shared per worker. */
export function testS3Client(overrides?: Partial<S3ClientConfig>): S3Client {
  if (overrides) return new S3Client(testS3Config(overrides));
  shared ??= new S3Client(testS3Config());
  return shared;
}

/** Creates a bucket with a unique, valid name starting with `prefix`; returns the name. */
export async function createTestBucket(prefix = 'test'): Promise<string> {
  const clean =
    prefix
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 30) || 'test';
  const name = `${clean}-${Date.now().toString(36)}-${randomBytes(5).toString('hex')}`;
  await testS3Client().send(new CreateBucketCommand({ Bucket: name }));
  return name;
}

/** SHA-256 (hex) of an object's content, streamed (never buffered whole). */
export async function sha256OfObject(bucket: string, key: string): Promise<string> {
  const res = await testS3Client().send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const hash = createHash('sha256');
  for await (const chunk of res.Body as Readable) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** An object's content as text (for small objects: info records). */
export async function objectText(bucket: string, key: string): Promise<string> {
  const res = await testS3Client().send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return (res.Body as { transformToString(): Promise<string> }).transformToString();
}

export interface MultipartUploadInfo {
  key: string;
  uploadId: string;
  initiated?: Date;
}

/** All in-progress multipart uploads under `prefix` (paginated). */
export async function listMultipartUploads(
  bucket: string,
  prefix = '',
): Promise<MultipartUploadInfo[]> {
  const out: MultipartUploadInfo[] = [];
  let KeyMarker: string | undefined;
  let UploadIdMarker: string | undefined;
  for (;;) {
    const res = await testS3Client().send(
      new ListMultipartUploadsCommand({
        Bucket: bucket,
        Prefix: prefix || undefined,
        KeyMarker,
        UploadIdMarker,
      }),
    );
    for (const u of res.Uploads ?? []) {
      out.push({ key: u.Key!, uploadId: u.UploadId!, initiated: u.Initiated });
    }
    if (!res.IsTruncated) return out;
    KeyMarker = res.NextKeyMarker;
    UploadIdMarker = res.NextUploadIdMarker;
  }
}

/** All object keys under `prefix`, sorted (paginated). */
export async function listKeys(bucket: string, prefix = ''): Promise<string[]> {
  const keys: string[] = [];
  let ContinuationToken: string | undefined;
  do {
    const res = await testS3Client().send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix || undefined, ContinuationToken }),
    );
    for (const o of res.Contents ?? []) keys.push(o.Key!);
    ContinuationToken = res.IsTruncated ? res.NextContinuationToken : undefined;
  } while (ContinuationToken);
  return keys.sort();
}

/** Aborts every multipart upload, deletes every object, then the bucket. Missing bucket: no-op. */
export async function deleteBucketDeep(bucket: string): Promise<void> {
  const s3 = testS3Client();
  try {
    for (const u of await listMultipartUploads(bucket)) {
      await s3.send(
        new AbortMultipartUploadCommand({ Bucket: bucket, Key: u.key, UploadId: u.uploadId }),
      );
    }
    const keys = await listKeys(bucket);
    for (let i = 0; i < keys.length; i += 1000) {
      await s3.send(
        new DeleteObjectsCommand({
          Bucket: bucket,
          Delete: { Objects: keys.slice(i, i + 1000).map((Key) => ({ Key })), Quiet: true },
        }),
      );
    }
    await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
  } catch (e) {
    if ((e as { name?: string }).name === 'NoSuchBucket') return;
    throw e;
  }
}
