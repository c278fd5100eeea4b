import type { UploadInfo } from '../src/s3/info.js';
import { capacityOf } from '../src/s3/parts/arithmetic.js';
import { partStreams, planPatch } from '../src/s3/patch/plan.js';
import { planSettle } from '../src/s3/patch/settle.js';

const MiB = 1024 * 1024;
const info = (over: Partial<UploadInfo> = {}): UploadInfo => ({
  version: 1,
  id: 'u',
  size: 40 * MiB,
  uploadId: 'mp',
  partSize: 8 * MiB,
  createdAt: '2026-01-01T00:00:00.000Z',
  ...over,
});
const store = { prefix: '', partChecksum: 'none' as const };
const sha = { algorithm: 'sha1' as const, digest: Buffer.alloc(20) };
const mark = (from: number, to: number) => ({ key: `k${from}-${to}`, from, to, generation: 0 });

describe('planPatch', () => {
  it('reaches as far as the declared length, within the upload size', () => {
    const plan = planPatch(info(), 8 * MiB, { declaredLength: 20 * MiB }, store);
    expect(plan).toMatchObject({ limit: 40 * MiB, reach: 28 * MiB, lastPart: 4 });
    expect(planPatch(info(), 8 * MiB, { declaredLength: 99 * MiB }, store).reach).toBe(40 * MiB);
  });
  it('bounds a deferred length by maxSize and what the part size addresses', () => {
    const deferred = info({ size: undefined });
    expect(planPatch(deferred, 0, { maxSize: 10 * MiB }, store).limit).toBe(10 * MiB);
    expect(planPatch(deferred, 0, {}, store).limit).toBe(capacityOf(8 * MiB));
  });
  it('without a declared length, an empty PATCH still names the part at its offset', () => {
    const plan = planPatch(info(), 16 * MiB, {}, store);
    expect(plan).toMatchObject({ declaredLength: undefined, reach: 40 * MiB, lastPart: 5 });
    expect(planPatch(info(), 16 * MiB, { declaredLength: 0 }, store).lastPart).toBe(3);
  });
  it('sends parts of a checksummed deferred-length request via pending objects', () => {
    expect(planPatch(info({ size: undefined }), 0, { checksum: sha }, store).viaPending).toBe(true);
    expect(planPatch(info(), 0, { checksum: sha }, store).viaPending).toBe(false);
    expect(planPatch(info({ size: undefined }), 0, {}, store).viaPending).toBe(false);
  });
  it('streams without checksums, into a multipart upload, without Content-MD5', () => {
    expect(planPatch(info(), 0, {}, store).canStream).toBe(true);
    expect(planPatch(info(), 0, { checksum: sha }, store).canStream).toBe(false);
    expect(planPatch(info(), 0, {}, { prefix: '', partChecksum: 'md5' }).canStream).toBe(false);
    expect(planPatch(info({ uploadId: undefined }), 0, {}, store).canStream).toBe(false);
  });
});

describe('planPatch under an Upload-Checksum', () => {
  const declared = (offset: number, length: number, over: Partial<UploadInfo> = {}) =>
    planPatch(info(over), offset, { checksum: sha, declaredLength: length }, store);
  it('marks, and so streams, a known-length request declared past its first part', () => {
    expect(declared(0, 8 * MiB + 1)).toMatchObject({ marked: true, canStream: true });
    expect(declared(3 * MiB, 6 * MiB)).toMatchObject({ marked: true, lastPart: 2 });
    expect(declared(0, 40 * MiB)).toMatchObject({ marked: true, canStream: true, lastPart: 5 });
  });
  it('holds instead within one part: a one-part PATCH needs no mark', () => {
    expect(declared(0, 8 * MiB)).toMatchObject({ marked: false, canStream: false });
    expect(declared(8 * MiB, 5 * MiB)).toMatchObject({ marked: false, canStream: false });
    // Past the upload's end the reach is cut at its size: still the last part only.
    expect(declared(32 * MiB, 99 * MiB)).toMatchObject({ marked: false, lastPart: 5 });
  });
  it('never marks without a declared length, for a deferred length, or without an MPU', () => {
    const chunked = planPatch(info(), 0, { checksum: sha }, store);
    expect(chunked).toMatchObject({ marked: false, canStream: false });
    expect(declared(0, 40 * MiB, { size: undefined })).toMatchObject({
      viaPending: true,
      marked: false,
      canStream: false,
    });
    expect(declared(0, 40 * MiB, { uploadId: undefined }).canStream).toBe(false);
  });
  it('marks under Content-MD5 too, where parts are held whole but not streamed', () => {
    const md5 = planPatch(
      info(),
      0,
      { checksum: sha, declaredLength: 40 * MiB },
      { prefix: '', partChecksum: 'md5' },
    );
    expect(md5).toMatchObject({ marked: true, canStream: false });
  });
  it('without a checksum nothing is marked', () => {
    expect(planPatch(info(), 0, { declaredLength: 40 * MiB }, store).marked).toBe(false);
  });
});

describe('partStreams', () => {
  const plan = planPatch(info(), 0, { declaredLength: 12 * MiB }, store);
  it('streams a part the request brings whole, with nothing staged before it', () => {
    expect(partStreams(plan, 0, 8 * MiB, 0)).toBe(true);
  });
  it('does not stream a part the request cannot finish, or one after staged segments', () => {
    expect(partStreams(plan, 8 * MiB, 8 * MiB, 0)).toBe(false);
    expect(partStreams(plan, 0, 8 * MiB, 1)).toBe(false);
  });
  it('does not stream without a declared length', () => {
    expect(partStreams(planPatch(info(), 0, {}, store), 0, 8 * MiB, 0)).toBe(false);
  });
});

describe('planSettle', () => {
  it('counts the parts written contiguously from the first, settling marks over them', () => {
    const plan = planSettle(2, new Set([2, 3, 5]), mark(2, 6), [mark(1, 1)]);
    expect(plan).toEqual({
      counts: true,
      unverified: [mark(1, 1)],
      settle: { marks: [mark(1, 1), { ...mark(2, 6), to: 5 }], upTo: 3 },
    });
  });
  it('settles nothing when no mark reaches down to what was written', () => {
    const plan = planSettle(2, new Set([2]), undefined, [mark(4, 6)]);
    expect(plan).toEqual({ counts: true, unverified: [mark(4, 6)], settle: undefined });
  });
  it('keeps its own mark when its first part was not written', () => {
    const plan = planSettle(2, new Set([3]), mark(2, 3), [mark(1, 1)]);
    expect(plan).toEqual({ counts: false, unverified: [mark(1, 1), mark(2, 3)] });
    expect(planSettle(2, new Set(), undefined, [])).toEqual({ counts: false, unverified: [] });
  });
});
