// Repr-Digest (RFC 9530): the digest of the whole representation, here the whole uploaded
// file, as a structured-field dictionary (RFC 8941) of algorithm -> byte sequence, e.g.
// `sha-256=:ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=:`. Only sha-256 is verified.
import { TusError } from '../errors.js';

export const REPR_DIGEST_HEADER = 'Repr-Digest';
/** The status of a whole-file digest that does not match (the checksum extension's). */
export const DIGEST_MISMATCH_STATUS = 460;

const SHA256_BYTES = 32;
// sf-dictionary member: key, then `=:base64:` and maybe parameters (ignored), RFC 8941 §3.2.
const KEY = /^[a-z*][a-z0-9_\-.*]*$/;
const BYTES = /^:([A-Za-z0-9+/]*={0,2}):$/;

/**
 * The SHA-256 (hex) a Repr-Digest declares. Malformed fields, a sha-256 of the wrong length,
 * and fields naming only algorithms this server does not verify are refused (400): accepting
 * them would let the client believe the file was checked.
 */
export function parseReprDigest(value: string): string {
  const members = parseDictionary(value);
  const sha = members.get('sha-256');
  if (sha === undefined) {
    throw new TusError(400, 'Repr-Digest names no algorithm this server verifies (sha-256)');
  }
  const bytes = Buffer.from(sha, 'base64');
  if (bytes.length !== SHA256_BYTES || bytes.toString('base64') !== sha) {
    throw new TusError(400, 'Repr-Digest sha-256 is not 32 bytes of base64');
  }
  return bytes.toString('hex');
}

/** key -> base64 of each member whose value is a byte sequence (others are kept as ''). */
function parseDictionary(value: string): Map<string, string> {
  const out = new Map<string, string>();
  const invalid = () => new TusError(400, 'Repr-Digest is not a dictionary of byte sequences');
  const trimmed = value.trim();
  if (trimmed === '') throw invalid();
  for (const raw of trimmed.split(',')) {
    const member = raw.trim();
    const eq = member.indexOf('=');
    if (eq <= 0) throw invalid();
    const key = member.slice(0, eq);
    // Parameters follow the value after ';' (none is defined for Repr-Digest).
    const item = (member.slice(eq + 1).split(';')[0] ?? '').trim();
    const m = BYTES.exec(item);
    if (!KEY.test(key) || !m) throw invalid();
    // RFC 8941: a repeated key keeps its last value.
    out.set(key, m[1] ?? '');
  }
  return out;
}

/** The Repr-Digest value for a SHA-256 given in hex. */
export function formatReprDigest(sha256Hex: string): string {
  return `sha-256=:${Buffer.from(sha256Hex, 'hex').toString('base64')}:`;
}

/** Throws the 460 answer unless the computed digest is the declared one. */
export function verifyWholeDigest(declaredHex: string | undefined, actualHex: string): void {
  if (declaredHex !== undefined && declaredHex !== actualHex) {
    throw new TusError(
      DIGEST_MISMATCH_STATUS,
      'Repr-Digest does not match the uploaded file (sha-256 differs)',
    );
  }
}
