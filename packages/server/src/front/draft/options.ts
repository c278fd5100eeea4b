// OPTIONS from a draft client: tus's answer (unchanged for tus clients, who send no
// interop version) plus Accept-Patch naming application/partial-upload and the limits a
// new upload gets.
import { PARTIAL_UPLOAD_TYPE } from './append.js';
import { parseSfInteger } from './fields.js';
import type { DraftDeps } from './internal.js';
import { uploadLimit } from './limits.js';
import type { DraftVersion } from './version.js';

export async function options(
  deps: DraftDeps,
  version: DraftVersion,
  request: Request,
): Promise<Response> {
  const answer = await deps.tus(request);
  if (!answer.ok) return answer;
  const headers = new Headers(answer.headers);
  headers.set('Accept-Patch', PARTIAL_UPLOAD_TYPE);
  const now = deps.now?.() ?? Date.now();
  const limit = uploadLimit(version, {
    maxSize: deps.maxSize,
    partSize: parseSfInteger(answer.headers.get('tus-s3-part-size')),
    expiresAt: deps.expiration > 0 ? now + deps.expiration : undefined,
    now,
  });
  // -05: a server without limits says min-size=0 rather than nothing.
  if (version.limits) headers.set('Upload-Limit', limit ?? 'min-size=0');
  return new Response(answer.body, { status: answer.status, headers });
}
