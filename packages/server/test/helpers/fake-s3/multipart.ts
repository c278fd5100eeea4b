// Multipart commands, with the checks S3 makes that the store's correctness rests on:
// part numbers 1..10,000 (RGW accepts 10,001; the store must not send it, so the fake
// refuses it), Content-MD5, and Complete's part list (ascending, every ETag matching,
// every part but the last at least 5 MiB, and for RGW every uploaded part named).
import type {
  AbortMultipartUploadCommandInput,
  CompleteMultipartUploadCommandInput,
  CreateMultipartUploadCommandInput,
  ListMultipartUploadsCommandInput,
  ListPartsCommandInput,
  UploadPartCommandInput,
  UploadPartCopyCommandInput,
} from '@aws-sdk/client-s3';
import { checkLength, received } from './bodies.js';
import { badRequest, noSuchKey, noSuchUpload } from './errors.js';
import { checkCrc64nvme, wantsFullObject } from './full-object.js';
import { copySourceOf } from './objects.js';
import { bare, checkContentMd5, etagOf, md5, parseRange, type S3State } from './state.js';

export const MIN_PART_SIZE = 5 * 1024 * 1024;
export const MAX_PARTS = 10_000;

export async function createMultipartUpload(s: S3State, input: CreateMultipartUploadCommandInput) {
  s.bucket(input.Bucket);
  const fullObjectCrc = wantsFullObject(s, input);
  const uploadId = s.newUploadId();
  s.uploads.set(uploadId, {
    bucket: input.Bucket as string,
    key: input.Key as string,
    uploadId,
    initiated: new Date(),
    parts: new Map(),
    contentType: input.ContentType,
    contentDisposition: input.ContentDisposition,
    metadata: input.Metadata,
    fullObjectCrc,
  });
  return { Bucket: input.Bucket, Key: input.Key, UploadId: uploadId };
}

export async function uploadPart(s: S3State, input: UploadPartCommandInput) {
  const bytes = received(input.Body);
  const upload = s.upload(input.UploadId, input.Bucket, input.Key);
  const n = partNumber(input.PartNumber);
  checkLength(bytes, input.ContentLength);
  checkContentMd5(bytes, input.ContentMD5);
  const etag = etagOf(bytes);
  upload.parts.set(n, { bytes, etag, lastModified: new Date() });
  return { ETag: etag };
}

export async function uploadPartCopy(s: S3State, input: UploadPartCopyCommandInput) {
  const upload = s.upload(input.UploadId, input.Bucket, input.Key);
  const n = partNumber(input.PartNumber);
  const source = copySourceOf(s, input.CopySource, input.CopySourceIfMatch);
  const size = source.bytes.length;
  const [start, end] = input.CopySourceRange ? parseRange(input.CopySourceRange, size) : [0, size];
  const bytes = Buffer.from(source.bytes.subarray(start, end));
  const etag = etagOf(bytes);
  const lastModified = new Date();
  upload.parts.set(n, { bytes, etag, lastModified });
  return {
    CopyPartResult: { ETag: s.dialect === 'rgw' ? bare(etag) : etag, LastModified: lastModified },
  };
}

export async function listParts(s: S3State, input: ListPartsCommandInput) {
  const upload = s.uploads.get(input.UploadId ?? '');
  if (!upload || upload.bucket !== input.Bucket || upload.key !== input.Key) {
    // RGW answers for a completed or aborted upload as for a missing key.
    throw s.dialect === 'rgw' ? noSuchKey(input.Key ?? '') : noSuchUpload(input.UploadId ?? '');
  }
  const marker = Number(input.PartNumberMarker ?? 0);
  const max = Math.min(input.MaxParts ?? s.pageSize, s.pageSize);
  const numbers = [...upload.parts.keys()].filter((n) => n > marker).sort((a, b) => a - b);
  const page = numbers.slice(0, max);
  const truncated = numbers.length > page.length;
  return {
    Bucket: input.Bucket,
    Key: input.Key,
    UploadId: input.UploadId,
    PartNumberMarker: input.PartNumberMarker,
    Parts: page.map((n) => {
      const p = upload.parts.get(n);
      return { PartNumber: n, Size: p?.bytes.length, ETag: p?.etag, LastModified: p?.lastModified };
    }),
    IsTruncated: truncated,
    NextPartNumberMarker: page.length > 0 ? String(page[page.length - 1]) : undefined,
  };
}

