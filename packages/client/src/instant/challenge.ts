// The server's Upload-Instant-Challenge (RFC 8941 dictionary) as the client reads it:
// `nonce=:<base64>:, length=<L>, offsets=(<o1> ... <oK>)`. Members the client does not
// know, and parameters, are skipped, so the server may add some later.

export interface InstantChallenge {
  nonce: Uint8Array;
  /** Length of every range. */
  length: number;
  /** Range i is bytes [offsets[i], offsets[i] + length), hashed in this order. */
  offsets: number[];
}

type Bare = number | Uint8Array | string | boolean;
type Value = Bare | Bare[];

/** The challenge, or undefined when the header is absent or not one (then: upload normally). */
export function parseChallengeHeader(
  value: string | null | undefined,
  size: number,
): InstantChallenge | undefined {
  if (!value) return undefined;
  let members: Map<string, Value>;
  try {
    members = parseDictionary(value);
  } catch {
    return undefined;
  }
  const nonce = members.get('nonce');
  const length = members.get('length');
  const offsets = members.get('offsets');
  if (!(nonce instanceof Uint8Array) || nonce.length === 0) return undefined;
  if (typeof length !== 'number' || !Number.isInteger(length) || length <= 0 || length > size) {
    return undefined;
  }
  if (!Array.isArray(offsets) || offsets.length === 0) return undefined;
  const ok = offsets.every(
    (o): o is number =>
      typeof o === 'number' && Number.isInteger(o) && o >= 0 && o + length <= size,
  );
  return ok ? { nonce, length, offsets: offsets as number[] } : undefined;
}

/** RFC 8941 section 4.2.2, for the item types a challenge can hold. */
function parseDictionary(input: string): Map<string, Value> {
  const p = { s: input, i: 0 };
  const out = new Map<string, Value>();
  skip(p, ' ');
  while (p.i < p.s.length) {
    const key = parseKey(p);
    let value: Value = true;
    if (p.s[p.i] === '=') {
      p.i++;
      value = p.s[p.i] === '(' ? parseInnerList(p) : parseBare(p);
    }
    skipParameters(p);
    out.set(key, value);
    skip(p, ' \t');
    if (p.i >= p.s.length) break;
    if (p.s[p.i] !== ',') throw new SyntaxError('expected ,');
    p.i++;
    skip(p, ' \t');
    if (p.i >= p.s.length) throw new SyntaxError('trailing ,');
  }
  return out;
}

interface Cursor {
  s: string;
  i: number;
}

function skip(p: Cursor, chars: string): void {
  while (p.i < p.s.length && chars.includes(p.s[p.i] as string)) p.i++;
}

function take(p: Cursor, re: RegExp): string {
  re.lastIndex = p.i;
  const m = re.exec(p.s);
  if (!m) throw new SyntaxError(`unexpected ${p.s[p.i] ?? 'end'}`);
  p.i += m[0].length;
  return m[0];
}

function parseKey(p: Cursor): string {
  return take(p, /[a-z*][a-z0-9_\-.*]*/y);
}

function parseInnerList(p: Cursor): Bare[] {
  p.i++; // (
  const items: Bare[] = [];
  for (;;) {
    skip(p, ' ');
    if (p.s[p.i] === ')') {
      p.i++;
      return items;
    }
    items.push(parseBare(p));
    skipParameters(p);
    if (p.s[p.i] !== ' ' && p.s[p.i] !== ')') throw new SyntaxError('bad inner list');
  }
}

function skipParameters(p: Cursor): void {
  while (p.s[p.i] === ';') {
    p.i++;
    skip(p, ' ');
    parseKey(p);
    if (p.s[p.i] === '=') {
      p.i++;
      parseBare(p);
    }
  }
}

function parseBare(p: Cursor): Bare {
  const c = p.s[p.i];
  if (c === ':') {
    const b64 = take(p, /:[A-Za-z0-9+/=]*:/y).slice(1, -1);
    return decodeBase64(b64);
  }
  if (c === '?') return take(p, /\?[01]/y) === '?1';
  if (c === '"') return take(p, /"(?:[^"\\]|\\["\\])*"/y).slice(1, -1);
  if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) {
    const n = Number(take(p, /-?\d{1,15}(?:\.\d{1,3})?/y));
    return n;
  }
  return take(p, /[A-Za-z*][A-Za-z0-9:/!#$%&'*+\-.^_`|~]*/y);
}

function decodeBase64(b64: string): Uint8Array {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** A proof as Upload-Instant-Proof carries it: an RFC 8941 byte sequence. */
export function proofHeader(proof: Uint8Array): string {
  let bin = '';
  for (const b of proof) bin += String.fromCharCode(b);
  return `:${btoa(bin)}:`;
}
