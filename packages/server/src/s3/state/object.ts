// The upload's object in S3: whether it exists yet, and how long it is. An object that
// holds the declared length is a finished upload whatever its info says (a one-part upload
// records its completion that way, and a crash can leave a completion unrecorded).
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { isS3NotFound } from '../../errors.js';
import type { StoreContext } from '../context.js';
import type { UploadInfo } from '../info.js';
import { writeInfo } from '../info-io.js';
import { objectKey } from '../keys.js';

/** The length of the upload's object, or undefined while it does not exist. */
export async function objectLength(
  ctx: StoreContext,
  info: UploadInfo,
): Promise<number | undefined> {
  return (await objectHead(ctx, info))?.length;
}

/** The upload's object's length and `sha256` metadata, or undefined while it does not exist. */
export async function objectHead(
  ctx: StoreContext,
  info: UploadInfo,
): Promise<{ length?: number; sha256?: string } | undefined> {
  const head = await ctx.client
    .send(new HeadObjectCommand({ Bucket: ctx.bucket, Key: objectKey(ctx.prefix, info.id) }))
    .catch((err: unknown) => {
      if (isS3NotFound(err)) return undefined;
      throw err;
    });
  return head && { length: head.ContentLength, sha256: head.Metadata?.sha256 };
}

/**
 * When the upload's object holds exactly its declared length, the upload is complete
 * whatever its info says: the info is marked so, and returned. Undefined otherwise.
 * `known`: the object's length, if already looked up.
 */
export async function recordCompletionIfWhole(
  ctx: StoreContext,
  info: UploadInfo,
  known?: number,
  sha256?: string,
): Promise<UploadInfo | undefined> {
  const head = known === undefined ? await objectHead(ctx, info) : { length: known, sha256 };
  const length = head?.length;
  if (length === undefined || info.size === undefined || length !== info.size) return undefined;
  const done = { ...info, completedAt: new Date().toISOString() };
  // A one-part upload's object carries its verified digest (s3/digest/): the info learns it.
  if (info.digest && head?.sha256) done.digest = { ...info.digest, sha256: head.sha256 };
  await writeInfo(ctx, done);
  return done;
}
