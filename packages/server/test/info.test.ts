import { makeChallenge } from '../src/instant/challenge.js';
import {
  fitsOnePart,
  isExpired,
  multipartId,
  parseInfo,
  serializeInfo,
  type UploadInfo,
} from '../src/s3/info.js';

const base: UploadInfo = {
  version: 1,
  id: 'abc',
  size: 10,
  uploadId: 'u1',
  partSize: 5 * 1024 * 1024,
  createdAt: '2026-01-01T00:00:00.000Z',
};

describe('info record: concat role', () => {
  it('round-trips partial and final roles', () => {
    const partial: UploadInfo = { ...base, concat: { role: 'partial' } };
    const final: UploadInfo = {
      ...base,
      concat: { role: 'final', partials: [{ id: 'a', size: 4 }], partialsRemoved: true },
    };
    expect(parseInfo(serializeInfo(partial))).toEqual(partial);
    expect(parseInfo(serializeInfo(final))).toEqual(final);
  });
  it.each([
    [{ role: 'other' }],
    [{ role: 'final' }],
    [{ role: 'final', partials: [{ id: 'a' }] }],
    [{ role: 'final', partials: [{ id: 'a', size: -1 }] }],
    [{ role: 'final', partials: [], partialsRemoved: 'yes' }],
    ['partial'],
  ])('refuses a malformed concat %p', (concat) => {
    expect(() => parseInfo(JSON.stringify({ ...base, concat }))).toThrow(/concat/);
  });
});

describe('info record: instant-upload challenge', () => {
  it('round-trips a challenge and refuses a malformed one', () => {
    const instant = makeChallenge('ab'.repeat(32), 10, Date.now());
    const withChallenge: UploadInfo = { ...base, instant };
    expect(parseInfo(serializeInfo(withChallenge))).toEqual(withChallenge);
    const broken = { ...instant, offsets: [9] }; // past the end of 10 bytes
    expect(() => parseInfo(JSON.stringify({ ...base, instant: broken }))).toThrow(/challenge/);
  });
});

describe('info record: an announced length', () => {
  it('keeps a non-negative integer and refuses anything else', () => {
    const { size: _, ...deferred } = { ...base, announcedLength: 10 };
    expect(parseInfo(serializeInfo(deferred))).toEqual(deferred);
    expect(() => parseInfo(JSON.stringify({ ...base, announcedLength: -1 }))).toThrow(
      /announcedLength/,
    );
    expect(() => parseInfo(JSON.stringify({ ...base, announcedLength: '10' }))).toThrow(
      /announcedLength/,
    );
  });
});

describe('info record: one-part uploads', () => {
  it('has no multipart upload id, and says so when one is needed', () => {
    const { uploadId: _, ...onePart } = base;
    expect(parseInfo(serializeInfo(onePart))).toEqual(onePart);
    expect(() => multipartId(onePart)).toThrow(/no multipart upload/);
    expect(multipartId(base)).toBe('u1');
    expect(() => parseInfo(JSON.stringify({ ...base, uploadId: '' }))).toThrow(/uploadId/);
  });
  it('is any upload of known size up to one part', () => {
    expect(fitsOnePart(0, 5)).toBe(true);
    expect(fitsOnePart(5, 5)).toBe(true);
    expect(fitsOnePart(6, 5)).toBe(false);
    expect(fitsOnePart(undefined, 5)).toBe(false);
  });
});

describe('isExpired', () => {
  const later = Date.parse(base.createdAt) + 2000;
  it('expires unfinished uploads only', () => {
    expect(isExpired(base, 1000, later)).toBe(true);
    expect(isExpired({ ...base, completedAt: base.createdAt }, 1000, later)).toBe(false);
    expect(isExpired(base, 0, later)).toBe(false);
    expect(isExpired(base, 5000, later)).toBe(false);
  });
  it('expires a finished partial no final consumed', () => {
    const done = { ...base, completedAt: base.createdAt };
    expect(isExpired({ ...done, concat: { role: 'partial' } }, 1000, later)).toBe(true);
    expect(isExpired({ ...done, concat: { role: 'final', partials: [] } }, 1000, later)).toBe(
      false,
    );
  });
});
