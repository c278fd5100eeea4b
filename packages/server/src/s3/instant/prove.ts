// A PATCH with Upload-Instant-Proof, under the upload's lock: the decision
// (instant/verify.ts over s3/instant/proof-io.ts), then for a proof that holds the copy
// (s3/instant/copy.ts) and the ordinary completion; every other outcome leaves the upload
// at offset 0 and answers the same. The answer is released no earlier than the floor
// after the proof arrived (instant/answer-floor.ts), whatever it is.
import { type Clock, SYSTEM_CLOCK, withAnswerFloor } from '../../instant/answer-floor.js';
import { decideProof } from '../../instant/verify.js';
import { abortMultipart } from '../abort.js';
import type { StoreContext } from '../context.js';
import type { UploadInfo } from '../info.js';
import { writeInfo } from '../info-io.js';
import type { Progress } from '../state/progress.js';
import { emptyProgress, type UploadState } from '../state/upload-state.js';
import { copyIndexed } from './copy.js';
import { indexTenant } from './index-writes.js';
import { proofIo } from './proof-io.js';

export interface ProveDeps {
  /** With the request's fence: the challenge's consumption and the copy are writes. */
  ctx: StoreContext;
  floorMs: number;
  /** Part copies in flight at once. */
  concurrency: number;
  /** The store's completion (s3/completion.ts: part list, object, info, index entry). */
  finish(info: UploadInfo, progress: Progress, staged: boolean): Promise<UploadInfo>;
  clock?: Clock;
}

export interface ProofAnswer {
  info: UploadInfo;
  progress: Progress;
}

/**
 * Answers the proof for the upload in `state` (at offset 0): complete by a copy, or as
 * it was (its challenge spent). `receivedAt`: the clock's reading when the proof arrived.
 */
export function answerProof(
  deps: ProveDeps,
  state: UploadState,
  proof: Uint8Array,
  receivedAt: number,
): Promise<ProofAnswer> {
  const clock = deps.clock ?? SYSTEM_CLOCK;
  return withAnswerFloor(receivedAt, deps.floorMs, () => decideAndCopy(deps, state, proof), clock);
}

async function decideAndCopy(
  deps: ProveDeps,
  state: UploadState,
  proof: Uint8Array,
): Promise<ProofAnswer> {
  const { ctx } = deps;
  const { id } = state.info;
  const etags = new Set<string>();
  const outcome = await decideProof(indexTenant(state.info), proof, proofIo(ctx, state, etags));
  // One ETag over every range: the ranges came from one version of the object.
  const [etag] = etags;
  if (!outcome.instant || etag === undefined || etags.size !== 1) {
    const reason = outcome.instant ? 'changed' : outcome.reason;
    const err = outcome.instant ? undefined : outcome.error;
    ctx.metrics.instantRefused++;
    ctx.log.info({ id, reason, err }, 'instant upload not granted');
    return { info: state.info, progress: state.progress };
  }
  const declared = state.info.digest?.declared as string;
  // The copy's bytes are those of an object whose digest was verified at its completion.
  const info: UploadInfo = { ...state.info, digest: { ...state.info.digest, sha256: declared } };
  const size = info.size as number;
  const copied = await copyIndexed(ctx, info, { key: outcome.source.key, etag }, deps.concurrency);
  const progress: Progress = { ...emptyProgress(), offset: size, parts: copied.parts };
  const done = await deps.finish(copied.info, progress, state.staged === true);
  if (copied.replaced !== undefined) {
    // Its object was made whole by one CopyObject: the info says so (no multipart upload
    // any more) before that multipart upload goes; a crash in between leaves it to the
    // expiration sweep as an orphan.
    ctx.fence.assertHeld();
    await writeInfo(ctx, done);
    await abortMultipart(ctx, id, copied.replaced);
  }
  ctx.metrics.instantProven++;
  ctx.log.info({ id, from: outcome.source.uploadId, size }, 'instant upload by copy');
  return { info: done, progress };
}