export async function completeMultipartUpload(
  s: S3State,
  input: CompleteMultipartUploadCommandInput,
) {
  const upload = s.upload(input.UploadId, input.Bucket, input.Key);
  const listed = input.MultipartUpload?.Parts ?? [];
  if (listed.length === 0) throw badRequest('MalformedXML', 'Complete names no parts');
  const chosen = listed.map((l, i) => {
    const n = partNumber(l.PartNumber);
    const prev = listed[i - 1]?.PartNumber;
    if (prev !== undefined && prev >= n) {
      throw badRequest('InvalidPartOrder', `part ${n} listed after part ${prev}`);
    }
    const part = upload.parts.get(n);
    if (!part || bare(part.etag) !== bare(l.ETag)) {
      throw badRequest('InvalidPart', `part ${n} was not uploaded, or its ETag differs`);
    }
    if (i < listed.length - 1 && part.bytes.length < MIN_PART_SIZE) {
      throw badRequest('EntityTooSmall', `part ${n} has ${part.bytes.length} bytes`);
    }
    return part;
  });
  if (s.dialect === 'rgw' && chosen.length !== upload.parts.size) {
    throw badRequest(
      'InvalidPart',
      `Complete names ${chosen.length} of ${upload.parts.size} parts`,
    );
  }
  const bytes = Buffer.concat(chosen.map((p) => p.bytes));
  if (upload.fullObjectCrc && input.ChecksumType !== 'FULL_OBJECT') {
    throw badRequest('InvalidRequest', 'Complete must say ChecksumType FULL_OBJECT');
  }
  await checkCrc64nvme(s, bytes, input.ChecksumCRC64NVME, upload.fullObjectCrc === true);
  const etag = `"${md5(Buffer.concat(chosen.map((p) => md5(p.bytes)))).toString('hex')}-${chosen.length}"`;
  s.bucket(upload.bucket).set(upload.key, {
    bytes,
    etag,
    lastModified: new Date(),
    contentType: upload.contentType,
    contentDisposition: upload.contentDisposition,
    metadata: upload.metadata,
  });
  s.uploads.delete(upload.uploadId);
  // RGW answers Complete with an empty ETag.
  return { Bucket: upload.bucket, Key: upload.key, ETag: s.dialect === 'rgw' ? '' : etag };
}

export async function abortMultipartUpload(s: S3State, input: AbortMultipartUploadCommandInput) {
  const upload = s.upload(input.UploadId, input.Bucket, input.Key);
  s.uploads.delete(upload.uploadId);
  return {};
}

/** Uploads in (key, upload id) order, paged by KeyMarker and UploadIdMarker. */
export async function listMultipartUploads(s: S3State, input: ListMultipartUploadsCommandInput) {
  s.bucket(input.Bucket);
  const prefix = input.Prefix ?? '';
  const keyMarker = input.KeyMarker ?? '';
  const idMarker = input.UploadIdMarker ?? '';
  const all = [...s.uploads.values()]
    .filter((u) => u.bucket === input.Bucket && u.key.startsWith(prefix))
    .filter((u) =>
      idMarker
        ? u.key > keyMarker || (u.key === keyMarker && u.uploadId > idMarker)
        : u.key > keyMarker,
    )
    .sort((a, b) => (a.key === b.key ? cmp(a.uploadId, b.uploadId) : cmp(a.key, b.key)));
  const max = Math.min(input.MaxUploads ?? s.pageSize, s.pageSize);
  const page = all.slice(0, max);
  const truncated = all.length > page.length;
  const last = page[page.length - 1];
  return {
    Uploads: page.map((u) => ({ Key: u.key, UploadId: u.uploadId, Initiated: u.initiated })),
    IsTruncated: truncated,
    NextKeyMarker: truncated ? last?.key : undefined,
    NextUploadIdMarker: truncated ? last?.uploadId : undefined,
  };
}

function partNumber(n: number | undefined): number {
  if (n === undefined || !Number.isInteger(n) || n < 1 || n > MAX_PARTS) {
    throw badRequest('InvalidArgument', `part number ${n} is not in 1..${MAX_PARTS}`);
  }
  return n;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
