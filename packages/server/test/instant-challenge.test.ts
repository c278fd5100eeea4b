import { createHash } from 'node:crypto';
import type { TusError } from '../src/errors.js';
import {
  CHALLENGE_TTL_MS,
  challengeHeader,
  isExpired,
  makeChallenge,
  NONCE_BYTES,
  parseStoredChallenge,
  RANGE_COUNT,
  type RandomSource,
} from '../src/instant/challenge.js';
import {
  indexKey,
  OPEN_TENANT,
  parseEntry,
  serializeEntry,
  tenantSegment,
} from '../src/instant/index-keys.js';
import { computeProof, parseProofHeader, proofsMatch } from '../src/instant/proof.js';
import {
  checkInstantCreation,
  checkProofRequest,
  parseInstantHeader,
} from '../src/instant/request.js';

const SHA = createHash('sha256').update('content').digest('hex');
const status = (fn: () => unknown): number | undefined => {
  try {
    fn();
  } catch (e) {
    return (e as TusError).status_code;
  }
  return undefined;
};

/** Answers the draws it is given, in order, and records the bounds asked for. */
function scripted(ints: number[], byte = 7): RandomSource & { bounds: Array<[number, number]> } {
  const bounds: Array<[number, number]> = [];
  let i = 0;
  return {
    bounds,
    bytes: (n) => new Uint8Array(n).fill(byte),
    int: (min, max) => {
      bounds.push([min, max]);
      return ints[i++ % ints.length] as number;
    },
  };
}

describe('makeChallenge', () => {
  it('draws K offsets in [0, N - L], sorted, and a 32-byte nonce; expires after the TTL', () => {
    const random = scripted([900, 5, 100]);
    const c = makeChallenge(SHA, 10_000, 1_000, { random, count: 3, length: 4096 });
    expect(random.bounds).toEqual([
      [0, 10_000 - 4096 + 1],
      [0, 5905],
      [0, 5905],
    ]);
    expect(c).toEqual({
      version: 1,
      nonce: Buffer.alloc(NONCE_BYTES, 7).toString('base64'),
      length: 4096,
      offsets: [5, 100, 900],
      sha256: SHA,
      size: 10_000,
      expiresAt: 1_000 + CHALLENGE_TTL_MS,
    });
    // Valid 10 minutes, as the protocol text says, and not a millisecond more.
    expect(CHALLENGE_TTL_MS).toBe(10 * 60 * 1000);
    expect(isExpired(c, 1_000 + CHALLENGE_TTL_MS)).toBe(false);
    expect(isExpired(c, 1_001 + CHALLENGE_TTL_MS)).toBe(true);
  });

  it('a file shorter than a range is challenged whole, at offset 0', () => {
    const c = makeChallenge(SHA, 10, 0);
    expect(c.length).toBe(10);
    expect(c.offsets).toEqual(Array(RANGE_COUNT).fill(0));
  });

  it('with the real random source, offsets stay in bounds and nonces differ', () => {
    const a = makeChallenge(SHA, 5_000, 0);
    const b = makeChallenge(SHA, 5_000, 0);
    expect(a.nonce).not.toBe(b.nonce);
    for (const o of [...a.offsets, ...b.offsets]) {
      expect(o).toBeGreaterThanOrEqual(0);
      expect(o + 4096).toBeLessThanOrEqual(5_000);
    }
    expect(parseStoredChallenge(JSON.parse(JSON.stringify(a)))).toEqual(a);
  });

  it('refuses sizes it cannot challenge', () => {
    for (const n of [0, -1, 1.5, 2 ** 48])
      expect(() => makeChallenge(SHA, n, 0)).toThrow(RangeError);
  });
});

describe('challengeHeader', () => {
  it('is an RFC 8941 dictionary: nonce byte sequence, length, offsets inner list', () => {
    const c = makeChallenge(SHA, 10_000, 0, { random: scripted([3, 1]), count: 2 });
    expect(challengeHeader(c)).toBe(
      `nonce=:${Buffer.alloc(32, 7).toString('base64')}:, length=4096, offsets=(1 3)`,
    );
  });
});

