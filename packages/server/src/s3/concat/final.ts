// Upload-Concat: final, over this store. A final of finished partials is checked against them,
// created with an info that records them, built from them (s3/concat/build-parts.ts) and completed
// within its creation request; then the partials go. A crash anywhere is resumed by the next look
// at the final (s3/state/load.ts), since the partials stay until the final is done. A final of
// unfinished partials is "direct" instead (s3/concat/direct-final.ts): nothing to build.
import type { Upload } from '@tus/utils';
import { ownershipOf, type Principal } from '../../auth/principal.js';
import { isS3NotFound, TusError } from '../../errors.js';
import { DIGEST_MISMATCH_STATUS } from '../../extensions/repr-digest.js';
import type { StoreContext } from '../context.js';
import { startUpload } from '../creation.js';
import { digestOfObjects } from '../digest/read-back.js';
import { type DigestInfo, hashesUpload, type UploadInfo } from '../info.js';
import { objectKey } from '../keys.js';
import { S3_MAX_OBJECT_SIZE } from '../parts/arithmetic.js';
import { uploadPart } from '../parts/upload.js';
import type { StoredPart } from '../state/progress.js';
import { completeState, emptyProgress, type UploadState } from '../state/upload-state.js';
import { storageOf } from '../state/view.js';
import { buildFinalParts } from './build-parts.js';
import type { Created, FinalDeps, Findings } from './deps.js';
import { createDirectFinal, repeatDirectFinal } from './direct-final.js';
import { type NamedPartials, namedPartials } from './named-partials.js';
import { chooseFinalPartSize } from './plan.js';
import { removePartials } from './remove-partials.js';

/** The length a final naming this partial gets from it (unknown while deferred: 400). */
export function partialLength({ info }: UploadState): number {
  if (info.size === undefined) {
    throw new TusError(400, `partial upload ${info.id} has a deferred length`);
  }
  return info.size;
}

/** A partial upload that a final may consume by copy: created as a partial, and finished. */
function finishedPartial(state: UploadState): UploadInfo {
  const { info, progress } = state;
  if (info.completedAt === undefined || info.size === undefined) {
    const of = info.size === undefined ? 'a deferred length' : `${info.size}`;
    throw new TusError(
      400,
      `partial upload ${info.id} is not finished (${progress.offset} of ${of} bytes)`,
    );
  }
  return info;
}

/** What the creation request of a final brings besides its upload and partials. */
export interface FinalRequest {
  /** The partials as this request read them already (to size the final): not read again. */
  named?: NamedPartials;
  /** The generation of the request's lock on the new upload (s3/state/upload-state.ts). */
  generation?: number;
  findings?: Findings;
  /** Who creates the final: the partials must be theirs, and the final records them. */
  principal?: Principal;
  /** The whole-file digest the final is verified against, or {} to compute it (s3/digest/). */
  digest?: DigestInfo;
}

/**
 * Upload-Concat: final. Within the creation request: the partials are checked, the final
 * multipart upload and its info (which records the partials) are written, then its parts
 * are copied from the partials and it is completed.
 */
export async function createFinal(
  deps: FinalDeps,
  upload: Upload,
  ids: readonly string[],
  request: FinalRequest = {},
): Promise<Created> {
  const { findings, principal } = request;
  const { states, repeats } =
    request.named ?? (await namedPartials(deps, ids, findings, principal));
  const direct = states.length > 0 && states.every((s) => s.info.completedAt === undefined);
  if ((repeats || direct) && request.digest?.declared !== undefined) {
    // Its partials write straight into its parts, which S3 cannot read back before completion.
    throw new TusError(
      400,
      'Repr-Digest on a final needs finished partials (a direct final cannot be verified)',
    );
  }
  if (repeats) return repeatDirectFinal(deps, upload, repeats, states, findings);
  // concatenation-unfinished: none has finished, so they may write straight into the final.
  if (direct) return createDirectFinal(deps, upload, states, ownershipOf(principal));
  const partials = states.map(finishedPartial);
  const sizes = partials.map((p) => p.size ?? 0);
  const size = sizes.reduce((a, b) => a + b, 0);
  if (upload.size !== undefined && upload.size !== size) {
    throw new TusError(400, `Upload-Length ${upload.size} is not the partials' total ${size}`);
  }
  if (size > S3_MAX_OBJECT_SIZE) {
    throw new TusError(413, 'the partial uploads exceed the S3 object limit of 5 TiB');
  }
  upload.size = size;
  // Built by UploadPartCopy, so always a multipart upload, however small.
  const info = await startUpload(
    deps.ctx,
    upload,
    {
      ...ownershipOf(principal),
      partSize: chooseFinalPartSize(sizes, deps.partSizeOption),
      concat: {
        role: 'final',
        partials: partials.map((p) => ({ id: p.id, size: p.size ?? 0 })),
      },
      digest: request.digest,
    },
    true,
  );
  let done: UploadInfo;
  try {
    done = await completeFinal(deps, info, []);
  } catch (err) {
    if ((err as TusError).status_code === DIGEST_MISMATCH_STATUS) {
      // Nothing was published; the partials stay for a final with the right digest.
      await deps.remove(info.id).catch((e: unknown) => {
        deps.ctx.log.warn(
          { err: e, id: info.id },
          'could not remove a final that failed its digest',
        );
      });
    }
    throw err;
  }
  deps.remember(completeState(done), request.generation);
  upload.offset = size;
  upload.storage = storageOf(deps.ctx, info.id);
  // Complete at birth: nothing to expire (and no Upload-Expires on the response).
  upload.creation_date = undefined;
  return { upload, info: done };
}

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
