// S3 object headers derived from tus metadata: filetype -> Content-Type,
// filename -> Content-Disposition (RFC 6266 / RFC 8187, so any UTF-8 name survives).

const MIME =
  /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}(\s*;\s*[A-Za-z0-9!#$&^_.+-]+=("[^"\\\r\n]*"|[A-Za-z0-9!#$&^_.+-]+))*$/;

export function contentTypeOf(metadata?: Record<string, string | null>): string | undefined {
  const type = metadata?.filetype ?? metadata?.contentType ?? undefined;
  return type && MIME.test(type) ? type : undefined;
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

export function contentDispositionOf(metadata?: Record<string, string | null>): string | undefined {
  const name = metadata?.filename ?? metadata?.name ?? undefined;
  if (!name) return undefined;
  // Path parts a browser would reject anyway; keep only the base name.
  const base = name.split(/[/\\]/).pop() ?? '';
  if (!base) return undefined;
  const ascii = base.replace(/[^\x20-\x7e]|["\\%]/g, '_');
  return `inline; filename="${ascii}"; filename*=UTF-8''${encodeRfc8187(base)}`;
}
