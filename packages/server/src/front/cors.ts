// CORS for every answer, in one place: @tus/server's own handling echoes its first allowed
// origin to any other origin, never sends Vary: Origin, would pair `*` with credentials, and
// never sees the answers the front gives itself (401s, 400s, 503s at shutdown), which a
// browser cannot read without these headers. Pure: headers from a policy and a request.
import { HEADERS } from '@tus/utils';

/** Which origins may read answers, and whether with cookies / Authorization (credentials). */
export interface CorsPolicy {
  /** `'*'`: any origin (never with credentials); a list or a test: only these, echoed. */
  origins: '*' | readonly string[] | ((origin: string) => boolean);
  credentials: boolean;
}

export const OPEN_CORS: CorsPolicy = { origins: '*', credentials: false };

/** Request headers a browser may send beyond the tus ones. */
export const CORS_REQUEST_HEADERS = [
  'Authorization',
  'X-Request-Id',
  'Upload-Checksum',
  'Repr-Digest',
  'Upload-Instant',
  'Upload-Instant-Proof',
  'Upload-Draft-Interop-Version',
  'Upload-Complete',
];

/** Response headers a browser's script may read beyond the tus ones. */
export const CORS_EXPOSED_HEADERS = [
  'Upload-Checksum',
  'Repr-Digest',
  'Upload-Instant-Challenge',
  'Tus-S3-Part-Size',
  'Tus-Checksum-Algorithm',
  'X-Request-Id',
  'WWW-Authenticate',
  'Retry-After',
  // The IETF draft's (front/draft/); Upload-Offset, Upload-Length and Location are tus's too.
  'Upload-Complete',
  'Upload-Limit',
  'Accept-Patch',
];

const METHODS = 'POST, HEAD, PATCH, OPTIONS, GET, DELETE';
const MAX_AGE_SECONDS = '86400';

/** A policy from the CLI's or the app's settings; `*` with credentials is refused. */
export function corsPolicy(origins: CorsPolicy['origins'] = '*', credentials = false): CorsPolicy {
  if (typeof origins === 'function') return { origins, credentials };
  const list = origins === '*' ? '*' : origins.map((o) => o.trim()).filter((o) => o !== '');
  if (list !== '*' && list.includes('*')) {
    throw new Error('CORS origins: give `*` alone, or a list of origins');
  }
  if (list !== '*' && list.length === 0) throw new Error('CORS origins: the list is empty');
  if (credentials && list === '*') {
    throw new Error('CORS credentials need a list of origins: browsers refuse `*` with them');
  }
  return { origins: list, credentials };
}

/**
 * The CORS headers of one answer: a value to set, or undefined to remove (an origin not
 * allowed gets no Allow-Origin, so its browser keeps the answer from the page).
 */
export function corsHeaders(
  policy: CorsPolicy,
  origin: string | undefined,
  preflight: boolean,
): Record<string, string | undefined> {
  const { origins } = policy;
  const listed = origins !== '*';
  const allowed =
    origins === '*' ||
    (origin !== undefined &&
      (typeof origins === 'function' ? origins(origin) : origins.includes(origin)));
  const headers: Record<string, string | undefined> = {
    'Access-Control-Allow-Origin': allowed ? (listed ? origin : '*') : undefined,
    'Access-Control-Allow-Credentials': allowed && policy.credentials ? 'true' : undefined,
    'Access-Control-Expose-Headers': [...HEADERS, ...CORS_EXPOSED_HEADERS].join(', '),
  };
  // The answer differs by Origin: caches must not hand one origin's answer to another.
  if (listed) headers.Vary = 'Origin';
  if (preflight) {
    headers['Access-Control-Allow-Methods'] = METHODS;
    headers['Access-Control-Allow-Headers'] = [...HEADERS, ...CORS_REQUEST_HEADERS].join(', ');
    headers['Access-Control-Max-Age'] = MAX_AGE_SECONDS;
  }
  return headers;
}

/** Whether a request is a CORS preflight (an OPTIONS naming the method to come). */
export function isPreflight(method: string, requestMethod: string | null | undefined): boolean {
  return method === 'OPTIONS' && typeof requestMethod === 'string' && requestMethod !== '';
}

/** The policy's headers applied to `headers` (a Fetch API Headers). */
export function applyCors(
  headers: Headers,
  policy: CorsPolicy,
  origin: string | null,
  preflight: boolean,
): void {
  for (const [name, value] of Object.entries(corsHeaders(policy, origin ?? undefined, preflight))) {
    if (value === undefined) headers.delete(name);
    else headers.set(name, value);
  }
}
