// Reading and writing an upload's info record (info.ts) in S3, next to its object, or
// folded into the object's metadata (s3/folded-info.ts).
import { createHash } from 'node:crypto';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { ERRORS, isS3NotFound } from '../errors.js';
import type { StoreContext } from './context.js';
import { infoFromObject } from './folded-info.js';
import { parseInfo, serializeInfo, type UploadInfo } from './info.js';
import { infoKey, isFoldableId, isValidId, objectKey } from './keys.js';
import { isSealedId } from './sealed/seal.js';
import { infoOfSealed } from './sealed/sealed-info.js';
import { markUnwritten } from './state/unwritten.js';

/**
 * The info of upload `id`; ERRORS.FILE_NOT_FOUND when there is none (or the id is bad).
 * Only an id made foldable or sealed (store.ts nameUpload) may have its info in its object:
 * that is looked at first (one HEAD finds a folded upload), its .info after. Any other id:
 * the .info, one GET, hit or miss.
 */
export async function readInfo(ctx: StoreContext, id: string): Promise<UploadInfo> {
  const info = await readInfoOrTombstone(ctx, id);
  if (info.terminated) throw ERRORS.FILE_NOT_FOUND;
  return info;
}

/**
 * As readInfo, but a tombstone (a terminated sealed id's record) is returned, not a miss:
 * for the sweep, which removes it once it has expired.
 */
export async function readInfoOrTombstone(ctx: StoreContext, id: string): Promise<UploadInfo> {
  if (!isValidId(id)) throw ERRORS.FILE_NOT_FOUND;
  if (isSealedId(id)) return readSealedInfo(ctx, id);
  if (!isFoldableId(id)) return readInfoRecord(ctx, id);
  const folded = await foldedInfo(ctx, id);
  return folded ?? readInfoRecord(ctx, id);
}

/**
 * A sealed id's upload (s3/sealed/seal.ts): its object if one PutObject made it, its .info
 * if a request wrote one, else what the id seals, at offset 0 and written nowhere yet
 * (state/unwritten.ts). ERRORS.FILE_NOT_FOUND when the id is not ours or has expired.
 */
async function readSealedInfo(ctx: StoreContext, id: string): Promise<UploadInfo> {
  const folded = await foldedInfo(ctx, id);
  if (folded) return folded;
  const record = await readInfoRecord(ctx, id).catch((err: unknown) => {
    if (err === ERRORS.FILE_NOT_FOUND) return undefined;
    throw err;
  });
  if (record) return record;
  const creation = await ctx.seals?.open(id);
  if (!creation) throw ERRORS.FILE_NOT_FOUND;
  const info = infoOfSealed(id, creation);
  markUnwritten(info);
  return info;
}

/** The .info of upload `id`; ERRORS.FILE_NOT_FOUND when there is none. */
async function readInfoRecord(ctx: StoreContext, id: string): Promise<UploadInfo> {
  try {
    const res = await ctx.client.send(
      new GetObjectCommand({ Bucket: ctx.bucket, Key: infoKey(ctx.prefix, id) }),
    );
    return parseInfo((await res.Body?.transformToString('utf-8')) ?? '');
  } catch (err) {
    if (isS3NotFound(err)) throw ERRORS.FILE_NOT_FOUND;
    throw err;
  }
}

/** The info folded into the upload's object, complete; undefined if it has none. */
async function foldedInfo(ctx: StoreContext, id: string): Promise<UploadInfo | undefined> {
  const head = await ctx.client
    .send(new HeadObjectCommand({ Bucket: ctx.bucket, Key: objectKey(ctx.prefix, id) }))
    .catch((err: unknown) => {
      if (isS3NotFound(err)) return undefined;
      throw err;
    });
  if (head === undefined) return undefined;
  return infoFromObject(id, {
    length: head.ContentLength,
    lastModified: head.LastModified,
    metadata: head.Metadata,
  });
}

/** The info of upload `id`, or undefined when there is none. */
export async function findInfo(ctx: StoreContext, id: string): Promise<UploadInfo | undefined> {
  try {
    return await readInfo(ctx, id);
  } catch (err) {
    if (err === ERRORS.FILE_NOT_FOUND) return undefined;
    throw err;
  }
}

export async function writeInfo(ctx: StoreContext, info: UploadInfo): Promise<void> {
  const body = Buffer.from(serializeInfo(info), 'utf-8');
  await ctx.client.send(
    new PutObjectCommand({
      Bucket: ctx.bucket,
      Key: infoKey(ctx.prefix, info.id),
      Body: body,
      ContentLength: body.length,
      ContentType: 'application/json',
      ContentMD5: createHash('md5').update(body).digest('base64'),
    }),
  );
}
