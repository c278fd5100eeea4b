// A "waiting" final upload (tus concatenation-unfinished): created while some of its partials
// are unfinished (part-way, or empty but not fit for a direct final), in any mix with finished
// ones. Its creation answers 201 at once: its info records the partials, each partial's info
// records the final (`awaitedBy`), and the final has its multipart upload, empty. When a
// partial finishes, its completion settles the final under the final's lock: once every
// partial is finished, the final is built from their objects as a final of finished partials
// is (s3/concat/complete-final.ts: UploadPartCopy, no byte through the server when the parts
// line up), completed, and the partials go.
//
// Crash safety, with truth in S3 only: a creation cut short leaves partials without the back-
// reference, which the next look at the final (or the same POST again) writes; a completion
// of the last partial whose assembly never ran or never ended is resumed by the next look at
// the final or at any of its partials (s3/state/load.ts), and building keeps the parts already
// copied. Expiration: the final takes the creation time of its oldest partial, so the group
// expires as one, and the sweep removes it as one (s3/concat/group-termination.ts).
import type { Upload } from '@tus/utils';
import type { Ownership } from '../../auth/principal.js';
import { startUpload } from '../creation.js';
import { type DigestInfo, failedDigestFinal, finalOfPartial, type UploadInfo } from '../info.js';
import { findInfo, writeInfo } from '../info-io.js';
import { recordCompletionIfWhole } from '../state/object.js';
import { emptyProgress, type UploadState } from '../state/upload-state.js';
import { completeFinal } from './complete-final.js';
import type { Created, FinalDeps, Findings } from './deps.js';
import { failFinal, isDigestMismatch, releasePartials } from './failed-final.js';
import { answerRepeat, answerUnfinished, finalLength, partialLength } from './final-fields.js';
import { chooseFinalPartSize } from './plan.js';
import { removePartials } from './remove-partials.js';

/** Creates the final and marks every partial as awaited by it. */
export async function createWaitingFinal(
  deps: FinalDeps,
  upload: Upload,
  partials: readonly UploadState[],
  extra: Ownership & { digest?: DigestInfo },
): Promise<Created> {
  const sizes = partials.map(partialLength);
  upload.size = finalLength(upload, sizes);
  const createdAt = oldest([new Date().toISOString(), ...partials.map((p) => p.info.createdAt)]);
  // Built by UploadPartCopy, so always a multipart upload, however small.
  const info = await startUpload(
    deps.ctx,
    upload,
    {
      ...extra,
      partSize: chooseFinalPartSize(sizes, deps.partSizeOption),
      concat: {
        role: 'final',
        partials: partials.map(({ info: p }, i) => ({ id: p.id, size: sizes[i] as number })),
        waiting: true,
      },
      createdAt,
    },
    true,
  );
  // The final's info first: a crash before every mark is written leaves a final that names
  // its partials, and the next look at it marks the rest.
  await Promise.all(partials.map(({ info: p }) => markAwaited(deps, info.id, p)));
  return answerUnfinished(deps, upload, info);
}

/** The same final POST again (s3/concat/named-partials.ts): answered with the final it made. */
export async function repeatWaitingFinal(
  deps: FinalDeps,
  upload: Upload,
  final: UploadInfo,
  partials: readonly UploadState[],
): Promise<Created> {
  for (const { info } of partials) {
    if (finalOfPartial(info) === undefined) await markAwaited(deps, final.id, info);
  }
  return answerRepeat(deps, upload, final);
}

/**
 * Settles the waiting final `finalId` after one of its partials finished: builds and
 * completes it when every partial is finished. Undefined when there is no such final, or
 * when this request holds its lock already (the caller that took it settles it after).
 */
export async function settleWaiting(
  deps: FinalDeps,
  finalId: string,
  findings?: Findings,
): Promise<UploadInfo | undefined> {
  const lock = await deps.lockFinal(finalId);
  if (lock === 'held') return undefined;
  try {
    const final = await findInfo(deps.ctx, finalId);
    if (final?.concat?.role !== 'final' || !final.concat.waiting) return undefined;
    return await settle(deps, final, findings);
  } finally {
    await lock();
  }
}