describe('parseStoredChallenge', () => {
  const good = makeChallenge(SHA, 10_000, 0);
  it.each([
    ['another version', { version: 2 }],
    ['a short nonce', { nonce: 'AAAA' }],
    ['a digest that is not hex', { sha256: 'x'.repeat(64) }],
    ['a range past the end', { offsets: [10_000 - 4095] }],
    ['no ranges', { offsets: [] }],
    ['a range longer than the file', { length: 10_001 }],
    ['a fractional size', { size: 1.5 }],
    ['no expiry', { expiresAt: undefined }],
  ])('refuses %s', (_, change) => {
    expect(parseStoredChallenge({ ...good, ...change })).toBeUndefined();
  });
  it('refuses what is not an object', () => {
    for (const v of [null, 'x', 3]) expect(parseStoredChallenge(v)).toBeUndefined();
  });
});

describe('proof', () => {
  it('is SHA-256 of the nonce then each range, in order', () => {
    const nonce = Buffer.alloc(32, 1);
    const r1 = Buffer.from('first');
    const r2 = Buffer.from('second');
    const expected = createHash('sha256')
      .update(Buffer.concat([nonce, r1, r2]))
      .digest();
    expect(computeProof(nonce, [r1, r2])).toEqual(expected);
    expect(computeProof(nonce, [r2, r1])).not.toEqual(expected);
  });

  it('parses a 32-byte byte sequence and refuses anything else with 400', () => {
    const digest = Buffer.alloc(32, 9);
    expect(parseProofHeader(` :${digest.toString('base64')}: `)).toEqual(digest);
    for (const bad of [
      digest.toString('base64'),
      `:${Buffer.alloc(31).toString('base64')}:`,
      `:${Buffer.alloc(33).toString('base64')}:`,
      `:${digest.toString('base64url')}:`,
      '',
    ]) {
      expect(status(() => parseProofHeader(bad))).toBe(400);
    }
  });

  it('compares in constant time, unequal lengths never match', () => {
    const a = Buffer.alloc(32, 1);
    expect(proofsMatch(a, Buffer.alloc(32, 1))).toBe(true);
    expect(proofsMatch(a, Buffer.alloc(32, 2))).toBe(false);
    expect(proofsMatch(a, Buffer.alloc(31, 1))).toBe(false);
  });
});

describe('instant request checks', () => {
  it('Upload-Instant is an RFC 8941 boolean', () => {
    expect(parseInstantHeader(undefined)).toBe(false);
    expect(parseInstantHeader('?1')).toBe(true);
    expect(parseInstantHeader('?0')).toBe(false);
    expect(status(() => parseInstantHeader('true'))).toBe(400);
  });

  const ok = { length: 10, hasDigest: true, bodyLength: 0, concat: false };
  it('an instant creation needs a length, a digest, no body and no concatenation', () => {
    expect(status(() => checkInstantCreation(ok))).toBeUndefined();
    for (const change of [
      { length: undefined },
      { length: 0 },
      { hasDigest: false },
      { bodyLength: 1 },
      { concat: true },
    ]) {
      expect(status(() => checkInstantCreation({ ...ok, ...change }))).toBe(400);
    }
  });

  it('a proof PATCH carries no body', () => {
    expect(status(() => checkProofRequest(0))).toBeUndefined();
    expect(status(() => checkProofRequest(5))).toBe(400);
  });
});

describe('index keys', () => {
  it('hash the tenant into a fixed segment, any string key-safe', () => {
    const weird = '../a/b\u00e9'.repeat(200);
    const key = indexKey('up/', weird, SHA, 42);
    expect(key).toBe(`up/.instant/${tenantSegment(weird)}/${SHA}.42`);
    expect(key).toMatch(/^up\/\.instant\/[0-9a-f]{64}\/[0-9a-f]{64}\.42$/);
    expect(indexKey('up/', 'a', SHA, 42)).not.toBe(indexKey('up/', 'b', SHA, 42));
    expect(tenantSegment(OPEN_TENANT)).toBe(createHash('sha256').update('').digest('hex'));
  });

  it('entries round-trip; anything malformed reads as no entry', () => {
    const entry = {
      version: 1 as const,
      key: 'up/abc',
      uploadId: 'abc',
      size: 42,
      sha256: SHA,
      createdAt: new Date(0).toISOString(),
    };
    expect(parseEntry(serializeEntry(entry))).toEqual(entry);
    expect(parseEntry('{')).toBeUndefined();
    expect(parseEntry('null')).toBeUndefined();
    expect(parseEntry(JSON.stringify({ ...entry, size: 0 }))).toBeUndefined();
    expect(parseEntry(JSON.stringify({ ...entry, key: '' }))).toBeUndefined();
  });
});
