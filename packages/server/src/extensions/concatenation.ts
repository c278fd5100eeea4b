// tus concatenation extension, protocol side (pure): the Upload-Concat header in and out,
// and which upload a partial URL names. Building the final object is the store's job
// (capabilities.ts: ConcatenationStore; s3/concat/).
import { TusError } from '../errors.js';

/** What a creation request asks for. */
export type ConcatRequest = { role: 'partial' } | { role: 'final'; partials: string[] };

/**
 * Most partials one final may name by default. A final takes every partial's lock and
 * reads every partial's info and parts before it answers, so the count bounds the work
 * one request can ask for; parallel-upload clients split a file into a handful of
 * partials (tens at most), and 256 of them already fill most of node's 16 KiB header limit.
 */
export const DEFAULT_MAX_CONCAT_PARTIALS = 256;

/**
 * Parses `Upload-Concat: partial` or `Upload-Concat: final;<url> <url>...` and resolves each
 * URL (absolute or relative to `requestUrl`) to an upload id under `basePath`; a final
 * naming more than `maxPartials` is refused.
 */
export function parseUploadConcat(
  value: string,
  requestUrl: string,
  basePath: string,
  maxPartials = DEFAULT_MAX_CONCAT_PARTIALS,
): ConcatRequest {
  const v = value.trim();
  if (v === 'partial') return { role: 'partial' };
  if (!v.startsWith('final;')) {
    throw new TusError(400, 'Upload-Concat must be "partial" or "final;<url> <url>..."');
  }
  const urls = v
    .slice('final;'.length)
    .split(' ')
    .map((u) => u.trim())
    .filter((u) => u !== '');
  if (urls.length === 0) throw new TusError(400, 'Upload-Concat: final lists no partial uploads');
  if (urls.length > maxPartials) {
    throw new TusError(
      400,
      `Upload-Concat: final names ${urls.length} partial uploads; this server takes at most ${maxPartials}`,
    );
  }
  const partials = urls.map((u) => uploadIdFromUrl(u, requestUrl, basePath));
  const seen = new Set<string>();
  for (const id of partials) {
    // A partial is consumed (removed) by its final: naming it twice cannot be honoured.
    if (seen.has(id)) throw new TusError(400, `Upload-Concat lists partial upload ${id} twice`);
    seen.add(id);
  }
  return { role: 'final', partials };
}

/** The id in `<basePath>/<id>`, or TusError 400 when `url` is not an upload of this server. */
export function uploadIdFromUrl(url: string, requestUrl: string, basePath: string): string {
  let path: string;
  try {
    path = new URL(url, requestUrl).pathname;
  } catch {
    throw new TusError(400, `Upload-Concat: "${url}" is not a URL`);
  }
  const base = basePath.replace(/\/+$/, '');
  const rest = path.startsWith(`${base}/`) ? path.slice(base.length + 1).replace(/\/$/, '') : '';
  let id = '';
  try {
    id = decodeURIComponent(rest);
  } catch {
    // Falls through to the refusal below.
  }
  if (id === '' || id.includes('/')) {
    throw new TusError(400, `Upload-Concat: "${url}" is not an upload URL of this server`);
  }
  return id;
}

/** The Upload-Concat value HEAD and POST answer for an upload. */
export function uploadConcatHeader(concat: ConcatRequest, basePath: string): string {
  if (concat.role === 'partial') return 'partial';
  const base = basePath.replace(/\/+$/, '');
  return `final;${concat.partials.map((id) => `${base}/${encodeURIComponent(id)}`).join(' ')}`;
}
