// Upload-Concat: final, over this store. A final of finished partials is checked against them,
// created with an info that records them, built from them (s3/concat/build-parts.ts) and completed
// within its creation request; then the partials go. A crash anywhere is resumed by the next look
// at the final (s3/state/load.ts), since the partials stay until the final is done. A final over
// partials not all finished (concatenation-unfinished) is "direct" when they are all empty and
// line up on one part size (s3/concat/direct-final.ts: nothing to build), else "waiting"
// (s3/concat/waiting-final.ts: built the same way once its last partial finishes). A final that
// declares Repr-Digest over unfinished partials is always a waiting one (s3/concat/final-kind.ts):
// its digest is read back before it completes, and a mismatch leaves a tombstone that answers
// 460 (s3/concat/failed-final.ts).
import type { Upload } from '@tus/utils';
import { ownershipOf, type Principal } from '../../auth/principal.js';
import { TusError } from '../../errors.js';
import { DIGEST_MISMATCH_STATUS } from '../../extensions/repr-digest.js';
import { startUpload } from '../creation.js';
import type { DigestInfo, UploadInfo } from '../info.js';
import { completeState, emptyProgress, type UploadState } from '../state/upload-state.js';
import { storageOf } from '../state/view.js';
import { completeFinal } from './complete-final.js';
import type { Created, FinalDeps, Findings } from './deps.js';
import { createDirectFinal, partialFacts, repeatDirectFinal } from './direct-final.js';
import { finalLength } from './final-fields.js';
import { type FinalKind, finalKind } from './final-kind.js';
import { type NamedPartials, namedPartials } from './named-partials.js';
import { chooseFinalPartSize } from './plan.js';
import { createWaitingFinal, repeatWaitingFinal } from './waiting-final.js';

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
  const named = request.named ?? (await namedPartials(deps, ids, findings, principal));
  const { states, repeats } = named;
  const declared = request.digest?.declared;
  const kind = finalKind(states.map(partialFacts), declared !== undefined);
  if (repeats && repeats.digest?.declared !== declared) {
    // The partials belong to a final that verifies another digest, or none (a direct one).
    throw new TusError(400, `the partial uploads belong to final upload ${repeats.id}`);
  }
  if (repeats || kind.kind !== 'copy') return unfinishedFinal(deps, upload, request, kind, named);
  const partials = states.map(finishedPartial);
  const sizes = partials.map((p) => p.size ?? 0);
  const size = finalLength(upload, sizes);
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

/** concatenation-unfinished: a direct or waiting final, or the one the same POST made. */
async function unfinishedFinal(
  deps: FinalDeps,
  upload: Upload,
  request: FinalRequest,
  kind: FinalKind,
  { states, repeats }: NamedPartials,
): Promise<Created> {
  if (repeats?.concat?.role === 'final' && repeats.concat.waiting) {
    return repeatWaitingFinal(deps, upload, repeats, states);
  }
  if (repeats) return repeatDirectFinal(deps, upload, repeats, states, request.findings);
  const ownership = ownershipOf(request.principal);
  if (kind.kind === 'direct') {
    return createDirectFinal(deps, upload, states, kind.layout, ownership);
  }
  deps.ctx.log.debug({ id: upload.id, kind }, 'final waits for its partials');
  const created = await createWaitingFinal(deps, upload, states, {
    ...ownership,
    digest: request.digest,
  });
  // @tus/server reads it again for Upload-Expires: it is as just written.
  const state = { info: created.info, progress: emptyProgress(), loadedAt: Date.now() };
  deps.remember(state, request.generation);
  return created;
}
