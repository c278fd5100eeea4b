// Upload creation: a POST with Upload-Complete. The upload is created first (a tus POST,
// no content), announced by a 104 (Upload Resumption Supported) with its Location, and
// only then is the content appended: a client cut off mid-body can resume from what the
// 104 told it.
import { sendContent } from './content.js';
import {
  contentLengthOfRequest,
  formatSfBoolean,
  parseSfBoolean,
  parseSfInteger,
} from './fields.js';
import { type DraftDeps, failureOf, lookOf, tusRequest, uploadUrl } from './internal.js';
import { reconcileLength } from './length.js';
import { uploadLimit } from './limits.js';
import { tusMetadataOf } from './metadata.js';
import { inconsistentLength, plainRefusal, problemResponse } from './problem.js';
import { type DraftVersion, INTEROP_HEADER } from './version.js';

export async function create(
  deps: DraftDeps,
  version: DraftVersion,
  request: Request,
): Promise<Response> {
  const h = request.headers;
  const complete = parseSfBoolean(h.get('upload-complete'));
  if (complete === undefined) {
    return plainRefusal(400, 'a draft creation needs Upload-Complete: ?0 or ?1');
  }
  if (h.has('upload-offset')) return plainRefusal(400, 'a draft creation takes no Upload-Offset');
  const contentLength = contentLengthOfRequest(h, request.body !== null);
  const told = reconcileLength({
    declared: parseSfInteger(h.get('upload-length')),
    offset: 0,
    complete,
    contentLength,
  });
  if ('inconsistent' in told)
    return problemResponse(version, inconsistentLength(told.inconsistent));
  const { length } = told;
  // Only a completing creation gives the tus length (the store completes the upload on
  // reaching it); one that keeps the upload open announces it, the tus length deferred.
  const tusLength = complete ? length : undefined;
  const created = await deps.tus(
    tusRequest(request, 'POST', request.url, {
      'Upload-Length': tusLength?.toString(),
      'Upload-Defer-Length': tusLength === undefined ? '1' : undefined,
      'Upload-Metadata': tusMetadataOf((name) => h.get(name)),
      'Repr-Digest': h.get('repr-digest') ?? undefined,
    }),
    undefined,
    complete ? undefined : length,
  );
  const location = created.headers.get('location');
  if (created.status !== 201 || location === null) return failureOf(created, 'POST');
  const state = lookOf(created.headers);
  const now = deps.now?.() ?? Date.now();
  const limit = uploadLimit(version, {
    maxSize: deps.maxSize,
    partSize: state.partSize,
    expiresAt: state.expiresAt,
    now,
  });
  const announced: Record<string, string> = {
    Location: location,
    [INTEROP_HEADER]: String(version.interop),
  };
  if (limit !== undefined) announced['Upload-Limit'] = limit;
  deps.interim?.(104, 'Upload Resumption Supported', announced);
  let result = { offset: 0, complete: tusLength === 0 };
  if (contentLength !== 0) {
    const plan = {
      url: uploadUrl(location, request.url),
      offset: 0,
      complete,
      length,
      tusLength,
      contentLength,
    };
    const sent = await sendContent(deps, version, request, plan);
    if ('failure' in sent) {
      sent.failure.headers.set('Location', location);
      return sent.failure;
    }
    result = sent;
  }
  const headers = new Headers({
    ...announced,
    'Upload-Offset': String(result.offset),
    'Upload-Complete': formatSfBoolean(result.complete),
  });
  headers.delete(INTEROP_HEADER);
  const partSize = created.headers.get('tus-s3-part-size');
  if (partSize !== null) headers.set('Tus-S3-Part-Size', partSize);
  return new Response(null, { status: 201, headers });
}
