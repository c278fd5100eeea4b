// Upload append: a PATCH to the upload with Upload-Offset and Upload-Complete. What can
// be checked from the upload's state is checked before any byte is read when the request
// completes the upload, tells a length or carries nothing; a plain append goes straight to
// the store, and only a refusal costs a look at the upload (content.ts).
import { sendContent } from './content.js';
import {
  contentLengthOfRequest,
  formatSfBoolean,
  parseSfBoolean,
  parseSfInteger,
} from './fields.js';
import { type DraftDeps, draftLengthOf, failureOf, look, type UploadLook } from './internal.js';
import { reconcileLength } from './length.js';
import {
  completedUpload,
  inconsistentLength,
  mismatchingOffset,
  plainRefusal,
  problemResponse,
} from './problem.js';
import type { DraftVersion } from './version.js';

export const PARTIAL_UPLOAD_TYPE = 'application/partial-upload';

/** Why the request cannot be an append (one line), or undefined. */
export function appendProblem(version: DraftVersion, headers: Headers): string | undefined {
  const type = headers.get('content-type')?.split(';')[0]?.trim().toLowerCase();
  if (version.partialUploadType && type !== PARTIAL_UPLOAD_TYPE) {
    return `a draft append needs Content-Type: ${PARTIAL_UPLOAD_TYPE}`;
  }
  if (parseSfInteger(headers.get('upload-offset')) === undefined) {
    return 'a draft append needs Upload-Offset (a non-negative integer)';
  }
  if (parseSfBoolean(headers.get('upload-complete')) === undefined) {
    return 'a draft append needs Upload-Complete: ?0 or ?1';
  }
  return undefined;
}

export async function append(
  deps: DraftDeps,
  version: DraftVersion,
  request: Request,
): Promise<Response> {
  const h = request.headers;
  const problem = appendProblem(version, h);
  if (problem)
    return plainRefusal(
      problem.startsWith('a draft append needs Content-Type') ? 415 : 400,
      problem,
    );
  const offset = parseSfInteger(h.get('upload-offset')) as number;
  const complete = parseSfBoolean(h.get('upload-complete')) as boolean;
  const declared = parseSfInteger(h.get('upload-length'));
  const contentLength = contentLengthOfRequest(h, request.body !== null);
  if (declared !== undefined && deps.maxSize && declared > deps.maxSize) {
    return plainRefusal(413, 'Upload-Length exceeds the maximum size');
  }
  let state: UploadLook | undefined;
  if (complete || declared !== undefined || contentLength === 0) {
    const seen = await look(deps, request, request.url);
    if (seen instanceof Response) return failureOf(seen, 'PATCH');
    if (seen.complete)
      return problemResponse(version, completedUpload(version, contentLength === 0));
    if (seen.offset !== offset)
      return problemResponse(version, mismatchingOffset(seen.offset, offset));
    state = seen;
  }
  const recorded = state && draftLengthOf(state);
  const told = reconcileLength({
    recorded,
    declared,
    offset,
    complete,
    contentLength,
  });
  if ('inconsistent' in told)
    return problemResponse(version, inconsistentLength(told.inconsistent));
  const plan = {
    url: request.url,
    offset,
    complete,
    length: told.length,
    tusLength: state?.length,
    announce: complete || recorded !== undefined ? undefined : told.length,
    contentLength,
  };
  const sent = await sendContent(deps, version, request, plan);
  return 'failure' in sent ? sent.failure : appended(version, sent);
}

function appended(version: DraftVersion, result: { offset: number; complete: boolean }): Response {
  return new Response(null, {
    status: version.appendStatus,
    headers: {
      'Upload-Offset': String(result.offset),
      'Upload-Complete': formatSfBoolean(result.complete),
    },
  });
}
