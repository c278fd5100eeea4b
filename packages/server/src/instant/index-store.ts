// The instant-upload index in S3: put, get and delete entries (index-keys.ts), and the
// ranged reads of an indexed object that check a proof. The index is a hint, never the
// truth: an entry whose object is gone or is not the size it says reads as missing.
import { createHash } from 'node:crypto';
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { isS3NotFound } from '../errors.js';
import type { StoreContext } from '../s3/context.js';
import { type IndexEntry, indexKey, parseEntry, serializeEntry } from './index-keys.js';

export type IndexContext = Pick<StoreContext, 'client' | 'bucket' | 'prefix'>;

/** Records `entry` for `tenant`; call only once the object's whole-file digest was verified. */
export async function putEntry(
  ctx: IndexContext,
  tenant: string,
  entry: IndexEntry,
): Promise<void> {
  const body = Buffer.from(serializeEntry(entry), 'utf-8');
  await ctx.client.send(
    new PutObjectCommand({
      Bucket: ctx.bucket,
      Key: indexKey(ctx.prefix, tenant, entry.sha256, entry.size),
      Body: body,
      ContentLength: body.length,
      ContentType: 'application/json',
      ContentMD5: createHash('md5').update(body).digest('base64'),
    }),
  );
}

/** The tenant's entry for this digest and length, or undefined. */
export async function getEntry(
  ctx: IndexContext,
  tenant: string,
  sha256: string,
  size: number,
): Promise<IndexEntry | undefined> {
  let text: string;
  try {
    const res = await ctx.client.send(
      new GetObjectCommand({ Bucket: ctx.bucket, Key: indexKey(ctx.prefix, tenant, sha256, size) }),
    );
    text = (await res.Body?.transformToString('utf-8')) ?? '';
  } catch (err) {
    if (isS3NotFound(err)) return undefined;
    throw err;
  }
  const entry = parseEntry(text);
  // An entry under another digest's key is corrupt, not a match.
  return entry && entry.sha256 === sha256 && entry.size === size ? entry : undefined;
}

export async function deleteEntry(
  ctx: IndexContext,
  tenant: string,
  sha256: string,
  size: number,
): Promise<void> {
  await ctx.client.send(
    new DeleteObjectCommand({
      Bucket: ctx.bucket,
      Key: indexKey(ctx.prefix, tenant, sha256, size),
    }),
  );
}

/**
 * Deletes the entry if it names upload `uploadId`: when an upload is deleted, an entry
 * that names a later copy of the same content stays. Read-then-delete is not atomic; a
 * race costs at most a missed instant upload or a stale entry, which reads as missing.
 */
export async function forgetUpload(
  ctx: IndexContext,
  tenant: string,
  sha256: string,
  size: number,
  uploadId: string,
): Promise<boolean> {
  const entry = await getEntry(ctx, tenant, sha256, size);
  if (entry?.uploadId !== uploadId) return false;
  await deleteEntry(ctx, tenant, sha256, size);
  return true;
}

/**
 * Bytes [offset, offset + length) of the entry's object; undefined when the object is
 * gone or its size is not the entry's (then the entry is stale).
 */
export async function readEntryRange(
  ctx: IndexContext,
  entry: IndexEntry,
  offset: number,
  length: number,
): Promise<Uint8Array | undefined> {
  return (await readEntryRangeTagged(ctx, entry, offset, length))?.bytes;
}

/**
 * readEntryRange with the ETag of the object the bytes came from: a copy made after the
 * proof names it (CopySourceIfMatch), so it copies the very object the ranges were read
 * from.
 */
export async function readEntryRangeTagged(
  ctx: IndexContext,
  entry: IndexEntry,
  offset: number,
  length: number,
): Promise<{ bytes: Uint8Array; etag: string | undefined } | undefined> {
  try {
    const res = await ctx.client.send(
      new GetObjectCommand({
        Bucket: ctx.bucket,
        Key: entry.key,
        Range: `bytes=${offset}-${offset + length - 1}`,
      }),
    );
    const bytes = (await res.Body?.transformToByteArray()) ?? new Uint8Array();
    if (totalOf(res.ContentRange) !== entry.size) return undefined;
    return { bytes, etag: res.ETag };
  } catch (err) {
    // 416: the object is shorter than the entry says.
    if (isS3NotFound(err) || isRangeNotSatisfiable(err)) return undefined;
    throw err;
  }
}

/** The total in `bytes a-b/total`, or undefined. */
function totalOf(contentRange: string | undefined): number | undefined {
  const m = contentRange ? /\/(\d+)$/.exec(contentRange) : null;
  return m ? Number(m[1]) : undefined;
}

function isRangeNotSatisfiable(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } } | null;
  return e?.name === 'InvalidRange' || e?.$metadata?.httpStatusCode === 416;
}
