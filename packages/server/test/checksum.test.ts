import { createHash } from 'node:crypto';
import type { TusError } from '../src/errors.js';
import {
  CHECKSUM_ALGORITHMS,
  createDigester,
  parseUploadChecksum,
  verifyChecksum,
} from '../src/extensions/checksum.js';
import { Crc32cDigester, loadCrc32c } from '../src/extensions/crc32c.js';

const b64 = (hex: string) => Buffer.from(hex, 'hex').toString('base64');
const status = (fn: () => unknown): number | undefined => {
  try {
    fn();
  } catch (e) {
    return (e as TusError).status_code;
  }
  return undefined;
};

beforeAll(() => loadCrc32c());

describe('crc32c (hash-wasm)', () => {
  const crc = (...chunks: Buffer[]) => {
    const d = new Crc32cDigester();
    for (const c of chunks) d.update(c);
    return d.digest().toString('hex');
  };
  it('matches the RFC 3720 check values and continues across chunks', () => {
    expect(crc(Buffer.from('123456789'))).toBe('e3069283');
    expect(crc(Buffer.alloc(32))).toBe('8a9136aa'); // RFC 3720 B.4: 32 zero bytes
    const all = Buffer.from('The quick brown fox jumps over the lazy dog, twice or more.');
    for (const cut of [0, 1, 7, 8, 9, 30, all.length]) {
      expect(crc(all.subarray(0, cut), all.subarray(cut))).toBe(crc(all));
    }
  });
  it('digesters fed in turn keep their own state', () => {
    const a = new Crc32cDigester();
    const b = new Crc32cDigester();
    a.update(Buffer.from('1234'));
    b.update(Buffer.alloc(16));
    a.update(Buffer.from('56789'));
    b.update(Buffer.alloc(16));
    expect(a.digest().toString('hex')).toBe('e3069283');
    expect(b.digest().toString('hex')).toBe('8a9136aa');
  });
});

describe('createDigester', () => {
  const data = Buffer.from('hello, tus checksum');
  it.each([
    ['sha1', createHash('sha1').update(data).digest('hex')],
    ['md5', createHash('md5').update(data).digest('hex')],
    ['sha256', createHash('sha256').update(data).digest('hex')],
  ] as const)('%s equals node:crypto in chunks', (alg, hex) => {
    const d = createDigester(alg);
    d.update(data.subarray(0, 5));
    d.update(data.subarray(5));
    expect(d.digest().toString('hex')).toBe(hex);
  });
  it('crc32 gives the standard check value, big-endian', () => {
    const d = createDigester('crc32');
    d.update(Buffer.from('1234'));
    d.update(Buffer.from('56789'));
    expect(d.digest().toString('hex')).toBe('cbf43926');
  });
  it('crc32c digest is 4 bytes big-endian', () => {
    const d = createDigester('crc32c');
    d.update(Buffer.from('123456789'));
    expect(d.digest().toString('hex')).toBe('e3069283');
  });
  it('an empty body has a digest too', () => {
    expect(createDigester('crc32').digest().toString('hex')).toBe('00000000');
  });
});

describe('parseUploadChecksum', () => {
  it('reads algorithm and base64 digest', () => {
    const p = parseUploadChecksum(`sha1 ${b64('a9993e364706816aba3e25717850c26c9cd0d89d')}`);
    expect(p.algorithm).toBe('sha1');
    expect(p.digest.toString('hex')).toBe('a9993e364706816aba3e25717850c26c9cd0d89d');
    expect(parseUploadChecksum(`CRC32 ${b64('cbf43926')}`).algorithm).toBe('crc32');
  });
  it('400 for an unknown algorithm, naming the supported ones', () => {
    try {
      parseUploadChecksum('sha512 AAAA');
      throw new Error('no throw');
    } catch (e) {
      expect((e as TusError).status_code).toBe(400);
      expect((e as TusError).message).toContain(CHECKSUM_ALGORITHMS.join(', '));
    }
  });
  it('400 for an algorithm the store does not verify, naming the ones it does', () => {
    const header = `sha1 ${b64('a9993e364706816aba3e25717850c26c9cd0d89d')}`;
    expect(status(() => parseUploadChecksum(header, ['md5', 'crc32']))).toBe(400);
    expect(() => parseUploadChecksum(header, ['md5', 'crc32'])).toThrow('supported: md5, crc32)');
    expect(parseUploadChecksum(header, ['sha1']).algorithm).toBe('sha1');
  });
  it.each([
    [''],
    ['sha1'],
    ['sha1 '],
    ['sha1 not*base64'],
    [`sha1 ${b64('a9993e36')}`], // wrong length
    [`sha1 ${b64('a9993e364706816aba3e25717850c26c9cd0d89d')} extra`],
    ['md5 AAAA=AAA'],
    [`sha256 ${b64('00'.repeat(32)).replace(/=/g, '')}A`],
  ])('400 for malformed %p', (value) => {
    expect(status(() => parseUploadChecksum(value))).toBe(400);
  });
});

describe('verifyChecksum', () => {
  it('passes a match and answers 460 with both digests otherwise', () => {
    const expected = parseUploadChecksum(`crc32 ${b64('cbf43926')}`);
    expect(() => verifyChecksum(expected, Buffer.from('cbf43926', 'hex'))).not.toThrow();
    try {
      verifyChecksum(expected, Buffer.from('cbf43927', 'hex'));
      throw new Error('no throw');
    } catch (e) {
      expect((e as TusError).status_code).toBe(460);
      expect((e as TusError).body.split('\n').filter(Boolean)).toHaveLength(1);
      expect((e as TusError).message).toContain(b64('cbf43926'));
    }
  });
});
