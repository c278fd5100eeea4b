// Termination (DELETE) within an unfinished final's group. A direct final's bytes are its
// adopted partials' bytes, written as parts of the final's multipart upload
// (s3/concat/direct-final.ts): without one partial the final can never complete, and without the
// final no partial has anywhere to put its bytes. A waiting final (s3/concat/waiting-final.ts) is
// copied from its partials once they are all finished: without one of them it can never
// complete either. So the group lives and dies together: DELETE of the final or of any
// partial it adopted or awaits removes the final and all those partials, and each of them
// answers 404 from then on. Left alone, the survivors would take bytes for an upload that
// cannot finish until they expired. The expiration sweep removes through the same path.
//
// The other members' locks are taken first (the request holds its own), so a PATCH in
// flight on a sibling is asked to stop and ends before anything goes; a PATCH that then
// comes finds nothing. Two DELETEs in one group would each hold a lock the other waits
// for, so before that a DELETE claims the group's termination (one more lock, never an
// upload's): a second DELETE that finds it claimed answers 423 at once, which lets go of
// its own upload's lock for the first, and its retry finds nothing (404).
//
// The multipart upload is aborted before any info goes: a crash in between leaves a group
// whose final can never complete, which the same DELETE again, or the expiration sweep,
// removes.
import { abortMultipart } from '../abort.js';
import type { StoreContext } from '../context.js';
import { finalOfPartial, isUnfinishedGroup, type UploadInfo } from '../info.js';
import { findInfo } from '../info-io.js';

/**
 * Takes the locks of other uploads than the request's own until the returned release
 * (front/request-context.ts: lockUploads); 423 when one stays taken.
 */
export type LockUploads = (
  ids: readonly string[],
  wait?: { ms?: number; busy?: string },
) => Promise<() => Promise<void>>;

export interface TerminationDeps {
  ctx: StoreContext;
  /** Removes one upload's S3 state: its multipart upload, staged objects, object, info. */
  removeUpload(info: UploadInfo): Promise<void>;
}

/**
 * The unfinished direct or waiting final `info` belongs to: itself, or the final that
 * adopted or awaits it; undefined for any other upload (then it is removed alone).
 */
export async function unfinishedFinalOf(
  ctx: StoreContext,
  info: UploadInfo,
): Promise<UploadInfo | undefined> {
  const finalId = finalOfPartial(info);
  const final = finalId !== undefined ? await findInfo(ctx, finalId) : info;
  return final && isUnfinishedGroup(final) ? final : undefined;
}

/**
 * Removes the group of the unfinished final `final`, for a DELETE of `requested`
 * that takes the other members' locks with `lockUploads`.
 */
export async function terminateGroup(
  deps: TerminationDeps,
  final: UploadInfo,
  requested: UploadInfo,
  lockUploads: LockUploads,
): Promise<void> {
  const { ctx } = deps;
  const members = [final.id, ...partialIds(final)].filter((id) => id !== requested.id);
  const unclaim = await lockUploads([terminationClaim(final.id)], {
    ms: CLAIM_WAIT_MS,
    busy: 'another request is terminating the group this upload belongs to; try again',
  });
  let release = async () => {};
  try {
    release = await lockUploads(members);
    // While this request waited, a sibling's last PATCH may have completed the final (its
    // partials then go with the completion), or another DELETE removed the group.
    const now = await findInfo(ctx, final.id);
    if (now === undefined || !isUnfinishedGroup(now)) {
      await deps.removeUpload(requested);
      return;
    }
    if (now.uploadId !== undefined) await abortMultipart(ctx, now.id, now.uploadId);
    for (const id of partialIds(now)) {
      const partial = id === requested.id ? requested : await findInfo(ctx, id);
      // A partial the final never adopted or marked (a crash cut that short) is its own.
      if (partial && finalOfPartial(partial) === now.id) await deps.removeUpload(partial);
    }
    await deps.removeUpload(now);
    ctx.log.debug({ id: now.id, requested: requested.id }, 'final group terminated');
  } finally {
    await release();
    await unclaim();
  }
}

// Long enough for a claim released a moment ago, short enough that the loser's own lock,
// which the winner waits for, comes free at once.
const CLAIM_WAIT_MS = 250;

/** The lock that claims a group's termination: ids never contain a dot (keys.ts). */
function terminationClaim(finalId: string): string {
  return `${finalId}.terminating`;
}

function partialIds(final: UploadInfo): string[] {
  return final.concat?.role === 'final' ? final.concat.partials.map((p) => p.id) : [];
}
