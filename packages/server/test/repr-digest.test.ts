import { createHash } from 'node:crypto';
import type { TusError } from '../src/errors.js';
import {
  formatReprDigest,
  parseReprDigest,
  verifyWholeDigest,
} from '../src/extensions/repr-digest.js';

const hex = createHash('sha256').update('hello').digest('hex');
const b64 = Buffer.from(hex, 'hex').toString('base64');
const status = (fn: () => unknown): number | undefined => {
  try {
    fn();
  } catch (e) {
    return (e as TusError).status_code;
  }
  return undefined;
};

describe('parseReprDigest', () => {
  it('reads sha-256 among other members and parameters', () => {
    expect(parseReprDigest(`sha-256=:${b64}:`)).toBe(hex);
    expect(parseReprDigest(`sha-512=:AAAA:, sha-256=:${b64}:;x=1`)).toBe(hex);
    // RFC 8941: the last of a repeated key wins.
    expect(parseReprDigest(`sha-256=:AAAA:, sha-256=:${b64}:`)).toBe(hex);
  });

  it('round-trips with formatReprDigest', () => {
    expect(parseReprDigest(formatReprDigest(hex))).toBe(hex);
    expect(formatReprDigest(hex)).toBe(`sha-256=:${b64}:`);
  });

  it.each([
    ['', 'empty'],
    ['sha-256', 'no value'],
    [`sha-256=${b64}`, 'a token, not a byte sequence'],
    [`sha-256=:${b64}`, 'unterminated'],
    [`SHA-256=:${b64}:`, 'an uppercase key'],
    ['sha-256=:AAAA:', 'not 32 bytes'],
    [`sha-256=:${b64.slice(0, -1)}:`, 'bad padding'],
    ['md5=:XrY7u+Ae7tCTyyK7j1rNww==:', 'no sha-256'],
    ['sha-512=:AAAA:', 'only an algorithm not verified'],
  ])('refuses %j (%s) with 400', (value) => {
    expect(status(() => parseReprDigest(value))).toBe(400);
  });
});

describe('verifyWholeDigest', () => {
  it('passes a match or no declaration, answers 460 otherwise', () => {
    expect(status(() => verifyWholeDigest(hex, hex))).toBeUndefined();
    expect(status(() => verifyWholeDigest(undefined, hex))).toBeUndefined();
    const flipped = (Number.parseInt(hex[0] as string, 16) ^ 1).toString(16) + hex.slice(1);
    expect(status(() => verifyWholeDigest(hex, flipped))).toBe(460);
  });
});
