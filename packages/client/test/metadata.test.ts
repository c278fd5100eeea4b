import { randomBytes } from 'node:crypto';
import {
  base64Decode,
  base64Encode,
  decodeMetadata,
  encodeMetadata,
} from '../src/protocol/metadata.js';

describe('base64', () => {
  test.each([0, 1, 2, 3, 4, 5, 100, 1001])('matches Buffer for %i bytes', (n) => {
    const b = randomBytes(n);
    expect(base64Encode(b)).toBe(b.toString('base64'));
    expect(Buffer.from(base64Decode(b.toString('base64')))).toEqual(b);
  });
});

describe('Upload-Metadata', () => {
  test('values are UTF-8 exact', () => {
    const meta = {
      filename: 'résumé – 日本語 🚀.txt',
      filetype: 'text/plain',
      empty: '',
      tricky: ' a,b=c\n\u0000 ',
    };
    const header = encodeMetadata(meta);
    for (const pair of header.split(',')) {
      const [k, v] = pair.split(' ');
      const expected = meta[k as keyof typeof meta];
      expect(v === undefined ? '' : Buffer.from(v, 'base64').toString('utf8')).toBe(expected);
    }
    expect(header).toContain('empty,');
    expect(decodeMetadata(header)).toEqual(meta);
  });

  test.each(['', 'has space', 'a,b', 'ü'])('rejects key %p', (k) => {
    expect(() => encodeMetadata({ [k]: 'x' })).toThrow(RangeError);
  });
});
