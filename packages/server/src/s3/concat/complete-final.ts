// Building a final upload from its finished partials and completing it, within its creation
// request (s3/concat/final.ts), on the next look after a crash (s3/state/load.ts), or when the last
// partial of a waiting final finishes (s3/concat/waiting-final.ts). Resumable: parts already in
// the final's multipart upload are kept.
import { isS3NotFound, TusError } from '../../errors.js';
import type { StoreContext } from '../context.js';
import { digestOfObjects } from '../digest/read-back.js';
import { hashesUpload, type UploadInfo } from '../info.js';
import { objectKey } from '../keys.js';
import { uploadPart } from '../parts/upload.js';
import type { StoredPart } from '../state/progress.js';
import { emptyProgress } from '../state/upload-state.js';
import { buildFinalParts } from './build-parts.js';
import type { FinalDeps } from './deps.js';
import { removePartials } from './remove-partials.js';

/** Builds (or resumes building) a final's parts, completes it, removes its partials. */
export async function completeFinal(
  deps: FinalDeps,
  info: UploadInfo,
  existing: StoredPart[],
): Promise<UploadInfo> {
  const { ctx } = deps;
  let parts: StoredPart[];
  try {
    parts = await buildFinalParts(
      {
        client: ctx.client,
        bucket: ctx.bucket,
        prefix: ctx.prefix,
        concurrency: deps.concurrency,
        uploadPart: (i, n, body) => uploadPart(ctx, i, n, body),
        counters: ctx.metrics,
      },
      info,
      existing,
    );
  } catch (err) {
    if (!isS3NotFound(err)) throw err;
    // A partial vanished mid-build (deleted, or consumed by another final built at the
    // same time): this final can never be complete, so it goes rather than linger.
    await deps
      .remove(info.id)
      .catch((e: unknown) =>
        ctx.log.warn({ err: e, id: info.id }, 'could not remove a broken final upload'),
      );
    throw new TusError(400, 'a partial upload of this final disappeared while it was built');
  }
  const size = info.size ?? 0;
  const hashed = await withPartialsDigest(ctx, info);
  const done = await deps.finish(hashed, { ...emptyProgress(), offset: size, parts });
  ctx.log.debug({ id: info.id, partials: info.concat }, 'final upload built');
  return removePartials(deps, done);
}

/**
 * A hashed final's digest, read back from its partials' objects before it completes
 * (s3/digest/read-back.ts); completion then compares it with the declared one.
 */
async function withPartialsDigest(ctx: StoreContext, info: UploadInfo): Promise<UploadInfo> {
  if (!hashesUpload(info) || info.digest?.sha256 !== undefined || info.concat?.role !== 'final') {
    return info;
  }
  const keys = info.concat.partials.map((p) => objectKey(ctx.prefix, p.id));
  const sha256 = await digestOfObjects(ctx, keys);
  return { ...info, digest: { ...info.digest, sha256 } };
}
