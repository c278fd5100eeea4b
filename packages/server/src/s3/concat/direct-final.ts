// A "direct" final upload (tus concatenation-unfinished): created before its partials have
// any bytes, it gives them its own multipart upload to write into. Each partial is
// adopted: its info names the final, the final's multipart upload and the final's part
// number of its part 1, and its own (empty) multipart upload is aborted. From then on its
// PATCHes land as parts of the final (s3/parts/target.ts). When a partial's last byte is
// durable its info is marked complete; whoever then sees every partial complete completes
// the final, which is a CompleteMultipartUpload and nothing else: no byte copied.
//
// Crash safety: every step leaves S3 in a state the next look repairs. A final whose
// adoption was cut short adopts the rest when it is next loaded; partials all complete
// but the final not (a crash, or two completers racing) is completed by the next HEAD or
// PATCH of the final or of any partial; a CompleteMultipartUpload that already happened
// (NoSuchUpload) counts as done when the object has the final's length. A client that
// never got the 201 sends the same POST again and gets this final (s3/concat/named-partials.ts).
import type { Upload } from '@tus/utils';
import type { Ownership } from '../../auth/principal.js';
import { isS3NotFound, TusError } from '../../errors.js';
import { abortMultipart } from '../abort.js';
import { startUpload } from '../creation.js';
import { adoptionOf, finalOfPartial, multipartId, type UploadInfo } from '../info.js';
import { findInfo, readInfo, writeInfo } from '../info-io.js';
import { partCount } from '../parts/arithmetic.js';
import { objectLength } from '../state/object.js';
import { emptyProgress, type UploadState } from '../state/upload-state.js';
import type { Created, FinalDeps, Findings } from './deps.js';
import type { DirectLayout, PartialFacts } from './direct-layout.js';
import { answerRepeat, answerUnfinished } from './final-fields.js';
import { removePartials } from './remove-partials.js';

/** What deciding on a final's kind needs of a partial (s3/concat/final-kind.ts). */
export function partialFacts({
  info,
  progress,
}: UploadState): PartialFacts & { finished: boolean } {
  return {
    id: info.id,
    size: info.size,
    partSize: info.partSize,
    offset: progress.offset,
    adoptedBy: finalOfPartial(info),
    finished: info.completedAt !== undefined,
  };
}

/** Creates the final and adopts every partial (all unfinished, at offset 0, aligned). */
export async function createDirectFinal(
  deps: FinalDeps,
  upload: Upload,
  partials: readonly UploadState[],
  layout: DirectLayout,
  ownership: Ownership = {},
): Promise<Created> {
  if (upload.size !== undefined && upload.size !== layout.size) {
    throw new TusError(
      400,
      `Upload-Length ${upload.size} is not the partials' total ${layout.size}`,
    );
  }
  upload.size = layout.size;
  // Always a multipart upload: its partials write into it, however small.
  const info = await startUpload(
    deps.ctx,
    upload,
    {
      ...ownership,
      partSize: layout.partSize,
      concat: {
        role: 'final',
        partials: partials.map(({ info: p }) => ({ id: p.id, size: p.size ?? 0 })),
        direct: true,
      },
    },
    true,
  );
  await Promise.all(partials.map(({ info: p }, i) => adopt(deps, info, p, layout.firstParts[i])));
  return answerUnfinished(deps, upload, info);
}

/**
 * The same final POST again (s3/concat/named-partials.ts): answered with the final it created, once
 * the partials a crash left out are adopted. `partials` are as this request read them
 * (reading them completed any whose bytes were all durable, and with them the final), so
 * only those not adopted are read again.
 */
export async function repeatDirectFinal(
  deps: FinalDeps,
  upload: Upload,
  final: UploadInfo,
  partials: readonly UploadState[],
  findings?: Findings,
): Promise<Created> {
  await adoptMissing(
    deps,
    final,
    partials.map((p) => p.info),
    findings,
  );
  // Unfinished (isRepeatOf): it expires like any unfinished upload.
  return answerRepeat(deps, upload, final);
}

async function adopt(
  deps: FinalDeps,
  final: UploadInfo,
  partial: UploadInfo,
  firstPart: number | undefined,
): Promise<void> {
  const { ctx } = deps;
  if (firstPart === undefined) throw new Error(`no first part for partial ${partial.id}`);
  const adopted: UploadInfo = {
    ...partial,
    concat: {
      role: 'partial',
      adopted: { finalId: final.id, uploadId: multipartId(final), firstPart },
    },
  };
  delete adopted.uploadId;
  // The info first: from here on the partial's bytes go to the final, whatever happens to
  // its own multipart upload (a crash before the abort leaves an empty one for the sweep).
  await writeInfo(ctx, adopted);
  deps.forget(partial);
  if (partial.uploadId !== undefined) {
    await abortMultipart(ctx, partial.id, partial.uploadId).catch((err: unknown) =>
      ctx.log.warn({ err, id: partial.id }, 'could not abort'),
    );
  }
  ctx.metrics.partialsAdopted++;
}

