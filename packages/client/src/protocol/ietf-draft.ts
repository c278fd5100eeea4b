/**
 * The IETF resumable-upload draft's request shapes (draft-ietf-httpbis-resumable-upload,
 * interop version 8: drafts -09 to -11), for `protocol: 'ietf-draft'`. Pure. Creation is
 * "careful": an empty POST with Upload-Complete: ?0 (its Location comes in the final
 * answer, which fetch can read; fetch shows no 104), then appends of
 * application/partial-upload, the last with Upload-Complete: ?1.
 */
import { TusError } from '../errors.js';
import type { HttpResponse } from '../http.js';
import { encodeMetadata } from './metadata.js';

export const INTEROP_HEADER = 'Upload-Draft-Interop-Version';
export const INTEROP_VERSION = '8';
export const PARTIAL_UPLOAD_TYPE = 'application/partial-upload';

export type Protocol = 'tus' | 'ietf-draft';

type Headers = Record<string, string>;

/**
 * The creation POST: no content. The representation's type and name go where the draft
 * puts them (Content-Type, Content-Disposition); the tus metadata goes too, for servers
 * (ours) that keep every key.
 */
export function draftCreationHeaders(
  total: number | null,
  metadata: Record<string, string>,
): Headers {
  const headers: Headers = { 'Upload-Complete': '?0' };
  if (total !== null) headers['Upload-Length'] = String(total);
  const { filetype, filename } = metadata;
  if (filetype) headers['Content-Type'] = filetype;
  if (filename) headers['Content-Disposition'] = contentDisposition(filename);
  if (Object.keys(metadata).length > 0) headers['Upload-Metadata'] = encodeMetadata(metadata);
  return headers;
}

/** RFC 6266 `inline` with the name in UTF-8 (filename*), and an ASCII stand-in. */
export function contentDisposition(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  const encoded = encodeURIComponent(name).replace(
    /['()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `inline; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}

/** An append at `offset`; `last`: it ends the representation. */
export function draftAppendHeaders(offset: number, last: boolean): Headers {
  return {
    'Upload-Offset': String(offset),
    'Upload-Complete': last ? '?1' : '?0',
    'Content-Type': PARTIAL_UPLOAD_TYPE,
  };
}

/**
 * The offset after an append of `size` bytes at `offset`: the answer's Upload-Offset when
 * it has one (interop 8 does not require it), else all of them (a 2xx appended the content).
 */
export function draftAppendedOffset(
  url: string,
  res: HttpResponse,
  offset: number,
  size: number,
): number {
  const told = res.headers.get('Upload-Offset');
  if (told === null) return offset + size;
  const next = /^\s*\d{1,15}\s*$/.test(told) ? Number(told) : null;
  if (next === null || next < offset || next > offset + size) {
    throw new TusError(`PATCH ${url}: invalid Upload-Offset ${told} (sent ${offset}+${size})`, {
      kind: 'protocol',
      url,
    });
  }
  return next;
}

/** Whether a HEAD answer says the upload is complete. */
export function draftComplete(res: HttpResponse): boolean {
  return res.headers.get('Upload-Complete')?.trim() === '?1';
}
