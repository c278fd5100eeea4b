import { normalizePath, parseDuration, parseSize } from '../src/cli/config.js';
import { refusalFor } from '../src/front/request-checks.js';
import { isExpired, parseInfo, serializeInfo } from '../src/s3/info.js';
import {
  idFromInfoKey,
  idFromStagingKey,
  isValidId,
  parseSegmentKey,
  pendingKey,
  segmentKey,
  unverifiedKey,
} from '../src/s3/keys.js';
import { contentDispositionOf, contentTypeOf } from '../src/s3/object-headers.js';

describe('parseSize', () => {
  it.each([
    ['8MiB', 8 * 1024 * 1024],
    ['5GB', 5e9],
    ['1048576', 1048576],
    ['1.5 KiB', 1536],
  ])('%s', (text, bytes) => expect(parseSize(text)).toBe(bytes));
  it('rejects nonsense with a one-line reason', () => {
    expect(() => parseSize('lots')).toThrow(/invalid size "lots"/);
    expect(() => parseSize('5 parsecs')).toThrow(/invalid size/);
  });
});

describe('parseDuration', () => {
  it.each([
    ['24h', 86_400_000],
    ['30m', 1_800_000],
    ['1d', 86_400_000],
    ['500ms', 500],
    ['0', 0],
  ])('%s', (text, ms) => expect(parseDuration(text)).toBe(ms));
  it('needs a unit', () => expect(() => parseDuration('10')).toThrow(/unit/));
});

describe('normalizePath', () => {
  it('adds one leading slash and drops trailing ones', () => {
    expect(normalizePath('files/')).toBe('/files');
    expect(normalizePath('/a/b')).toBe('/a/b');
    expect(normalizePath('/')).toBe('/');
  });
});

describe('object headers from metadata', () => {
  it('maps filetype to Content-Type when it is a media type', () => {
    expect(contentTypeOf({ filetype: 'image/png' })).toBe('image/png');
    expect(contentTypeOf({ filetype: 'text/plain; charset=utf-8' })).toBe(
      'text/plain; charset=utf-8',
    );
    expect(contentTypeOf({ filetype: 'not a type\r\nX: y' })).toBeUndefined();
    expect(contentTypeOf({})).toBeUndefined();
  });
  it('writes an RFC 6266 disposition that keeps any UTF-8 name', () => {
    const d = contentDispositionOf({ filename: 'Grüße "x" 日本.txt', filetype: 'text/plain' });
    expect(d).toBe(
      `inline; filename="Gr__e _x_ __.txt"; filename*=UTF-8''Gr%C3%BC%C3%9Fe%20%22x%22%20%E6%97%A5%E6%9C%AC.txt`,
    );
    expect(contentDispositionOf({ filename: '../../etc/passwd' })).toContain('filename="passwd"');
    expect(contentDispositionOf({ filename: null, filetype: 'image/png' })).toBeUndefined();
    expect(contentDispositionOf({ filename: null })).toBe('attachment');
  });
});

describe('keys', () => {
  it('round-trips segment offsets and keeps listing order numeric', () => {
    const k = segmentKey('p/', 'abc', 123, 0);
    // Without a shared locker (generation 0) the key is what it always was.
    expect(k).toBe('p/abc.seg.000000000000123');
    expect(parseSegmentKey('p/', 'abc', k)).toEqual({ offset: 123, generation: 0 });
    const g = segmentKey('p/', 'abc', 123, 7);
    expect(g).toBe('p/abc.seg.000000000000123.0000000000000007');
    expect(parseSegmentKey('p/', 'abc', g)).toEqual({ offset: 123, generation: 7 });
    expect(segmentKey('p/', 'abc', 9, 3) < segmentKey('p/', 'abc', 10, 1)).toBe(true);
    expect(parseSegmentKey('p/', 'abd', k)).toBeUndefined();
  });
  it('recognises only its own info keys', () => {
    expect(idFromInfoKey('p/', 'p/abc.info')).toBe('abc');
    expect(idFromInfoKey('p/', 'q/abc.info')).toBeUndefined();
    expect(idFromStagingKey('p/', segmentKey('p/', 'abc', 7, 4))).toBe('abc');
    expect(idFromStagingKey('p/', pendingKey('p/', 'a-b', 'tok', 2))).toBe('a-b');
    expect(idFromStagingKey('p/', unverifiedKey('p/', 'abc', 1, 3, 4))).toBe('abc');
    for (const key of [
      'p/abc.info',
      'p/abc',
      'p/abc.txt',
      'p/abc.seg.12',
      'q/abc.seg.000000000000007',
    ])
      expect(idFromStagingKey('p/', key)).toBeUndefined();
    expect(idFromInfoKey('p/', 'p/a.b.info')).toBeUndefined();
  });
  it('accepts only URL-safe ids', () => {
    expect(isValidId('0f3a_-Z')).toBe(true);
    expect(isValidId('../x')).toBe(false);
    expect(isValidId('')).toBe(false);
  });
});

describe('info record', () => {
  const info = {
    version: 1 as const,
    id: 'abc',
    size: 10,
    metadata: { filename: 'ü', empty: null },
    uploadId: 'u',
    partSize: 5 * 1024 * 1024,
    createdAt: new Date(0).toISOString(),
  };
  it('round-trips exactly', () => {
    expect(parseInfo(serializeInfo(info))).toEqual(info);
  });
  it('rejects a malformed record', () => {
    expect(() => parseInfo('{"version":1}')).toThrow(/invalid id/);
    expect(() => parseInfo(JSON.stringify({ ...info, size: -1 }))).toThrow(/invalid size/);
  });
  it('expires only unfinished uploads past their time', () => {
    expect(isExpired(info, 1000, 2000)).toBe(true);
    expect(isExpired(info, 1000, 500)).toBe(false);
    expect(isExpired({ ...info, completedAt: 'x' }, 1000, 2000)).toBe(false);
    expect(isExpired(info, 0, 2000)).toBe(false);
  });
});

describe('refusalFor', () => {
  const tusHeaders = {
    'tus-resumable': '1.0.0',
    'content-type': 'application/offset+octet-stream',
  };
  it('lets good requests and OPTIONS through', () => {
    expect(refusalFor('PATCH', tusHeaders)).toBeUndefined();
    expect(refusalFor('OPTIONS', { 'tus-resumable': '9' })).toBeUndefined();
    expect(refusalFor('HEAD', { 'tus-resumable': '1.0.0' })).toBeUndefined();
  });
  it('answers an unsupported version with 412 and Tus-Version', () => {
    const r = refusalFor('HEAD', { 'tus-resumable': '0.2.2' });
    expect(r?.status).toBe(412);
    expect(r?.headers['Tus-Version']).toBe('1.0.0');
  });
  it('answers a PATCH with a missing or wrong media type with 415', () => {
    expect(refusalFor('PATCH', { 'tus-resumable': '1.0.0' })?.status).toBe(415);
    expect(refusalFor('PATCH', { ...tusHeaders, 'content-type': 'text/plain' })?.message).toMatch(
      /not text\/plain/,
    );
  });
  it('leaves a missing Tus-Resumable to @tus/server (412)', () => {
    expect(refusalFor('PATCH', { 'content-type': 'x' })).toBeUndefined();
  });
});