/** The state of an unfinished direct final: adoption finished if cut short, completed if ready. */
export async function directFinalState(
  deps: FinalDeps,
  final: UploadInfo,
  findings?: Findings,
): Promise<UploadState> {
  const done = await settle(deps, final, true, findings);
  return {
    info: done,
    progress: { ...emptyProgress(), offset: done.completedAt ? (done.size ?? 0) : 0 },
    loadedAt: Date.now(),
  };
}

/**
 * Completes the direct final `finalId` if every partial is complete (called by whoever
 * completed a partial, and on every look at a complete adopted partial). Returns the
 * final's info, or undefined when there is no such final. `findings` learn of a
 * completion this call made (not one it waited for).
 */
export async function settleFinal(
  deps: FinalDeps,
  finalId: string,
  findings?: Findings,
): Promise<UploadInfo | undefined> {
  // Partials of one final finishing at once in this process complete it once.
  const running = deps.settling.get(finalId);
  if (running) return running;
  const work = (async () => {
    const final = await findInfo(deps.ctx, finalId);
    if (final?.concat?.role !== 'final' || !final.concat.direct) return undefined;
    return settle(deps, final, false, findings);
  })();
  deps.settling.set(finalId, work);
  try {
    return await work;
  } finally {
    deps.settling.delete(finalId);
  }
}

async function settle(
  deps: FinalDeps,
  final: UploadInfo,
  repair: boolean,
  findings: Findings | undefined,
): Promise<UploadInfo> {
  if (final.completedAt !== undefined) return removePartials(deps, final);
  if (final.concat?.role !== 'final') return final;
  const { partials } = final.concat;
  const infos = await Promise.all(partials.map((p) => findInfo(deps.ctx, p.id)));
  if (infos.some((i) => i === undefined)) {
    // Removed by a completer that raced this one (then the final says complete), or by a
    // termination of the group that a crash cut short (the final goes with it, or expires).
    const now = await readInfo(deps.ctx, final.id);
    return now.completedAt !== undefined ? removePartials(deps, now) : now;
  }
  if (repair) {
    await adoptMissing(deps, final, infos as UploadInfo[], findings);
    // A partial whose bytes are all durable but whose completion a crash cut short is
    // completed by loading it (and its completion settles the final).
    for (const info of infos as UploadInfo[]) {
      if (adoptionOf(info)?.finalId === final.id && info.completedAt === undefined) {
        await deps.loadState(info.id, findings);
      }
    }
    return (await settleFinal(deps, final.id, findings)) ?? final;
  }
  const mine = (i: UploadInfo | undefined) => adoptionOf(i as UploadInfo)?.finalId === final.id;
  if (!infos.every((i) => mine(i) && i?.completedAt !== undefined)) return final;
  return completeDirect(deps, final, findings);
}

/** A crash cut adoption short: partials still without a final, and without bytes, join. */
async function adoptMissing(
  deps: FinalDeps,
  final: UploadInfo,
  infos: UploadInfo[],
  findings: Findings | undefined,
): Promise<void> {
  if (final.concat?.role !== 'final') return;
  const firstParts = firstPartsOf(
    final.concat.partials.map((p) => p.size),
    final.partSize,
  );
  for (const [i, info] of infos.entries()) {
    if (finalOfPartial(info) !== undefined || info.concat?.role !== 'partial') continue;
    const state = await deps.loadState(info.id, findings);
    if (state.progress.offset !== 0 || state.info.completedAt !== undefined) continue;
    await adopt(deps, final, state.info, firstParts[i]);
    infos[i] = {
      ...state.info,
      concat: {
        role: 'partial',
        adopted: {
          finalId: final.id,
          uploadId: multipartId(final),
          firstPart: firstParts[i] as number,
        },
      },
    };
  }
}

function firstPartsOf(sizes: readonly number[], partSize: number): number[] {
  let next = 1;
  return sizes.map((size) => {
    const first = next;
    next += partCount(size, partSize);
    return first;
  });
}

/** Every partial is complete: CompleteMultipartUpload of the final, then the partials go. */
async function completeDirect(
  deps: FinalDeps,
  final: UploadInfo,
  findings: Findings | undefined,
): Promise<UploadInfo> {
  const { ctx } = deps;
  const size = final.size ?? 0;
  const parts = await deps.parts.list(final);
  let done: UploadInfo;
  try {
    if (parts === 'gone') throw Object.assign(new Error('NoSuchUpload'), { name: 'NoSuchUpload' });
    done = await deps.finish(final, { ...emptyProgress(), offset: size, parts });
  } catch (err) {
    if (!isS3NotFound(err)) throw err;
    // Completed already (a racing completer, or a crash before the info said so).
    if ((await objectLength(deps.ctx, final)) !== size) throw err;
    done = { ...final, completedAt: new Date().toISOString() };
    await writeInfo(ctx, done);
  }
  if (findings) findings.finishedFinal = final.id;
  ctx.log.debug({ id: final.id }, 'direct final completed');
  return removePartials(deps, done);
}
