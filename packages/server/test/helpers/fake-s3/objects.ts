// Object commands: PutObject, GetObject (with Range), HeadObject, ListObjectsV2 (Prefix,
// ContinuationToken, StartAfter, MaxKeys), DeleteObject(s), HeadBucket, CopyObject (same
// bucket or another, CopySourceIfMatch, MetadataDirective).
import type {
  CopyObjectCommandInput,
  DeleteObjectCommandInput,
  DeleteObjectsCommandInput,
  GetObjectCommandInput,
  HeadBucketCommandInput,
  HeadObjectCommandInput,
  ListObjectsV2CommandInput,
  PutObjectCommandInput,
} from '@aws-sdk/client-s3';
import { checkLength, received, responseBody } from './bodies.js';
import { badRequest, noSuchKey, notFound, preconditionFailed } from './errors.js';
import { checkCrc64nvme } from './full-object.js';
import { bare, checkContentMd5, etagOf, parseRange, type S3State } from './state.js';

export async function putObject(s: S3State, input: PutObjectCommandInput) {
  const bytes = received(input.Body);
  const bucket = s.bucket(input.Bucket);
  checkLength(bytes, input.ContentLength);
  checkContentMd5(bytes, input.ContentMD5);
  await checkCrc64nvme(s, bytes, input.ChecksumCRC64NVME, false);
  const etag = etagOf(bytes);
  bucket.set(key(input.Key), {
    bytes,
    etag,
    lastModified: new Date(),
    contentType: input.ContentType,
    contentDisposition: input.ContentDisposition,
    metadata: input.Metadata,
  });
  return { ETag: etag };
}

export async function getObject(s: S3State, input: GetObjectCommandInput) {
  const obj = s.bucket(input.Bucket).get(key(input.Key));
  if (!obj) throw noSuchKey(key(input.Key));
  const size = obj.bytes.length;
  const [start, end] = input.Range ? parseRange(input.Range, size) : [0, size];
  const bytes = obj.bytes.subarray(start, end);
  return {
    $metadata: { httpStatusCode: input.Range ? 206 : 200 },
    Body: responseBody(bytes),
    ContentLength: bytes.length,
    ContentRange: input.Range ? `bytes ${start}-${end - 1}/${size}` : undefined,
    ETag: obj.etag,
    LastModified: obj.lastModified,
    ContentType: obj.contentType,
    ContentDisposition: obj.contentDisposition,
  };
}

export async function headObject(s: S3State, input: HeadObjectCommandInput) {
  const obj = s.bucket(input.Bucket).get(key(input.Key));
  if (!obj) throw notFound();
  return {
    ContentLength: obj.bytes.length,
    ETag: obj.etag,
    LastModified: obj.lastModified,
    ContentType: obj.contentType,
    ContentDisposition: obj.contentDisposition,
    Metadata: obj.metadata ?? {},
  };
}

export async function headBucket(s: S3State, input: HeadBucketCommandInput) {
  if (!s.buckets.has(input.Bucket ?? '')) throw notFound();
  return {};
}

/** Keys in lexical order; the continuation token is the last key of the page, encoded. */
export async function listObjectsV2(s: S3State, input: ListObjectsV2CommandInput) {
  const prefix = input.Prefix ?? '';
  const after = input.ContinuationToken
    ? Buffer.from(input.ContinuationToken, 'base64url').toString('utf-8')
    : (input.StartAfter ?? '');
  const max = Math.min(input.MaxKeys ?? s.pageSize, s.pageSize);
  const bucket = s.bucket(input.Bucket);
  const keys = [...bucket.keys()].filter((k) => k.startsWith(prefix) && k > after).sort();
  const page = keys.slice(0, max);
  const truncated = keys.length > page.length;
  const last = page[page.length - 1];
  return {
    Contents: page.map((k) => {
      const obj = bucket.get(k);
      return { Key: k, Size: obj?.bytes.length, ETag: obj?.etag, LastModified: obj?.lastModified };
    }),
    KeyCount: page.length,
    Prefix: input.Prefix,
    IsTruncated: truncated,
    NextContinuationToken:
      truncated && last ? Buffer.from(last, 'utf-8').toString('base64url') : undefined,
  };
}

/** Deleting a key that does not exist succeeds, as in S3. */
export async function deleteObject(s: S3State, input: DeleteObjectCommandInput) {
  s.bucket(input.Bucket).delete(key(input.Key));
  return {};
}

export async function deleteObjects(s: S3State, input: DeleteObjectsCommandInput) {
  const objects = input.Delete?.Objects ?? [];
  if (objects.length === 0 || objects.length > 1000) {
    throw badRequest('MalformedXML', `DeleteObjects of ${objects.length} keys`);
  }
  const bucket = s.bucket(input.Bucket);
  for (const o of objects) bucket.delete(key(o.Key));
  return {
    Deleted: input.Delete?.Quiet ? undefined : objects.map((o) => ({ Key: o.Key })),
    Errors: undefined,
  };
}

function key(k: string | undefined): string {
  if (!k) throw badRequest('InvalidArgument', 'empty key');
  return k;
}

export async function copyObject(s: S3State, input: CopyObjectCommandInput) {
  const source = copySourceOf(s, input.CopySource, input.CopySourceIfMatch);
  const replace = input.MetadataDirective === 'REPLACE';
  const bytes = Buffer.from(source.bytes);
  const etag = etagOf(bytes);
  const lastModified = new Date();
  s.bucket(input.Bucket).set(key(input.Key), {
    bytes,
    etag,
    lastModified,
    contentType: replace ? input.ContentType : source.contentType,
    contentDisposition: replace ? input.ContentDisposition : source.contentDisposition,
    metadata: replace ? input.Metadata : source.metadata,
  });
  return { CopyObjectResult: { ETag: etag, LastModified: lastModified } };
}

/** The object `bucket/key` (key URL-encoded) names; 412 when its ETag is not `ifMatch`. */
export function copySourceOf(s: S3State, copySource: string | undefined, ifMatch?: string) {
  const [bucketName, ...rest] = (copySource ?? '').replace(/^\//, '').split('/');
  const sourceKey = rest.map(decodeURIComponent).join('/');
  const source = s.bucket(bucketName).get(sourceKey);
  if (!source) throw noSuchKey(sourceKey);
  if (ifMatch !== undefined && bare(ifMatch) !== bare(source.etag)) {
    throw preconditionFailed(sourceKey);
  }
  return source;
}
