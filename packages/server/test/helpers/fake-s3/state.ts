// What the fake S3 holds: buckets of objects and multipart uploads in progress, and the
// checks every write shares (Content-MD5, ETags as S3 computes them).
import { createHash, randomBytes } from 'node:crypto';
import { badRequest, s3Error } from './errors.js';

export interface StoredObject {
  bytes: Buffer;
  /** Quoted, as S3 answers it. */
  etag: string;
  lastModified: Date;
  contentType?: string;
  contentDisposition?: string;
  /** User metadata (x-amz-meta-*). */
  metadata?: Record<string, string>;
}

export interface StoredPart {
  bytes: Buffer;
  etag: string;
  lastModified: Date;
}

export interface MultipartUpload {
  bucket: string;
  key: string;
  uploadId: string;
  initiated: Date;
  parts: Map<number, StoredPart>;
  contentType?: string;
  contentDisposition?: string;
  metadata?: Record<string, string>;
  /** Created with ChecksumType FULL_OBJECT (AWS dialect): Complete must carry the object's CRC. */
  fullObjectCrc?: boolean;
}

/**
 * 'rgw' (Ceph RGW, what e2e and production run on) or 'aws', where they differ in ways the
 * store must cope with: ListParts of a finished upload (NoSuchKey vs NoSuchUpload),
 * Complete naming a subset of the parts (InvalidPart vs allowed), Complete's ETag (empty vs
 * "<md5>-N"), UploadPartCopy's ETag (unquoted vs quoted).
 */
export type Dialect = 'rgw' | 'aws';

export class S3State {
  readonly buckets = new Map<string, Map<string, StoredObject>>();
  readonly uploads = new Map<string, MultipartUpload>();

  constructor(
    buckets: readonly string[],
    /** Most entries one listing page holds (S3: 1000). */
    readonly pageSize: number,
    readonly dialect: Dialect,
  ) {
    for (const b of buckets) this.buckets.set(b, new Map());
  }

  bucket(name: string | undefined): Map<string, StoredObject> {
    const bucket = this.buckets.get(name ?? '');
    if (!bucket) throw s3Error('NoSuchBucket', 404, `no such bucket: ${name}`);
    return bucket;
  }

  upload(uploadId: string | undefined, bucket?: string, key?: string): MultipartUpload {
    const upload = this.uploads.get(uploadId ?? '');
    if (!upload || upload.bucket !== bucket || upload.key !== key) {
      throw s3Error('NoSuchUpload', 404, `no such upload: ${uploadId}`);
    }
    return upload;
  }

  newUploadId(): string {
    return randomBytes(12).toString('hex');
  }
}

export function md5(bytes: Uint8Array): Buffer {
  return createHash('md5').update(bytes).digest();
}

/** A single-request object's or a part's ETag: its quoted MD5 in hex. */
export function etagOf(bytes: Uint8Array): string {
  return `"${md5(bytes).toString('hex')}"`;
}

/** S3 verifies a Content-MD5 it is sent, and refuses a body that does not match. */
export function checkContentMd5(bytes: Uint8Array, contentMd5: string | undefined): void {
  if (contentMd5 === undefined) return;
  if (md5(bytes).toString('base64') !== contentMd5) {
    throw badRequest('BadDigest', 'the Content-MD5 you specified did not match what we received');
  }
}

export function bare(etag: string | undefined): string {
  return (etag ?? '').replace(/^"+|"+$/g, '');
}

/** [start, end) of a Range header over `size` bytes; InvalidRange (416) past the end. */
export function parseRange(range: string, size: number): [number, number] {
  const m = /^bytes=(\d*)-(\d*)$/.exec(range);
  if (!m || (m[1] === '' && m[2] === '')) throw badRequest('InvalidArgument', `bad range ${range}`);
  let start: number;
  let end: number;
  if (m[1] === '') {
    start = Math.max(0, size - Number(m[2]));
    end = size;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size : Math.min(size, Number(m[2]) + 1);
  }
  if (start >= size || end <= start) {
    throw s3Error('InvalidRange', 416, `range ${range} not satisfiable for ${size} bytes`);
  }
  return [start, end];
}
