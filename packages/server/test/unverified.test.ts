import { parseStagingKey, pendingKey, segmentKey, unverifiedKey } from '../src/s3/keys.js';
import { settleRanges } from '../src/s3/staging/marks.js';

const mark = (from: number, to: number) => ({ key: `k${from}-${to}`, from, to, generation: 0 });

describe('settleRanges', () => {
  it('drops marks wholly at or below upTo', () => {
    expect(settleRanges([mark(3, 5)], 5)).toEqual({ add: [], drop: [mark(3, 5)] });
  });
  it('shrinks a mark reaching past upTo to what lies above it', () => {
    expect(settleRanges([mark(3, 9)], 5)).toEqual({
      add: [{ from: 6, to: 9 }],
      drop: [mark(3, 9)],
    });
  });
  it('leaves marks above upTo alone', () => {
    expect(settleRanges([mark(7, 9), mark(2, 4)], 5)).toEqual({
      add: [],
      drop: [mark(2, 4)],
    });
  });
});

describe('staging keys', () => {
  it('tell segments, pending parts and marks apart, and nothing else', () => {
    const p = 'up/';
    expect(parseStagingKey(p, 'abc', segmentKey(p, 'abc', 42, 0))).toEqual({
      kind: 'segment',
      offset: 42,
      generation: 0,
    });
    expect(parseStagingKey(p, 'abc', segmentKey(p, 'abc', 42, 31))).toEqual({
      kind: 'segment',
      offset: 42,
      generation: 31,
    });
    expect(parseStagingKey(p, 'abc', pendingKey(p, 'abc', 'tok', 3))).toEqual({
      kind: 'pending',
    });
    expect(parseStagingKey(p, 'abc', unverifiedKey(p, 'abc', 7, 12, 0))).toEqual({
      kind: 'unverified',
      from: 7,
      to: 12,
      generation: 0,
    });
    expect(parseStagingKey(p, 'abc', unverifiedKey(p, 'abc', 7, 12, 5))).toEqual({
      kind: 'unverified',
      from: 7,
      to: 12,
      generation: 5,
    });
    // A generation that is not the padded width is not a key of ours.
    expect(parseStagingKey(p, 'abc', 'up/abc.seg.000000000000042.5')).toBeUndefined();
    expect(parseStagingKey(p, 'abc', 'up/abc.info')).toBeUndefined();
    expect(parseStagingKey(p, 'abc', 'up/abc.unv.7-12')).toBeUndefined();
    expect(parseStagingKey(p, 'abc', unverifiedKey(p, 'abcd', 1, 2, 0))).toBeUndefined();
  });
});
