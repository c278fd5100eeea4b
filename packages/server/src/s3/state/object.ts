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
  const head = await ctx.client
    .send(new HeadObjectCommand({ Bucket: ctx.bucket, Key: objectKey(ctx.prefix, info.id) }))
    .catch((err: unknown) => {
      if (isS3NotFound(err)) return undefined;
      throw err;
    });
  return head?.ContentLength;
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
): Promise<UploadInfo | undefined> {
  const length = known ?? (await objectLength(ctx, info));
  if (length === undefined || info.size === undefined || length !== info.size) return undefined;
  const done = { ...info, completedAt: new Date().toISOString() };
  await writeInfo(ctx, done);
  return done;
}
