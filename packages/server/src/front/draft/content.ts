// The content of a creation or an append, sent as one tus PATCH (and, when a completing
// request told no length, a second, empty one declaring it). Acknowledged means in S3:
// the tus PATCH answers only once the store made its bytes durable (the same path as
// tus mode), and the offset answered is the one it reports.

import { parseSfInteger } from './fields.js';
import { type DraftDeps, failureOf, look, tusAppendFields, tusRequest } from './internal.js';
import {
  completedUpload,
  inconsistentLength,
  mismatchingOffset,
  type Problem,
  problemResponse,
} from './problem.js';
import type { DraftVersion } from './version.js';

export interface ContentPlan {
  /** The upload's URL. */
  url: string;
  offset: number;
  /** The request's Upload-Complete. */
  complete: boolean;
  /** The length after this request, when known (length.ts). */
  length?: number;
  /** Whether the upload recorded `length` already (else the PATCH declares it). */
  recorded: boolean;
  /** The request's Content-Length (undefined: chunked). */
  contentLength?: number;
}

export type ContentResult = { failure: Response } | { offset: number; complete: boolean };

export async function sendContent(
  deps: DraftDeps,
  version: DraftVersion,
  request: Request,
  plan: ContentPlan,
): Promise<ContentResult> {
  const fields = tusAppendFields(plan.offset, {
    contentLength: plan.contentLength,
    length: plan.recorded ? undefined : plan.length,
    reprDigest: request.headers.get('repr-digest'),
  });
  const patch = tusRequest(request, 'PATCH', plan.url, fields, request.body);
  const answer = await deps.tus(patch, deps.body);
  if (!answer.ok) return { failure: await appendFailure(deps, version, request, plan, answer) };
  const offset = parseSfInteger(answer.headers.get('upload-offset')) ?? plan.offset;
  const whole =
    plan.contentLength !== undefined
      ? offset - plan.offset === plan.contentLength
      : deps.bodyComplete?.() === true;
  let length = plan.length;
  if (plan.complete && whole && length === undefined) {
    // A chunked completing request: its length is where its content ended.
    const declare = tusRequest(
      request,
      'PATCH',
      plan.url,
      tusAppendFields(offset, { length: offset, contentLength: 0 }),
    );
    const declared = await deps.tus(declare);
    if (!declared.ok) return { failure: await failureOf(declared, 'PATCH') };
    length = offset;
  }
  const complete = length !== undefined && offset === length;
  if (plan.complete && whole && !complete) {
    const short = inconsistentLength(`the content ended at ${offset}, before the length ${length}`);
    return { failure: problemResponse(version, withOffset(short, offset)) };
  }
  return { offset, complete };
}

function withOffset(problem: Problem, offset: number): Problem {
  return { ...problem, headers: { ...problem.headers, 'Upload-Offset': String(offset) } };
}

/**
 * A refused tus PATCH in the draft's terms: @tus/server's 409 (offset) and 413 (past the
 * length) become the problem the upload's state explains; anything else keeps its status
 * and reason.
 */
async function appendFailure(
  deps: DraftDeps,
  version: DraftVersion,
  request: Request,
  plan: ContentPlan,
  answer: Response,
): Promise<Response> {
  if (answer.status !== 409 && answer.status !== 413) return failureOf(answer, 'PATCH');
  const state = await look(deps, request, plan.url);
  if (state instanceof Response) return failureOf(answer, 'PATCH');
  await answer.body?.cancel();
  if (state.complete) return problemResponse(version, completedUpload(version));
  if (answer.status === 409) {
    return problemResponse(version, mismatchingOffset(state.offset, plan.offset));
  }
  const past = inconsistentLength(
    `the content passes the upload's length ${state.length ?? 'limit'}`,
  );
  return problemResponse(version, withOffset(past, state.offset));
}
