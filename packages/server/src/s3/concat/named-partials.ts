// The partial uploads a final POST names, read once for the whole request, and whether the
// POST repeats the creation of a direct or waiting final that already holds them.
//
// A repeat happens when the 201 of a final POST never reached the client: a mobile connection cut
// after the server answered, or a server killed after it began adopting the partials
// (s3/concat/direct-final.ts). The client sends the same POST again. Its partials now belong to
// that final, and a refusal (400, "belongs to final upload ...") would strand an upload that lost
// nothing: the retry gets the final its first attempt made instead.
import { mayUse, type Principal } from '../../auth/principal.js';
import { ERRORS, TusError } from '../../errors.js';
import { finalOfPartial, isUnfinishedGroup, type UploadInfo } from '../info.js';
import { findInfo } from '../info-io.js';
import type { UploadState } from '../state/upload-state.js';
import type { FinalDeps, Findings } from './deps.js';

export interface NamedPartials {
  /** Each named partial, in the order named. */
  states: UploadState[];
  /** The direct final these partials form already, when the POST repeats its creation. */
  repeats?: UploadInfo;
}

/**
 * Reads the partials `ids`: 404 for a missing one or one `principal` may not use (the
 * same 404), 400 for one that is not a partial or belongs to another final (any final,
 * unless the POST repeats that final's creation). Nothing is written before this passes.
 */
export async function namedPartials(
  deps: FinalDeps,
  ids: readonly string[],
  findings?: Findings,
  principal?: Principal,
): Promise<NamedPartials> {
  const states = await Promise.all(ids.map((id) => loadPartial(deps, id, findings, principal)));
  const infos = states.map((s) => s.info);
  const candidate = adoptingFinal(infos);
  if (candidate !== undefined) {
    const final = await findInfo(deps.ctx, candidate);
    if (final !== undefined && isRepeatOf(final, ids)) return { states, repeats: final };
  }
  for (const info of infos) {
    // One final per partial: a final consumes its partials (they go once it is complete).
    const finalId = finalOfPartial(info);
    if (finalId !== undefined) {
      throw new TusError(400, `partial upload ${info.id} belongs to final upload ${finalId}`);
    }
  }
  return { states };
}

/**
 * The one final that adopted or awaits some of these partials when no other final has any
 * of them (the rest being free: a crash cut that final's creation short), else undefined.
 */
export function adoptingFinal(partials: readonly UploadInfo[]): string | undefined {
  const finals = new Set<string>();
  for (const p of partials) {
    const finalId = finalOfPartial(p);
    if (finalId !== undefined) finals.add(finalId);
  }
  return finals.size === 1 ? [...finals][0] : undefined;
}

/** Whether `final` is an unfinished direct or waiting final of exactly `ids`, in order. */
export function isRepeatOf(final: UploadInfo, ids: readonly string[]): boolean {
  if (!isUnfinishedGroup(final) || final.concat?.role !== 'final') return false;
  const { partials } = final.concat;
  return partials.length === ids.length && partials.every((p, i) => p.id === ids[i]);
}

async function loadPartial(
  deps: FinalDeps,
  id: string,
  findings: Findings | undefined,
  principal: Principal | undefined,
): Promise<UploadState> {
  const missing = () => new TusError(404, `partial upload ${id} not found`);
  let state: UploadState;
  try {
    // loadState also completes a partial whose bytes are all durable.
    state = await deps.loadState(id, findings);
  } catch (err) {
    if (err === ERRORS.FILE_NOT_FOUND) throw missing();
    throw err;
  }
  // Checked before the role: another owner's upload must not tell what it is.
  if (!mayUse(state.info, principal)) throw missing();
  if (state.info.concat?.role !== 'partial') {
    throw new TusError(400, `upload ${id} was not created with Upload-Concat: partial`);
  }
  return state;
}
