import { TusError } from '../src/errors.js';
import { decide, decideStatus } from '../src/policy.js';
import {
  backoffCeiling,
  backoffDelay,
  parseRetryDelays,
  RetryBudget,
  retryPolicy,
} from '../src/retry.js';

describe('backoff', () => {
  const p = retryPolicy({ baseDelayMs: 100, factor: 2, maxDelayMs: 1000, maxRetries: 6 });

  test('ceiling grows exponentially up to the cap', () => {
    expect([0, 1, 2, 3, 4, 5].map((a) => backoffCeiling(a, p))).toEqual([
      100, 200, 400, 800, 1000, 1000,
    ]);
  });

  test('full jitter: uniform between 0 and the ceiling', () => {
    expect(backoffDelay(3, p, () => 0)).toBe(0);
    expect(backoffDelay(3, p, () => 0.5)).toBe(400);
    expect(backoffDelay(3, p, () => 0.999999)).toBe(800);
  });

  test('explicit delays: one per retry, last repeats, capped', () => {
    const q = retryPolicy({ delays: [0, 50, 5000], maxDelayMs: 2000 });
    expect(q.maxRetries).toBe(3);
    expect([0, 1, 2, 7].map((a) => backoffCeiling(a, q))).toEqual([0, 50, 2000, 2000]);
  });

  test('rejects negative delays', () => {
    expect(() => retryPolicy({ delays: [-1] })).toThrow(RangeError);
  });
});

describe('RetryBudget', () => {
  test('is spent after maxRetries consecutive failures', () => {
    const b = new RetryBudget(retryPolicy({ baseDelayMs: 10, maxRetries: 3 }), () => 1 - 1e-9);
    expect([b.next(), b.next(), b.next(), b.next()]).toEqual([10, 20, 40, null]);
  });

  test('progress resets the budget and the backoff', () => {
    const b = new RetryBudget(retryPolicy({ baseDelayMs: 10, maxRetries: 2 }), () => 1 - 1e-9);
    expect(b.next()).toBe(10);
    expect(b.next()).toBe(20);
    b.progress();
    expect(b.attempts).toBe(0);
    expect(b.next()).toBe(10);
    expect(b.next()).toBe(20);
    expect(b.next()).toBeNull();
  });
});

describe('parseRetryDelays', () => {
  test('parses a comma list', () => {
    expect(parseRetryDelays('0, 1000,3000')).toEqual([0, 1000, 3000]);
  });
  test.each(['', 'a', '1,-2'])('rejects %p', (s) => {
    expect(() => parseRetryDelays(s)).toThrow(RangeError);
  });
});

describe('failure policy', () => {
  test.each([
    ['patch', 409, 'resync'],
    ['patch', 423, 'retry'],
    ['patch', 500, 'retry'],
    ['patch', 503, 'retry'],
    ['head', 502, 'retry'],
    ['create', 500, 'retry'],
    ['head', 404, 'restart'],
    ['head', 410, 'restart'],
    ['patch', 404, 'restart'],
    ['create', 404, 'fail'],
    ['patch', 413, 'shrink'],
    ['patch', 400, 'fail'],
    ['create', 403, 'fail'],
    ['head', 401, 'fail'],
    ['patch', 460, 'resend'],
    ['create', 460, 'resend'],
    ['head', 460, 'fail'],
  ] as const)('%s %i -> %s', (phase, status, action) => {
    expect(decideStatus(phase, status).action).toBe(action);
  });

  test('network errors and stalls are retried; source errors fail', () => {
    expect(decide('patch', new TusError('x', { kind: 'network' })).action).toBe('retry');
    expect(decide('head', new TusError('x', { kind: 'stall' })).action).toBe('retry');
    expect(decide('patch', new TusError('x', { kind: 'source' })).action).toBe('fail');
    expect(decide('patch', new TusError('x', { kind: 'http', status: 409 })).action).toBe('resync');
  });
});
