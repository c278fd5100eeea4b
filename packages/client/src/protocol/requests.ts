/**
 * What each tus request carries (headers) and what its answer means (offsets, Location).
 * Pure apart from `onBeforeRequest`, which the caller's options may set.
 */
import { TusError } from '../errors.js';
import type { HttpRequest, HttpResponse, RequestBody } from '../http.js';
import type { RequestInfo, UploadOptions } from '../options.js';
import { INTEROP_HEADER, INTEROP_VERSION } from './ietf-draft.js';
import { encodeMetadata } from './metadata.js';

export const TUS_VERSION = '1.0.0';

type Headers = Record<string, string>;

/**
 * The request as sent: the options' headers, the protocol's version (Tus-Resumable, or the
 * draft's interop version), then `onBeforeRequest`'s say.
 */
export async function prepareRequest(
  o: Pick<UploadOptions, 'headers' | 'onBeforeRequest' | 'protocol'>,
  method: string,
  url: string,
  headers: Headers,
  body?: RequestBody,
): Promise<HttpRequest> {
  const info: RequestInfo = {
    method,
    url,
    headers: { ...o.headers, ...versionHeader(o.protocol), ...headers },
  };
  await o.onBeforeRequest?.(info);
  return { method: info.method, url: info.url, headers: info.headers, body };
}

function versionHeader(protocol: UploadOptions['protocol']): Headers {
  return protocol === 'ietf-draft'
    ? { [INTEROP_HEADER]: INTEROP_VERSION }
    : { 'Tus-Resumable': TUS_VERSION };
}

/** POST that creates an upload (the body, if any, adds Content-Type and checksum). */
export function creationHeaders(
  total: number | null,
  metadata: Record<string, string>,
  partial: boolean,
): Headers {
  const headers: Headers = {};
  if (total === null) headers['Upload-Defer-Length'] = '1';
  else headers['Upload-Length'] = String(total);
  addMetadata(headers, metadata);
  if (partial) headers['Upload-Concat'] = 'partial';
  return headers;
}

/** POST Upload-Concat: final;<partial URLs> (no body, no Upload-Length). */
export function finalHeaders(urls: string[], metadata: Record<string, string>): Headers {
  const headers: Headers = { 'Upload-Concat': `final;${urls.join(' ')}` };
  addMetadata(headers, metadata);
  return headers;
}

/** PATCH at `offset`; `declareLength` ends a deferred-length upload. */
export function patchHeaders(offset: number, declareLength: number | null): Headers {
  const headers: Headers = {
    'Upload-Offset': String(offset),
    'Content-Type': 'application/offset+octet-stream',
  };
  if (declareLength !== null) headers['Upload-Length'] = String(declareLength);
  return headers;
}

/** The instant-upload proof: a PATCH at offset 0 with no body (server README, step 3). */
export function proofHeaders(proof: string): Headers {
  return { ...patchHeaders(0, null), 'Upload-Instant-Proof': proof };
}

function addMetadata(headers: Headers, metadata: Record<string, string>): void {
  if (Object.keys(metadata).length > 0) headers['Upload-Metadata'] = encodeMetadata(metadata);
}

/** The created upload's absolute URL (Location, relative to the answering URL). */
export function createdUrl(endpoint: string, res: HttpResponse): string {
  const location = res.headers.get('Location');
  if (!location) {
    throw new TusError(`POST ${endpoint}: 201 without a Location header`, { kind: 'protocol' });
  }
  return new URL(location, res.url || endpoint).toString();
}

/** What a HEAD answer says: the server's offset, and its length when known. */
export function headState(
  url: string,
  res: HttpResponse,
  total: number | null,
): { offset: number; length: number | null } {
  const offset = parseOffset(res.headers.get('Upload-Offset'));
  if (offset === null) {
    throw new TusError(`HEAD ${url}: no valid Upload-Offset`, { kind: 'protocol', url });
  }
  const length = parseOffset(res.headers.get('Upload-Length'));
  if (length !== null && total !== null && length !== total) {
    throw new TusError(`HEAD ${url}: server has Upload-Length ${length}, source has ${total}`, {
      kind: 'protocol',
      url,
    });
  }
  return { offset, length };
}

/** The server's offset after a PATCH of `size` bytes at `offset` (it may keep fewer). */
export function patchedOffset(url: string, res: HttpResponse, offset: number, size: number) {
  const next = parseOffset(res.headers.get('Upload-Offset'));
  if (next === null || next < offset || next > offset + size) {
    throw new TusError(
      `PATCH ${url}: invalid Upload-Offset ${res.headers.get('Upload-Offset')} (sent ${offset}+${size})`,
      { kind: 'protocol', url },
    );
  }
  return next;
}

export function parseOffset(v: string | null): number | null {
  if (v === null || !/^\d+$/.test(v.trim())) return null;
  const n = Number(v.trim());
  return Number.isSafeInteger(n) ? n : null;
}
