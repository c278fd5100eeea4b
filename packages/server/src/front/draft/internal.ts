// How a draft request reaches the store: as tus 1.0 requests served by the same path as
// tus mode's (front/handler.ts serve(): @tus/server, its locks, the request context, the
// owner checks), so every S3 guarantee of tus mode holds for the draft unchanged. This
// module builds those requests and reads their answers.
import type { DirectBody } from '../../body/direct-body.js';
import { TUS_MEDIA_TYPE, TUS_VERSION } from '../request-checks.js';
import { parseSfInteger } from './fields.js';
import { expiresAtOf } from './limits.js';

/**
 * Serves one tus request for the draft request's principal. `announcedLength`: a length the
 * draft request told without completing the upload, which the store records as the upload's
 * maximum while its tus length stays deferred (s3/announced-length.ts).
 */
export type TusCall = (
  request: Request,
  body?: DirectBody,
  announcedLength?: number,
) => Promise<Response>;

/** Sends an informational (1xx) response ahead of the final one, where the transport can. */
export type InterimWriter = (
  status: number,
  reason: string,
  headers: Record<string, string>,
) => void;

/** What the draft layer needs from the front and from the connection. */
export interface DraftDeps {
  tus: TusCall;
  /** The body the store reads itself (body/direct-body.ts), for the one request that carries it. */
  body?: DirectBody;
  /** Absent when the transport cannot send a 1xx (Fetch API, HTTP/1.0). */
  interim?: InterimWriter;
  /** Whether the request's body arrived whole, for a body without Content-Length. */
  bodyComplete?: () => boolean;
  /** Largest upload accepted (bytes; 0 or absent: none). */
  maxSize?: number;
  /** Lifetime of an unfinished upload (ms; 0: none). */
  expiration: number;
  now?: () => number;
}

/** Header fields of the draft request that tus requests must not inherit. */
const DRAFT_FIELDS = [
  'upload-complete',
  'upload-draft-interop-version',
  'upload-offset',
  'upload-length',
  'upload-metadata',
  'upload-defer-length',
  'upload-concat',
  'upload-checksum',
  'repr-digest',
  'content-type',
  'content-length',
  'content-disposition',
  'transfer-encoding',
];

/**
 * A tus request to `url` carrying the draft request's other fields (Host, forwarding,
 * Authorization, X-Request-Id) and `set`; `body` only for the one that sends the content.
 */
export function tusRequest(
  original: Request,
  method: string,
  url: string,
  set: Record<string, string | undefined>,
  body?: ReadableStream<Uint8Array> | null,
): Request {
  const headers = new Headers(original.headers);
  for (const name of DRAFT_FIELDS) headers.delete(name);
  headers.set('Tus-Resumable', TUS_VERSION);
  for (const [name, value] of Object.entries(set))
    if (value !== undefined) headers.set(name, value);
  const init: RequestInit & { duplex?: 'half' } = { method, headers };
  if (body) {
    init.body = body;
    init.duplex = 'half';
  }
  return new Request(url, init);
}

/** The fields of a tus PATCH appending at `offset`. */
export function tusAppendFields(
  offset: number,
  fields: { contentLength?: number; length?: number; reprDigest?: string | null },
): Record<string, string | undefined> {
  return {
    'Content-Type': TUS_MEDIA_TYPE,
    'Upload-Offset': String(offset),
    'Content-Length': fields.contentLength?.toString(),
    'Upload-Length': fields.length?.toString(),
    'Repr-Digest': fields.reprDigest ?? undefined,
  };
}

/** An upload's state as a tus HEAD (or creation) answers it. */
export interface UploadLook {
  offset: number;
  /** The tus length: undefined while deferred, set once a request completed the upload. */
  length?: number;
  /** The length announced while the tus length is deferred. */
  announced?: number;
  /** The upload reached its tus length: only a completing request declares it. */
  complete: boolean;
  partSize?: number;
  expiresAt?: number;
}

export function lookOf(headers: Headers): UploadLook {
  const offset = parseSfInteger(headers.get('upload-offset')) ?? 0;
  const length = parseSfInteger(headers.get('upload-length'));
  return {
    offset,
    length,
    announced: parseSfInteger(headers.get('tus-s3-announced-length')),
    complete: length !== undefined && offset === length,
    partSize: parseSfInteger(headers.get('tus-s3-part-size')),
    expiresAt: expiresAtOf(headers.get('upload-expires')),
  };
}

/** The upload at `url` as a tus HEAD sees it, or the failure it answered. */
export async function look(
  deps: DraftDeps,
  original: Request,
  url: string,
): Promise<UploadLook | Response> {
  const answer = await deps.tus(tusRequest(original, 'HEAD', url, {}));
  return answer.ok ? lookOf(answer.headers) : answer;
}

/** The upload's length as the draft knows it: declared, or announced. */
export function draftLengthOf(state: UploadLook): number | undefined {
  return state.length ?? state.announced;
}

/** The URL tus requests use for an upload a Location names, on the original's origin. */
export function uploadUrl(location: string, original: string): string {
  return new URL(new URL(location, original).pathname, original).toString();
}

/** Headers a tus failure keeps in the draft's answer. */
const KEPT_ON_FAILURE = ['content-type', 'retry-after', 'www-authenticate'];

/** A tus failure as the draft answers it: its status and one-line reason, tus fields dropped. */
export async function failureOf(answer: Response, method: string): Promise<Response> {
  const headers = new Headers();
  for (const name of KEPT_ON_FAILURE) {
    const value = answer.headers.get(name);
    if (value !== null) headers.set(name, value);
  }
  const body = method === 'HEAD' ? null : await answer.text();
  if (body === null) await answer.body?.cancel();
  return new Response(body, { status: answer.status, headers });
}
