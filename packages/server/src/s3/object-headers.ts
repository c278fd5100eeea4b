// S3 object headers derived from tus metadata: filetype -> Content-Type,
// filename -> Content-Disposition (RFC 6266 / RFC 8187, so any UTF-8 name survives).
//
// The uploader chooses filetype, and a bucket is often served from an origin the app
// trusts (its CDN, presigned links): an object of a type a browser renders as a document
// or runs (HTML, SVG, XML, JavaScript, ...) would run the uploader's script there. So only
// passive types (pictures, sound, video, plain text) are served inline; every other type
// keeps its Content-Type but is stored `attachment`, which browsers download instead of
// rendering. An allow list rather than a list of dangerous types: browsers render more
// types as documents than any such list names (any +xml type, multipart/x-mixed-replace,
// MHTML). PDF is not passive here: it is a document with its own scripting, forms and
// links, rendered by whatever viewer or plugin the browser has; an app that previews its
// PDFs allows them with inlineTypes.

const MIME =
  /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}(\s*;\s*[A-Za-z0-9!#$&^_.+-]+=("[^"\\\r\n]*"|[A-Za-z0-9!#$&^_.+-]+))*$/;

/** Types served inline by default: a browser shows them, it never runs or renders them as a page. */
export const PASSIVE_TYPES: readonly string[] = [
  'image/png',
  'image/jpeg',
  'image/gif',
  'image/webp',
  'image/avif',
  'image/apng',
  'image/bmp',
  'image/x-icon',
  'image/vnd.microsoft.icon',
  'audio/*',
  'video/*',
  'text/plain',
];

export function contentTypeOf(metadata?: Record<string, string | null>): string | undefined {
  const type = metadata?.filetype ?? metadata?.contentType ?? undefined;
  return type && MIME.test(type) ? type : undefined;
}

/** `type/subtype` in lower case, parameters dropped. */
export function essenceOf(type: string): string {
  return (type.split(';')[0] ?? '').trim().toLowerCase();
}

function matches(essence: string, pattern: string): boolean {
  const p = pattern.trim().toLowerCase();
  if (p === '*') return true;
  if (p.endsWith('/*')) return essence.startsWith(p.slice(0, -1));
  return essence === p;
}

/**
 * Whether an object of `type` may be served inline: a passive type, or one the app
 * allowed in `inlineTypes` (`type/subtype`, `type/*`, or `*`). No type (S3 then says
 * binary/octet-stream) is not inline. An XML-based type (`+xml`) is never passive, even
 * under audio/* or video/*: it is a document a browser renders.
 */
export function servedInline(
  type: string | undefined,
  inlineTypes: readonly string[] = [],
): boolean {
  if (type === undefined) return false;
  const essence = essenceOf(type);
  if (inlineTypes.some((p) => matches(essence, p))) return true;
  return !essence.endsWith('+xml') && PASSIVE_TYPES.some((p) => matches(essence, p));
}

// RFC 8187 attr-char: ALPHA / DIGIT / "!" / "#" / "$" / "&" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~"
function encodeRfc8187(value: string): string {
  return Array.from(new TextEncoder().encode(value), (b) => {
    const c = String.fromCharCode(b);
    return /[A-Za-z0-9!#$&+\-.^_`|~]/.test(c)
      ? c
      : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }).join('');
}

function filenameParams(metadata?: Record<string, string | null>): string | undefined {
  const name = metadata?.filename ?? metadata?.name ?? undefined;
  if (!name) return undefined;
  // Path parts a browser would reject anyway; keep only the base name.
  const base = name.split(/[/\\]/).pop() ?? '';
  if (!base) return undefined;
  const ascii = base.replace(/[^\x20-\x7e]|["\\%]/g, '_');
  return `filename="${ascii}"; filename*=UTF-8''${encodeRfc8187(base)}`;
}

export function contentDispositionOf(
  metadata?: Record<string, string | null>,
  inlineTypes: readonly string[] = [],
): string | undefined {
  const filename = filenameParams(metadata);
  if (servedInline(contentTypeOf(metadata), inlineTypes)) {
    return filename ? `inline; ${filename}` : undefined;
  }
  return filename ? `attachment; ${filename}` : 'attachment';
}

/** The headers every object an upload becomes is written with. */
export function objectHeadersOf(
  metadata: Record<string, string | null> | undefined,
  inlineTypes?: readonly string[],
): { ContentType?: string; ContentDisposition?: string } {
  return {
    ContentType: contentTypeOf(metadata),
    ContentDisposition: contentDispositionOf(metadata, inlineTypes),
  };
}

/**
 * The user metadata `sha256` (hex, x-amz-meta-sha256) of an upload's object: on its
 * CreateMultipartUpload when the digest was declared at creation, on the PutObject of a
 * one-part upload whenever it was computed.
 */
export function objectDigestMetadata(info: { digest?: { declared?: string; sha256?: string } }): {
  Metadata?: Record<string, string>;
} {
  const sha256 = info.digest?.sha256 ?? info.digest?.declared;
  return sha256 ? { Metadata: { sha256 } } : {};
}
