// Reading and writing an upload's info record (info.ts) in S3, next to its object.
import { createHash } from 'node:crypto';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { ERRORS, isS3NotFound } from '../errors.js';
import type { StoreContext } from './context.js';
import { parseInfo, serializeInfo, type UploadInfo } from './info.js';
import { infoKey, isValidId } from './keys.js';

/** The info of upload `id`; ERRORS.FILE_NOT_FOUND when there is none (or the id is bad). */
export async function readInfo(ctx: StoreContext, id: string): Promise<UploadInfo> {
  if (!isValidId(id)) throw ERRORS.FILE_NOT_FOUND;
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