/**
 * The state of a waiting final on a look at it: partials whose bytes are all durable are
 * completed (a crash may have cut their completion short), then the final is settled.
 */
export async function waitingFinalState(
  deps: FinalDeps,
  final: UploadInfo,
  findings?: Findings,
): Promise<UploadState> {
  if (
    final.concat?.role === 'final' &&
    final.concat.digestFailed &&
    final.concat.partialsReleased
  ) {
    return failedState(final);
  }
  const lock = await deps.lockFinal(final.id);
  let done: UploadInfo;
  try {
    for (const p of final.concat?.role === 'final' ? final.concat.partials : []) {
      const info = await findInfo(deps.ctx, p.id);
      // One at a time: each may complete the partial, whose completion then finds this
      // request holding the final's lock and leaves the final to the settle below.
      if (info?.completedAt === undefined && info && finalOfPartial(info) === final.id) {
        await deps.loadState(p.id, findings);
      }
    }
    done = await settle(deps, (await findInfo(deps.ctx, final.id)) ?? final, findings);
  } finally {
    if (lock !== 'held') await lock();
  }
  if (failedDigestFinal(done)) return failedState(done);
  return {
    info: done,
    progress: { ...emptyProgress(), offset: done.completedAt ? (done.size ?? 0) : 0 },
    loadedAt: Date.now(),
  };
}

async function settle(
  deps: FinalDeps,
  final: UploadInfo,
  findings: Findings | undefined,
): Promise<UploadInfo> {
  if (failedDigestFinal(final)) return releasePartials(deps, final);
  if (final.completedAt !== undefined) return removePartials(deps, final);
  if (final.concat?.role !== 'final') return final;
  const infos = await Promise.all(final.concat.partials.map((p) => findInfo(deps.ctx, p.id)));
  const ready: UploadInfo[] = [];
  for (const info of infos) {
    // A partial gone (a termination of the group that a crash cut short): the final can
    // never complete; the same DELETE again, or the expiration sweep, removes the rest.
    if (info === undefined) return final;
    let mine = info;
    if (finalOfPartial(info) === undefined) mine = await markAwaited(deps, final.id, info);
    if (finalOfPartial(mine) !== final.id || mine.completedAt === undefined) return final;
    ready.push(mine);
  }
  const parts = await deps.parts.list(final);
  let done: UploadInfo;
  if (parts === 'gone') {
    // Completed already (a crash before the info said so), or aborted by a termination.
    const whole = await recordCompletionIfWhole(deps.ctx, final);
    if (!whole) return final;
    done = await removePartials(deps, whole);
  } else {
    try {
      done = await completeFinal(deps, final, parts);
    } catch (err) {
      // Nothing published: a tombstone that every later look answers 460, never rebuilt.
      if (isDigestMismatch(err)) return failFinal(deps, final);
      throw err;
    }
  }
  if (findings) findings.finishedFinal = final.id;
  deps.ctx.log.debug({ id: final.id, partials: ready.length }, 'waiting final completed');
  return done;
}

/** A final that failed its digest: nothing there, nothing to come (store.ts answers 460). */
function failedState(info: UploadInfo): UploadState {
  return { info, progress: emptyProgress(), loadedAt: Date.now() };
}

async function markAwaited(
  deps: FinalDeps,
  finalId: string,
  partial: UploadInfo,
): Promise<UploadInfo> {
  const marked: UploadInfo = { ...partial, concat: { role: 'partial', awaitedBy: finalId } };
  await writeInfo(deps.ctx, marked);
  deps.forget(partial);
  return marked;
}

function oldest(isoTimes: readonly string[]): string {
  return isoTimes.reduce((a, b) => (Date.parse(b) < Date.parse(a) ? b : a));
}
