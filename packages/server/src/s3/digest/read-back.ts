// The SHA-256 of objects read back from S3 in order: how a final upload built by copy
// (s3/concat/final.ts) gets its whole-file digest. SHA-256 does not combine, so the partials'
// own digests cannot give the final's; their objects are ordinary readable objects until
// the final is complete, and are streamed through one hash (memory: one chunk at a time).
import { GetObjectCommand } from '@aws-sdk/client-s3';
import type { StoreContext } from '../context.js';
import { storageUnavailable } from '../transport-errors.js';
import { UploadHash } from './hasher.js';

export async function digestOfObjects(ctx: StoreContext, keys: readonly string[]): Promise<string> {
  const hash = await UploadHash.start();
  for (const key of keys) {
    const res = await ctx.client.send(new GetObjectCommand({ Bucket: ctx.bucket, Key: key }));
    try {
      for await (const chunk of (res.Body ?? []) as AsyncIterable<Uint8Array>) hash.update(chunk);
    } catch (err) {
      throw storageUnavailable(err) ?? err;
    }
  }
  return hash.hex();
}
