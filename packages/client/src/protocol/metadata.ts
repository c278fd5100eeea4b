/** Upload-Metadata: `key base64(utf8(value))` pairs, comma separated (tus 1.0). Pure, no Buffer/btoa. */

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

export function base64Encode(bytes: Uint8Array): string {
  let out = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out +=
      ALPHABET[n >> 18]! + ALPHABET[(n >> 12) & 63]! + ALPHABET[(n >> 6) & 63]! + ALPHABET[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i]! << 16;
    out += `${ALPHABET[n >> 18]}${ALPHABET[(n >> 12) & 63]}==`;
  } else if (rest === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    out += `${ALPHABET[n >> 18]}${ALPHABET[(n >> 12) & 63]}${ALPHABET[(n >> 6) & 63]}=`;
  }
  return out;
}

export function base64Decode(text: string): Uint8Array {
  const clean = text.replace(/=+$/, '');
  const out = new Uint8Array(Math.floor((clean.length * 3) / 4));
  let bits = 0;
  let acc = 0;
  let j = 0;
  for (const ch of clean) {
    const v = ALPHABET.indexOf(ch);
    if (v < 0) throw new Error(`invalid base64 character: ${ch}`);
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[j++] = (acc >> bits) & 0xff;
    }
  }
  return out.subarray(0, j);
}

const KEY = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Encodes metadata exactly (any Unicode value). Keys must be non-empty tokens without spaces or commas. */
export function encodeMetadata(metadata: Record<string, string>): string {
  const enc = new TextEncoder();
  return Object.entries(metadata)
    .map(([k, v]) => {
      if (!KEY.test(k)) throw new RangeError(`invalid metadata key: ${JSON.stringify(k)}`);
      return v === '' ? k : `${k} ${base64Encode(enc.encode(v))}`;
    })
    .join(',');
}

export function decodeMetadata(header: string): Record<string, string> {
  const dec = new TextDecoder('utf-8', { fatal: true });
  const out: Record<string, string> = {};
  for (const pair of header.split(',')) {
    const [k, v] = pair.trim().split(' ');
    if (!k) continue;
    out[k] = v ? dec.decode(base64Decode(v)) : '';
  }
  return out;
}
