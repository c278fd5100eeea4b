// The instant-upload index kept in step with uploads (instant/index-store.ts does the
// I/O): an entry once a finished upload's whole-file digest is verified, gone with the
// upload. The index is a hint: a write or delete that fails is logged, never fatal, since
// an entry whose object is gone or changed reads as missing.
import { type IndexEntry, OPEN_TENANT } from '../../instant/index-keys.js';
import { forgetUpload, putEntry } from '../../instant/index-store.js';
import type { StoreContext } from '../context.js';
import { objectRecordsCompletion, type UploadInfo } from '../info.js';
import { objectKey } from '../keys.js';
import { objectHead } from '../state/object.js';

/** The tenant whose index an upload belongs to; every upload of an open server shares one. */
export function indexTenant(info: Pick<UploadInfo, 'owner' | 'tenant'>): string {
  return info.tenant ?? info.owner ?? OPEN_TENANT;
}

/**
 * What a finished upload adds to the index: its verified digest and length. Nothing for
 * an upload that was not hashed, an empty one, or a partial (a final consumes its object).
 */
export function entryOf(
  prefix: string,
  info: UploadInfo,
  now = new Date(),
): IndexEntry | undefined {
  const sha256 = info.digest?.sha256;
  const size = info.size;
  if (info.completedAt === undefined || sha256 === undefined || !size) return undefined;
  if (info.concat?.role === 'partial') return undefined;
  return {
    version: 1,
    key: objectKey(prefix, info.id),
    uploadId: info.id,
    size,
    sha256,
    createdAt: now.toISOString(),
  };
}

/** Records a just-completed upload (its digest verified by completion) for its tenant. */
export async function indexCompleted(ctx: StoreContext, info: UploadInfo): Promise<void> {
  const entry = entryOf(ctx.prefix, info);
  if (!entry) return;
  await putEntry(ctx, indexTenant(info), entry).catch((err: unknown) =>
    ctx.log.warn({ err, id: info.id }, 'could not write the instant-upload index entry'),
  );
}

/**
 * Deletes the entry of a finished upload being removed, if it names this upload. A
 * one-part upload's info may not say it finished (its object records that, s3/info.ts):
 * its digest is then the declared one, or the object's metadata.
 */
export async function forgetRemoved(ctx: StoreContext, info: UploadInfo): Promise<void> {
  const maybeFinished = info.completedAt !== undefined || objectRecordsCompletion(info);
  if (info.digest === undefined || !info.size || !maybeFinished) return;
  try {
    const sha256 =
      info.digest.sha256 ?? info.digest.declared ?? (await objectHead(ctx, info))?.sha256;
    if (sha256 === undefined) return;
    await forgetUpload(ctx, indexTenant(info), sha256, info.size, info.id);
  } catch (err) {
    ctx.log.warn({ err, id: info.id }, 'could not delete the instant-upload index entry');
  }
}
