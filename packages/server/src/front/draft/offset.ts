// Offset retrieval: a HEAD on the upload, answered from a tus HEAD (the offset the store
// derives from S3, as in tus mode) in the draft's fields, never cached.
import { formatSfBoolean } from './fields.js';
import { type DraftDeps, draftLengthOf, failureOf, lookOf, tusRequest } from './internal.js';
import { uploadLimit } from './limits.js';
import { plainRefusal } from './problem.js';
import type { DraftVersion } from './version.js';

/** Fields -03/-05 forbid on HEAD and DELETE (400). */
export function forbiddenFieldOf(
  version: DraftVersion,
  headers: Headers,
  names: readonly string[],
): string | undefined {
  if (!version.strictHeadAndDelete) return undefined;
  return names.find((name) => headers.has(name));
}

export async function offset(
  deps: DraftDeps,
  version: DraftVersion,
  request: Request,
): Promise<Response> {
  const forbidden = forbiddenFieldOf(version, request.headers, [
    'upload-offset',
    'upload-complete',
    'upload-length',
  ]);
  if (forbidden) return plainRefusal(400, `an offset retrieval takes no ${forbidden}`);
  const answer = await deps.tus(tusRequest(request, 'HEAD', request.url, {}));
  if (!answer.ok) return failureOf(answer, 'HEAD');
  const state = lookOf(answer.headers);
  const headers = new Headers({
    'Upload-Offset': String(state.offset),
    'Upload-Complete': formatSfBoolean(state.complete),
    'Cache-Control': 'no-store',
  });
  const length = draftLengthOf(state);
  if (length !== undefined) headers.set('Upload-Length', String(length));
  // -11: an offset retrieval MUST indicate the limits, a completed upload's too. The
  // lifetime is not among them: a tus HEAD answers no Upload-Expires, and a lifetime left
  // out is none the client must keep to (it was told at creation).
  const limit = uploadLimit(version, {
    maxSize: deps.maxSize,
    partSize: state.partSize,
    now: deps.now?.() ?? Date.now(),
  });
  if (limit !== undefined) headers.set('Upload-Limit', limit);
  for (const name of ['repr-digest', 'tus-s3-part-size']) {
    const value = answer.headers.get(name);
    if (value !== null) headers.set(name, value);
  }
  return new Response(null, { status: 204, headers });
}
