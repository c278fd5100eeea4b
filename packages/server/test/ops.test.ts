import type { IncomingMessage, ServerResponse } from 'node:http';
import { S3Client } from '@aws-sdk/client-s3';
import { cachedReadiness, probeDependencies, type Readiness } from '../src/ops/health.js';
import { answerOps } from '../src/ops/listener.js';
import {
  acknowledgedBytes,
  offsetOf,
  operationOf,
  s3StatusOf,
  TusMetrics,
} from '../src/ops/metrics.js';

describe('acknowledgedBytes', () => {
  it('a 204 PATCH: the offset it moved', () => {
    const f = { method: 'PATCH', status: 204, received: 9, requestOffset: 10, responseOffset: 19 };
    expect(acknowledgedBytes(f)).toBe(9);
  });
  it('a 201 creation-with-upload: the offset its body reached', () => {
    expect(acknowledgedBytes({ method: 'POST', status: 201, received: 5, responseOffset: 5 })).toBe(
      5,
    );
  });
  it('a refusal, a HEAD or an answer without offset: nothing', () => {
    expect(
      acknowledgedBytes({
        method: 'PATCH',
        status: 409,
        received: 0,
        requestOffset: 0,
        responseOffset: 7,
      }),
    ).toBe(0);
    expect(acknowledgedBytes({ method: 'HEAD', status: 200, received: 0, responseOffset: 7 })).toBe(
      0,
    );
    expect(acknowledgedBytes({ method: 'PATCH', status: 204, received: 3, requestOffset: 0 })).toBe(
      0,
    );
  });
});

describe('labels', () => {
  it('operation names drop Command', () => {
    expect(operationOf('UploadPartCommand')).toBe('UploadPart');
    expect(operationOf(undefined)).toBe('unknown');
  });
  it('an S3 status: the answer, the error status, or error', () => {
    expect(s3StatusOf({ response: { statusCode: 200 } })).toBe('200');
    expect(s3StatusOf(undefined, { $metadata: { httpStatusCode: 503 } })).toBe('503');
    expect(s3StatusOf(undefined, new Error('ECONNRESET'))).toBe('error');
  });
  it('offsets: non-negative integers only', () => {
    expect(offsetOf('12')).toBe(12);
    expect(offsetOf(['3'])).toBe(3);
    expect(offsetOf('-1')).toBeUndefined();
    expect(offsetOf('x')).toBeUndefined();
    expect(offsetOf(null)).toBeUndefined();
  });
});

describe('TusMetrics', () => {
  it('counts requests, bytes and the budget read at scrape time', async () => {
    const m = new TusMetrics();
    m.request({ method: 'PATCH', status: 204, received: 4, requestOffset: 0, responseOffset: 4 });
    m.request({ method: 'PATCH', status: 409, received: 0, requestOffset: 9 });
    m.expired(2);
    const budget = { held: 0, waiting: 0 };
    m.watchBudget(budget);
    budget.held = 2 * 1024 * 1024;
    const text = await m.registry.metrics();
    expect(text).toContain('tus_requests_total{method="PATCH",status="204"} 1');
    expect(text).toContain('tus_requests_total{method="PATCH",status="409"} 1');
    expect(text).toContain('tus_bytes_received_total 4');
    expect(text).toContain('tus_bytes_acknowledged_total 4');
    expect(text).toContain('tus_uploads_total{event="expired"} 2');
    expect(text).toContain('tus_part_memory_bytes 2097152');
  });

  it('times lock acquisition and keeps the locker its class', async () => {
    class L {
      newLock() {
        return { lock: async () => {}, unlock: async () => {} };
      }
    }
    const m = new TusMetrics();
    const timed = m.timeLocks(new L() as never) as unknown as L;
    expect(timed).toBeInstanceOf(L);
    await timed.newLock().lock();
    expect(await m.registry.metrics()).toContain('tus_lock_wait_seconds_count 1');
  });

  it('instruments one S3 client for two servers (instances sharing a client)', () => {
    const client = new S3Client({ region: 'us-east-1' });
    new TusMetrics().instrumentS3(client);
    expect(() => new TusMetrics().instrumentS3(client)).not.toThrow();
    client.destroy();
  });
});

describe('readiness', () => {
  it('caches a verdict and shares one probe among concurrent callers', async () => {
    let t = 0;
    let probes = 0;
    const check = cachedReadiness(
      async () => {
        probes++;
        return { ok: true, reason: 'ready' };
      },
      1000,
      () => t,
    );
    await Promise.all([check(), check()]);
    expect(probes).toBe(1);
    t = 999;
    await check();
    expect(probes).toBe(1);
    t = 1000;
    await check();
    expect(probes).toBe(2);
  });

  it('a silent dependency is unready after the timeout, in one line', async () => {
    const check = probeDependencies({ redis: { ping: () => new Promise(() => {}) }, timeout: 50 });
    expect(await check()).toEqual({ ok: false, reason: 'redis: no answer within 50 ms' });
  });

  it('a failing dependency says why in one line', async () => {
    const check = probeDependencies({
      redis: { ping: () => Promise.reject(new Error('ECONNREFUSED\nstack')) },
    });
    expect(await check()).toEqual({ ok: false, reason: 'redis: ECONNREFUSED' });
  });
});

describe('the operations listener', () => {
  const answer = async (url: string, verdict: Readiness, method = 'GET') => {
    const res = {
      statusCode: 0,
      headers: {} as Record<string, string>,
      body: '',
      headersSent: false,
      setHeader(k: string, v: string) {
        this.headers[k.toLowerCase()] = v;
      },
      end(b: string) {
        this.body = b;
      },
    };
    await answerOps(
      { registry: new TusMetrics().registry, ready: async () => verdict },
      { url, method } as IncomingMessage,
      res as unknown as ServerResponse,
    );
    return res;
  };
  it('/readyz answers 200 or 503 with the reason; /healthz 200; others 404 or 405', async () => {
    expect((await answer('/readyz', { ok: true, reason: 'ready' })).statusCode).toBe(200);
    const down = await answer('/readyz', { ok: false, reason: 's3: timeout' });
    expect([down.statusCode, down.body]).toEqual([503, 's3: timeout\n']);
    expect((await answer('/healthz', { ok: false, reason: 'x' })).statusCode).toBe(200);
    const metrics = await answer('/metrics', { ok: true, reason: 'ready' });
    expect(metrics.body).toContain('# TYPE tus_requests_total counter');
    expect((await answer('/nope', { ok: true, reason: 'ready' })).statusCode).toBe(404);
    expect((await answer('/metrics', { ok: true, reason: 'ready' }, 'POST')).statusCode).toBe(405);
  });
});
