// The content of a creation or an append, sent as one tus PATCH (and, when a completing
// request told no length, a second, empty one declaring it). Acknowledged means in S3:
// the tus PATCH answers only once the store made its bytes durable (the same path as
// tus mode), and the offset answered is the one it reports. Only a completing request
// declares the tus length (where the store completes the upload): before it, a length
// told is announced to the store, which keeps the upload open at it.

import { parseSfInteger } from './fields.js';
import {
  type DraftDeps,
  draftLengthOf,
  failureOf,
  look,
  tusAppendFields,
  tusRequest,
} from './internal.js';
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
  /** The length after this request as the draft knows it, declared or announced (length.ts). */
  length?: number;
  /** The upload's tus length, when a completing request declared it already. */
  tusLength?: number;
  /** A length told without completing, for the store to record (s3/announced-length.ts). */
  announce?: number;
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
  const declares = plan.complete && plan.tusLength === undefined ? plan.length : undefined;
  const fields = tusAppendFields(plan.offset, {
    contentLength: plan.contentLength,
    length: declares,
    reprDigest: request.headers.get('repr-digest'),
  });
  const patch = tusRequest(request, 'PATCH', plan.url, fields, request.body);
  const answer = await deps.tus(patch, deps.body, plan.announce);
  if (!answer.ok) return { failure: await appendFailure(deps, version, request, plan, answer) };
  const offset = parseSfInteger(answer.headers.get('upload-offset')) ?? plan.offset;
  const whole =
    plan.contentLength !== undefined
      ? offset - plan.offset === plan.contentLength
      : deps.bodyComplete?.() === true;
  let length = plan.tusLength ?? declares;
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
  if (state.complete) {
    return problemResponse(version, completedUpload(version, plan.contentLength === 0));
  }
  if (answer.status === 409) {
    return problemResponse(version, mismatchingOffset(state.offset, plan.offset));
  }
  const past = inconsistentLength(
    `the content passes the upload's length ${draftLengthOf(state) ?? 'limit'}`,
  );
  return problemResponse(version, withOffset(past, state.offset));
}
