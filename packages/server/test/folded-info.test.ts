import { makeChallenge } from '../src/instant/challenge.js';
import {
  encodeFoldedInfo,
  FOLDED_INFO_KEY,
  infoFromObject,
  mayFold,
  USER_METADATA_LIMIT,
  withFoldedInfo,
} from '../src/s3/folded-info.js';
import type { UploadInfo } from '../src/s3/info.js';
import { isFoldableId, isValidId, newUploadId } from '../src/s3/keys.js';

const ID = `s${'a'.repeat(32)}`;
const small: UploadInfo = {
  version: 1,
  id: ID,
  size: 262_144,
  metadata: { filename: 'été  plan ☃ 😀.bin', filetype: 'application/pdf', flag: null },
  partSize: 8 * 1024 * 1024,
  createdAt: '2026-12-06T23:00:00.000Z',
  owner: 'alice',
  tenant: 'acme',
};
const SHA = 'ab'.repeat(32);

describe('folded info: encoding', () => {
  it('is printable ASCII without spaces, and decodes to the same info', () => {
    const value = encodeFoldedInfo(small);
    expect(value).toMatch(/^[\x21-\x7e]+$/);
    const back = infoFromObject(ID, {
      length: small.size,
      lastModified: new Date('2026-12-06T23:00:01.000Z'),
      metadata: { [FOLDED_INFO_KEY]: value },
    });
    expect(back).toEqual({ ...small, completedAt: '2026-12-06T23:00:01.000Z' });
  });

  it('leaves out what only the object tells and a challenge nobody can answer', () => {
    const info: UploadInfo = {
      ...small,
      completedAt: '2026-12-06T23:00:02.000Z',
      instant: makeChallenge(SHA, small.size as number, Date.now()),
    };
    const decoded = JSON.parse(encodeFoldedInfo(info));
    expect(decoded.completedAt).toBeUndefined();
    expect(decoded.instant).toBeUndefined();
  });

  it('takes the verified digest from the object', () => {
    const info: UploadInfo = { ...small, digest: { declared: SHA } };
    const back = infoFromObject(ID, {
      length: small.size,
      metadata: { [FOLDED_INFO_KEY]: encodeFoldedInfo(info), sha256: SHA },
    });
    expect(back?.digest).toEqual({ declared: SHA, sha256: SHA });
    // No last-modified date: completed at creation, never undefined.
    expect(back?.completedAt).toBe(small.createdAt);
  });

  it('finds no info in an object without one, of another id, or of another length', () => {
    const value = encodeFoldedInfo(small);
    expect(infoFromObject(ID, { length: small.size, metadata: {} })).toBeUndefined();
    expect(
      infoFromObject(`s${'b'.repeat(32)}`, {
        length: small.size,
        metadata: { [FOLDED_INFO_KEY]: value },
      }),
    ).toBeUndefined();
    expect(
      infoFromObject(ID, { length: 1, metadata: { [FOLDED_INFO_KEY]: value } }),
    ).toBeUndefined();
    // An info with a multipart upload is never folded: not one either.
    const multipart = encodeFoldedInfo({ ...small, uploadId: 'mpu' });
    expect(
      infoFromObject(ID, { length: small.size, metadata: { [FOLDED_INFO_KEY]: multipart } }),
    ).toBeUndefined();
  });

  it('refuses a value that is not an info record', () => {
    expect(() =>
      infoFromObject(ID, { length: 1, metadata: { [FOLDED_INFO_KEY]: '{"version":2}' } }),
    ).toThrow();
  });
});

describe('folded info: fits or falls back', () => {
  it('folds a small ordinary upload, digest and all', () => {
    expect(mayFold(small)).toBe(true);
    expect(mayFold({ ...small, digest: { declared: SHA, fullObjectCrc: true } })).toBe(true);
  });

  it('never folds an upload with a multipart upload, a concat role, no length or none', () => {
    expect(mayFold({ ...small, uploadId: 'mpu' })).toBe(false);
    expect(mayFold({ ...small, concat: { role: 'partial' } })).toBe(false);
    expect(mayFold({ ...small, size: undefined })).toBe(false);
    expect(mayFold({ ...small, size: 0 })).toBe(false);
  });

  it('falls back when the info would pass 2 KiB of user metadata', () => {
    const room = USER_METADATA_LIMIT - encodeFoldedInfo(small).length - FOLDED_INFO_KEY.length;
    const at = (n: number): UploadInfo => ({
      ...small,
      metadata: { ...small.metadata, note: 'x'.repeat(n) },
    });
    // A comma, "note" in quotes, a colon, the value's quotes: 10 characters around it.
    const fits = at(room - 10);
    expect(withFoldedInfo(fits, undefined)).toBeDefined();
    expect(mayFold(fits)).toBe(true);
    expect(withFoldedInfo(at(room - 9), undefined)).toBeUndefined();
    expect(mayFold(at(room - 9))).toBe(false);
    // A digest still to come is counted at creation (in the info and as `sha256`).
    expect(mayFold({ ...fits, digest: { declared: SHA } })).toBe(false);
  });

  it('counts escaped characters at their escaped length', () => {
    const wide: UploadInfo = { ...small, metadata: { filename: '☃'.repeat(330) } };
    // 330 characters, 1,980 bytes escaped (\u2603): with the rest, over the limit.
    expect(mayFold(wide)).toBe(false);
    expect(mayFold({ ...small, metadata: { filename: '☃'.repeat(200) } })).toBe(true);
  });

  it('keeps the metadata it is given beside the info', () => {
    const m = withFoldedInfo(small, { sha256: SHA });
    expect(m?.sha256).toBe(SHA);
    expect(m?.[FOLDED_INFO_KEY]).toBe(encodeFoldedInfo(small));
  });
});

describe('upload ids', () => {
  it('marks the ids of foldable creations, and only those', () => {
    const plain = newUploadId(false);
    const foldable = newUploadId(true);
    expect(plain).toMatch(/^[0-9a-f]{32}$/);
    expect(foldable).toMatch(/^s[0-9a-f]{32}$/);
    expect(isValidId(foldable)).toBe(true);
    expect(isFoldableId(foldable)).toBe(true);
    expect(isFoldableId(plain)).toBe(false);
    expect(isFoldableId(`${foldable}x`)).toBe(false);
    expect(newUploadId(true)).not.toBe(foldable);
  });
});
