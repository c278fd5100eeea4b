// A waiting final (s3/concat/waiting-final.ts) that declared a Repr-Digest its partials do not
// match. It was built by copy and its digest read back from the partials' objects before any
// CompleteMultipartUpload (complete-final.ts), so nothing is at its key. What stays is a
// tombstone: its info says `digestFailed`, every look at it answers 460 (store.ts) and none
// builds it again; a DELETE (or the expiration sweep) removes it. Its partials are released,
// finished and free, so a new final with the right digest can name them.
//
// Crash safety: the tombstone is written first; the abort of its multipart upload and the
// release of its partials follow, and are redone by the next look at the final or at any of
// its partials until `partialsReleased` says they are done.
import { TusError } from '../../errors.js';
import { DIGEST_MISMATCH_STATUS } from '../../extensions/repr-digest.js';
import { abortMultipart } from '../abort.js';
import { finalOfPartial, type UploadInfo } from '../info.js';
import { findInfo, writeInfo } from '../info-io.js';
import type { FinalDeps } from './deps.js';

/** Whether building a final failed on its declared digest (the 460 of completion). */
export function isDigestMismatch(err: unknown): boolean {
  return err instanceof Error && (err as TusError).status_code === DIGEST_MISMATCH_STATUS;
}

/** The answer to any look at a final that failed its digest. */
export function failedFinalError(): TusError {
  return new TusError(
    DIGEST_MISMATCH_STATUS,
    'Repr-Digest does not match the partial uploads of this final (sha-256 differs); nothing was published',
  );
}

/** Records that `final` failed its digest, then frees what it held. */
export async function failFinal(deps: FinalDeps, final: UploadInfo): Promise<UploadInfo> {
  if (final.concat?.role !== 'final') return final;
  const { declared, onObject } = final.digest ?? {};
  const failed: UploadInfo = {
    ...final,
    digest: { declared, onObject },
    concat: { ...final.concat, digestFailed: true },
  };
  await writeInfo(deps.ctx, failed);
  deps.forget(final);
  deps.ctx.log.info({ id: final.id }, 'final failed its declared digest: nothing published');
  return releasePartials(deps, failed);
}

/** Aborts the failed final's multipart upload and frees its partials (idempotent). */
export async function releasePartials(deps: FinalDeps, final: UploadInfo): Promise<UploadInfo> {
  if (final.concat?.role !== 'final' || final.concat.partialsReleased) return final;
  if (final.uploadId !== undefined) await abortMultipart(deps.ctx, final.id, final.uploadId);
  for (const p of final.concat.partials) {
    const info = await findInfo(deps.ctx, p.id);
    if (info === undefined || finalOfPartial(info) !== final.id) continue;
    await writeInfo(deps.ctx, { ...info, concat: { role: 'partial' } });
    deps.forget(info);
  }
  const done: UploadInfo = { ...final, concat: { ...final.concat, partialsReleased: true } };
  await writeInfo(deps.ctx, done);
  deps.forget(final);
  return done;
}
