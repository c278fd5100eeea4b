import { ERRORS } from '../../errors.js';
import { completeFinal } from '../concat/complete-final.js';
import type { FinalDeps, Findings } from '../concat/deps.js';
import { directFinalState, settleFinal } from '../concat/direct-final.js';
import { removePartials } from '../concat/remove-partials.js';
import { settleWaiting, waitingFinalState } from '../concat/waiting-final.js';
import type { StoreContext } from '../context.js';
import { writeCreated } from '../creation.js';
import { resumeHashed } from '../digest/resume.js';
import { segmentHashState } from '../digest/state.js';
import { adoptionOf, failedDigestFinal, hashesUpload, type UploadInfo } from '../info.js';
import { readInfo } from '../info-io.js';
import type { PartList } from '../parts/list.js';
import { multipartTarget } from '../parts/target.js';
import { clearStaging } from '../staging/cleanup.js';
import { deleteKeys, listStaged, stagedKeys } from '../staging/listing.js';
import { objectHead, recordCompletionIfWhole } from './object.js';
import { deriveProgress, type Progress, type UnverifiedRange } from './progress.js';
import { isUnwritten } from './unwritten.js';
import { completeState, emptyProgress, type UploadState } from './upload-state.js';

export interface LoadDeps {
  ctx: StoreContext;
  parts: PartList;
  finish(
    info: UploadInfo,
    progress: Progress,
    staged?: boolean,
    findings?: Findings,
  ): Promise<UploadInfo>;
  finals: FinalDeps;
  /**
   * Locks are shared with other instances: a sealed id's upload first looked at is written
   * (its .info) at once, so that what it is from then on is in S3 for every instance.
   */
  sharedLocks?: boolean;
}

/** `findings`: of the request this load is for (a final it completes along the way). */
export async function loadState(
  deps: LoadDeps,
  id: string,
  findings?: Findings,
): Promise<UploadState> {
  const { ctx } = deps;
  const info = await readInfo(ctx, id);
  if (isUnwritten(info)) return sealedState(deps, info);
  if (info.completedAt !== undefined) return finishedState(deps, id, info, findings);
  if (info.concat?.role === 'final' && info.concat.direct) {
    return directFinalState(deps.finals, info, findings);
  }
  if (info.concat?.role === 'final' && info.concat.waiting) {
    return waitingFinalState(deps.finals, info, findings);
  }
  if (info.concat?.role === 'final') {
    // A final is never partly there for a client: resume building it from its partials.
    const parts = await deps.parts.list(info);
    if (parts === 'gone') return recoverVanishedUpload(ctx, info);
    return completeState(await completeFinal(deps.finals, info, parts));
  }
  const onePart = multipartTarget(ctx.prefix, info) === undefined;
  const [parts, staged, head] = await Promise.all([
    deps.parts.list(info),
    listStaged(ctx.client, ctx.bucket, ctx.prefix, id),
    onePart ? objectHead(ctx, info) : undefined,
  ]);
  if (parts === 'gone') return recoverVanishedUpload(ctx, info);
  if (onePart && head?.length === info.size) {
    // A one-part upload whose PutObject landed: its object records its completion
    // (objectRecordsCompletion), which the info now says too.
    return recoverVanishedUpload(ctx, info, head, stagedKeys(staged).length > 0);
  }
  let progress = deriveProgress(
    parts,
    staged.segments,
    info.partSize,
    info.size,
    staged.unverified,
  );
  if (hashesUpload(info)) {
    // Never past a durable hash state (s3/digest/resume.ts).
    progress = await resumeHashed({
      derived: progress,
      segments: staged.segments,
      hashes: staged.hashes,
      segmentState: (seg) => segmentHashState(ctx, seg),
    });
  }
  deps.parts.remember(info, progress.parts);
  if (progress.supersededMarks) await dropSuperseded(ctx, id, progress.supersededMarks);
  const state = {
    info,
    progress,
    loadedAt: Date.now(),
    staged: stagedKeys(staged).length > 0,
  };
  if (info.size !== undefined && progress.offset === info.size) {
    // Every byte is durable but completion did not happen (a crash, or a length declared
    // after the bytes): finish now so HEAD never reports a full offset for a missing object.
    return { ...state, info: await deps.finish(info, progress, state.staged, findings) };
  }
  return state;
}

/**
 * A sealed id's upload that nothing in S3 records yet (s3/sealed/seal.ts): at offset 0.
 * Whatever is staged under its id was never acknowledged (a request writes the .info before
 * it answers with an offset; s3/store.ts write), so it is left by a request that died
 * before, and goes: a later .info must not find those bytes and count them. That a .info
 * is missing is taken from one read: S3 (and RGW in one zone) reads its own writes.
 */
async function sealedState(deps: LoadDeps, info: UploadInfo): Promise<UploadState> {
  await clearStaging(deps.ctx, info.id);
  if (deps.sharedLocks) await writeCreated(deps.ctx, info);
  return { info, progress: emptyProgress(), loadedAt: Date.now(), staged: false };
}

/** A finished upload: what a crash left undone around its completion is finished first. */
async function finishedState(
  deps: LoadDeps,
  id: string,
  completed: UploadInfo,
  findings: Findings | undefined,
): Promise<UploadState> {
  const { ctx } = deps;
  let info = completed;
  // A crash between completing a final and removing its partials: finish the job.
  if (info.concat?.role === 'final' && !info.concat.partialsRemoved) {
    info = await removePartials(deps.finals, info);
  }
  const adopted = adoptionOf(info);
  if (adopted) {
    // A crash between this partial's completion and its final's: complete the final.
    await settleFinal(deps.finals, adopted.finalId, findings).catch((err: unknown) =>
      ctx.log.warn({ err, id }, 'could not complete the final of a partial'),
    );
  }
  const awaitedBy = info.concat?.role === 'partial' ? info.concat.awaitedBy : undefined;
  if (awaitedBy !== undefined) {
    // A crash between this partial's completion and its final's assembly: assemble it.
    const final = await settleWaiting(deps.finals, awaitedBy, findings).catch((err: unknown) => {
      ctx.log.warn({ err, id }, 'could not complete the final awaiting a partial');
      return undefined;
    });
    // That final failed its digest and released this partial (s3/concat/failed-final.ts).
    if (final && failedDigestFinal(final)) info = { ...info, concat: { role: 'partial' } };
  }
  return completeState(info);
}

/**
 * Marks written late by a holder that lost its lock: gone before the newer objects that
 * supersede them are folded away (after that they would look live again). Safe from any
 * instance, holder or not: what supersedes them is durable and only newer ones follow.
 */
async function dropSuperseded(
  ctx: StoreContext,
  id: string,
  marks: readonly UnverifiedRange[],
): Promise<void> {
  await deleteKeys(
    ctx.client,
    ctx.bucket,
    marks.map((m) => m.key),
  ).catch((err: unknown) => ctx.log.warn({ err, id }, 'could not delete superseded marks'));
}

/** The multipart upload is gone: either completed before the info said so, or aborted. */
async function recoverVanishedUpload(
  ctx: StoreContext,
  info: UploadInfo,
  known?: { length?: number; sha256?: string },
  staged = true,
): Promise<UploadState> {
  const done = await recordCompletionIfWhole(ctx, info, known?.length, known?.sha256);
  if (!done) throw ERRORS.FILE_NOT_FOUND;
  if (staged) await clearStaging(ctx, info.id);
  return completeState(done);
}
