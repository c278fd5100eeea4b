import type { Logger } from 'pino';
import { corsHeaders, corsPolicy, isPreflight, OPEN_CORS } from '../src/front/cors.js';
import { answerFailure } from '../src/front/error-response.js';
import { requestIdOf, requestRecord, uploadIdOf } from '../src/ops/request-log.js';

describe('corsPolicy', () => {
  it('refuses * with credentials, * inside a list and an empty list', () => {
    expect(() => corsPolicy('*', true)).toThrow(/credentials need a list/);
    expect(() => corsPolicy(['https://a.test', '*'])).toThrow(/alone/);
    expect(() => corsPolicy([' '])).toThrow(/empty/);
    expect(corsPolicy(['https://a.test'], true)).toEqual({
      origins: ['https://a.test'],
      credentials: true,
    });
  });
});

describe('corsHeaders', () => {
  const listed = corsPolicy(['https://app.test', 'http://127.0.0.1:5173'], true);

  it('answers any origin with * and no Vary when open', () => {
    const h = corsHeaders(OPEN_CORS, 'https://evil.test', false);
    expect(h['Access-Control-Allow-Origin']).toBe('*');
    expect(h['Access-Control-Allow-Credentials']).toBeUndefined();
    expect(h.Vary).toBeUndefined();
    expect(h['Access-Control-Expose-Headers']).toMatch(/Upload-Offset.*X-Request-Id/);
  });

  it('echoes a listed origin with credentials and Vary: Origin', () => {
    const h = corsHeaders(listed, 'http://127.0.0.1:5173', false);
    expect(h['Access-Control-Allow-Origin']).toBe('http://127.0.0.1:5173');
    expect(h['Access-Control-Allow-Credentials']).toBe('true');
    expect(h.Vary).toBe('Origin');
  });

  it('gives an unlisted origin (or none) no Allow-Origin and no credentials', () => {
    for (const origin of ['https://evil.test', 'https://app.test.evil', undefined]) {
      const h = corsHeaders(listed, origin, false);
      expect(h['Access-Control-Allow-Origin']).toBeUndefined();
      expect(h['Access-Control-Allow-Credentials']).toBeUndefined();
      expect(h.Vary).toBe('Origin');
    }
  });

  it('answers a preflight with methods, the headers tus and tus-s3 clients send, max age', () => {
    const h = corsHeaders(listed, 'https://app.test', true);
    expect(h['Access-Control-Allow-Methods']).toContain('PATCH');
    for (const name of ['Upload-Offset', 'Tus-Resumable', 'Authorization', 'Repr-Digest']) {
      expect(h['Access-Control-Allow-Headers']).toContain(name);
    }
    expect(Number(h['Access-Control-Max-Age'])).toBeGreaterThan(0);
    expect(corsHeaders(listed, 'https://app.test', false)['Access-Control-Allow-Methods']).toBe(
      undefined,
    );
  });

  it('takes a test function as the list', () => {
    const p = corsPolicy((o) => o.endsWith('.app.test'));
    expect(corsHeaders(p, 'https://x.app.test', false)['Access-Control-Allow-Origin']).toBe(
      'https://x.app.test',
    );
    expect(corsHeaders(p, 'https://app.test', false)['Access-Control-Allow-Origin']).toBe(
      undefined,
    );
  });

  it('tells a preflight from a tus discovery OPTIONS', () => {
    expect(isPreflight('OPTIONS', 'PATCH')).toBe(true);
    expect(isPreflight('OPTIONS', undefined)).toBe(false);
    expect(isPreflight('PATCH', 'PATCH')).toBe(false);
  });
});

describe('request ids and log records', () => {
  it('keeps a safe client id and replaces anything else', () => {
    expect(requestIdOf('abc-123_x.y:z')).toBe('abc-123_x.y:z');
    expect(requestIdOf(['first', 'second'])).toBe('first');
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
    for (const bad of [undefined, null, '', 'a b', 'x'.repeat(129), 'line\nbreak', 'é']) {
      expect(requestIdOf(bad)).toMatch(uuid);
    }
    expect(requestIdOf(undefined)).not.toBe(requestIdOf(undefined));
  });

  it('names the upload from the path or a creation Location', () => {
    expect(uploadIdOf('/files/abc')).toBe('abc');
    expect(uploadIdOf('/files/', 'http://h/files/new%20id')).toBe('new id');
    expect(uploadIdOf('/files/%E0')).toBe('%E0');
  });

  it('records method, upload, owner, status, bytes and duration', () => {
    const r = requestRecord(
      {
        requestId: 'r1',
        method: 'PATCH',
        path: '/files/u1',
        status: 204,
        received: 42,
        startedAt: 1000,
        owner: 'alice',
      },
      1250.4,
    );
    expect(r).toEqual({
      requestId: 'r1',
      method: 'PATCH',
      upload: 'u1',
      owner: 'alice',
      status: 204,
      bytes: 42,
      ms: 250,
    });
    const refused = requestRecord(
      { requestId: 'r2', method: 'POST', path: '/files', status: 413, received: 0, startedAt: 0 },
      1,
    );
    expect(refused.upload).toBeUndefined();
  });
});

describe('failure logs', () => {
  it('carry the request id of the failed request', () => {
    const seen: Array<Record<string, unknown>> = [];
    const log = { error: (o: Record<string, unknown>) => seen.push(o) } as unknown as Logger;
    const request = new Request('http://h/files/u9', {
      method: 'PATCH',
      headers: { 'X-Request-Id': 'req-7' },
    });
    const answer = answerFailure(new Error('boom'), request, log);
    expect(answer.status_code).toBe(500);
    expect(seen[0]).toMatchObject({ method: 'PATCH', id: 'u9', requestId: 'req-7' });
  });
});
