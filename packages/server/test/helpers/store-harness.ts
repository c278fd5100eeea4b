// A store on the fake S3 for unit tests, and the bytes they send through it.
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { Upload } from '@tus/utils';
import { S3MultipartStore, type S3StoreOptions } from '../../src/s3/store.js';
import { FakeS3, MIN_PART_SIZE } from './fake-s3.js';

export const MiB = 1024 * 1024;
/** The smallest part S3 allows, which is also the smallest the store uses. */
export const PART = MIN_PART_SIZE;
export const BUCKET = 'test';
export const PREFIX = 'up/';

export function newStore(s3: FakeS3, opts: Partial<S3StoreOptions> = {}): S3MultipartStore {
  return new S3MultipartStore({
    client: s3.client,
    bucket: BUCKET,
    prefix: PREFIX,
    partSize: PART,
    ...opts,
  });
}

export function fakeS3(opts: ConstructorParameters<typeof FakeS3>[0] = {}): FakeS3 {
  return new FakeS3({ buckets: [BUCKET], ...opts });
}

export async function createUpload(
  store: S3MultipartStore,
  id: string,
  size?: number,
): Promise<void> {
  await store.create(new Upload({ id, size, offset: 0 }));
}

/** A request body: `bytes` in chunks of `chunk` bytes, as a socket delivers them. */
export function body(bytes: Buffer, chunk = 256 * 1024): Readable {
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += chunk) chunks.push(bytes.subarray(i, i + chunk));
  return Readable.from(chunks);
}

/** `store.write` of bytes [from, to) of `data` at offset `from`. */
export function patch(
  store: S3MultipartStore,
  id: string,
  data: Buffer,
  from: number,
  to: number,
): Promise<number> {
  return store.write(body(data.subarray(from, to)), id, from);
}

export function randomData(size: number): Buffer {
  return randomBytes(size);
}

/** A part's ETag as S3 gives it: its quoted MD5 in hex. */
export function partEtag(bytes: Buffer): string {
  return `"${createHash('md5').update(bytes).digest('hex')}"`;
}

export function segmentKeyAt(id: string, offset: number): string {
  return `${PREFIX}${id}.seg.${String(offset).padStart(15, '0')}`;
}

/** Buffers compared by digest: toEqual walks MiBs byte by byte, for seconds. */
export function digest(bytes: Buffer | undefined): string | undefined {
  return bytes && createHash('sha256').update(bytes).digest('hex');
}

const READS = new Set([
  'GetObject',
  'HeadObject',
  'ListObjectsV2',
  'ListParts',
  'ListMultipartUploads',
]);

/** The requests since `since` that change anything in S3. */
export function writesSince(s3: FakeS3, since: number): string[] {
  return s3.commands(since).filter((c) => !READS.has(c));
}

/** A fresh fake S3 and store with upload `id` created for `size` random bytes. */
export async function startedUpload(
  id: string,
  size: number,
): Promise<{ s3: FakeS3; store: S3MultipartStore; data: Buffer }> {
  const s3 = fakeS3();
  const store = newStore(s3);
  const data = randomData(size);
  await createUpload(store, id, size);
  return { s3, store, data };
}
