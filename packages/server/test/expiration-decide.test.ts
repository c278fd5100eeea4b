// The sweep's pure decisions: which uploads expire, which multipart uploads and markers are
// orphans (s3/expiration/decide.ts), and what the full pass makes of each listed key
// (s3/expiration/full-pass.ts PrefixWalk).
import { decide, type Found, isOld } from '../src/s3/expiration/decide.js';
import { PrefixWalk } from '../src/s3/expiration/full-pass.js';
import type { UploadInfo } from '../src/s3/info.js';

const EXP = 60_000;
const NOW = Date.parse('2026-01-02T00:00:00Z');
const longAgo = new Date(NOW - 2 * EXP).toISOString();
const justNow = new Date(NOW - 1000).toISOString();

function info(over: Partial<UploadInfo> = {}): UploadInfo {
  return { version: 1, id: 'a', size: 10, partSize: 5 << 20, createdAt: longAgo, ...over };
}
const found = (over: Partial<Found> = {}): Found => ({
  id: 'a',
  uploadIds: [],
  marker: false,
  ...over,
});

describe('decide', () => {
  it('removes an expired multipart upload and aborts only the ones its info does not name', () => {
    const v = decide(found({ uploadIds: ['m1', 'm0'] }), info({ uploadId: 'm1' }), EXP, NOW);
    expect(v).toEqual({ fate: 'remove', abort: ['m0'] });
  });

  it('checks the object of an expired one-part upload before removing it', () => {
    expect(decide(found({ marker: true }), info(), EXP, NOW).fate).toBe('remove-unless-whole');
    // A partial records its completion in its info, so it is never taken as whole.
    const partial = info({ concat: { role: 'partial' } });
    expect(decide(found({ marker: true }), partial, EXP, NOW).fate).toBe('remove');
  });

  it('keeps a tombstone until its sealed id expires, then drops it and its multipart uploads', () => {
    const young = info({ terminated: true, createdAt: justNow });
    expect(decide(found(), young, EXP, NOW)).toEqual({ fate: 'keep', abort: [] });
    const old = info({ terminated: true });
    expect(decide(found({ uploadIds: ['m0'] }), old, EXP, NOW)).toEqual({
      fate: 'drop-tombstone',
      abort: ['m0'],
    });
  });

  it('removes a finished partial once old (only a final gives it a purpose)', () => {
    const done = info({ concat: { role: 'partial' }, completedAt: longAgo });
    expect(decide(found({ marker: true }), done, EXP, NOW).fate).toBe('remove');
  });

  it('keeps an upload created within the expiration whatever was found of it', () => {
    const young = info({ createdAt: justNow, uploadId: 'm1' });
    expect(decide(found({ uploadIds: ['m1'], marker: true }), young, EXP, NOW)).toEqual({
      fate: 'keep',
      abort: [],
    });
  });

  it('drops the marker of a finished upload, and never removes it', () => {
    const done = info({ uploadId: 'm1', completedAt: longAgo });
    expect(decide(found({ marker: true }), done, EXP, NOW).fate).toBe('drop-marker');
    expect(decide(found(), done, EXP, NOW).fate).toBe('keep');
  });

  it('takes what has no info for an orphan, and touches nothing when the info is unreadable', () => {
    expect(decide(found({ uploadIds: ['m1'], marker: true }), 'missing', EXP, NOW)).toEqual({
      fate: 'orphan',
      abort: ['m1'],
    });
    expect(decide(found({ uploadIds: ['m1'] }), 'unreadable', EXP, NOW)).toEqual({
      fate: 'keep',
      abort: [],
    });
  });

  it('dates things by S3: old only past the expiration, undated never', () => {
    expect(isOld(new Date(NOW - EXP - 1), EXP, NOW)).toBe(true);
    expect(isOld(new Date(NOW - EXP), EXP, NOW)).toBe(false);
    expect(isOld(undefined, EXP, NOW)).toBe(false);
  });
});

describe('PrefixWalk (the full pass)', () => {
  const old = new Date(NOW - 2 * EXP);
  const fresh = new Date(NOW - 1000);
  const walk = (keys: Array<[string, Date]>) => {
    const w = new PrefixWalk('p/', EXP, NOW);
    const sorted = [...keys].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return sorted.map(([k, d]) => w.next(k, d)).filter((v) => v !== undefined);
  };

  it('finds staged objects without info and infos without object, across look-alike ids', () => {
    const verdicts = walk([
      // X finished: object and info; staged leftovers of X have an info.
      ['p/X', old],
      ['p/X.info', old],
      ['p/X.seg.000000000000000', old],
      // "X-a" sorts between X and X.info: unfinished (no object), with staging.
      ['p/X-a.info', old],
      ['p/X-a.pend.t.00001', old],
      // Y lost its info: its staging is orphaned, except what is too young.
      ['p/Y.seg.000000000000000', old],
      ['p/Y.unv.00001-00002', old],
      ['p/Y.seg.000000000000010', fresh],
      // Z is unfinished but too young to look at.
      ['p/Z.info', fresh],
      // Not ours, or not staged keys: never touched.
      ['p/Y.txt', old],
      ['p/.open/X-a', old],
      ['p/.sweep', old],
    ]);
    expect(verdicts).toEqual([
      { kind: 'unfinished-info', id: 'X-a' },
      { kind: 'orphan-staged', key: 'p/Y.seg.000000000000000' },
      { kind: 'orphan-staged', key: 'p/Y.unv.00001-00002' },
    ]);
  });

  it('tells an info from its neighbours deep in a chain of ids that prefix each other', () => {
    const verdicts = walk([
      ['p/A', old],
      ['p/A-b', old],
      ['p/A-b-c.info', old],
      ['p/A-b.info', old],
      ['p/A.info', old],
      ['p/A.seg.000000000000000', old],
      ['p/A-b-c.seg.000000000000000', old],
    ]);
    // A-b-c has no object: unfinished; its segment sorts after its info, so it has one.
    expect(verdicts).toEqual([{ kind: 'unfinished-info', id: 'A-b-c' }]);
  });
});
