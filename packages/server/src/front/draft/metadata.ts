// The tus metadata of a draft creation (pure): the draft carries the representation's
// metadata in Content-Type and Content-Disposition (RFC 6266), which become the tus
// `filetype` and `filename` the store turns back into the object's headers. A client that
// sends tus Upload-Metadata too (tus-js-client does in draft mode) has it kept as sent.

/** Content types that label the transfer, not the representation. */
const TRANSFER_TYPES = new Set(['application/partial-upload', 'application/offset+octet-stream']);

type HeaderGet = (name: string) => string | null;

/** The Upload-Metadata value for the tus creation, or undefined for none. */
export function tusMetadataOf(get: HeaderGet): string | undefined {
  const sent = get('upload-metadata');
  if (sent !== null) return sent;
  const pairs: string[] = [];
  const type = get('content-type')?.trim();
  if (type && !TRANSFER_TYPES.has((type.split(';')[0] ?? '').trim().toLowerCase())) {
    pairs.push(`filetype ${base64(type)}`);
  }
  const name = filenameOf(get('content-disposition'));
  if (name !== undefined) pairs.push(`filename ${base64(name)}`);
  return pairs.length > 0 ? pairs.join(',') : undefined;
}

function base64(value: string): string {
  return Buffer.from(value, 'utf8').toString('base64');
}

const EXT_VALUE = /(?:^|;)\s*filename\*\s*=\s*([^';\s]*)'[^']*'([^;\s]*)/i;
const QUOTED = /(?:^|;)\s*filename\s*=\s*"((?:[^"\\]|\\.)*)"/i;
const TOKEN = /(?:^|;)\s*filename\s*=\s*([^";\s]+)/i;

/** The file name a Content-Disposition gives: filename* (UTF-8) first, then filename. */
export function filenameOf(value: string | null): string | undefined {
  if (value === null) return undefined;
  const ext = EXT_VALUE.exec(value);
  if (ext && ext[1]?.toLowerCase() === 'utf-8') {
    try {
      const decoded = decodeURIComponent(ext[2] ?? '');
      if (decoded !== '') return decoded;
    } catch {
      // A malformed escape: fall back to the plain parameter.
    }
  }
  const quoted = QUOTED.exec(value);
  if (quoted) return (quoted[1] ?? '').replace(/\\(.)/g, '$1') || undefined;
  return TOKEN.exec(value)?.[1];
}
