// The front's pure hardening parts: which upload a request names, which targets and Host
// values it refuses, what a failure tells the client, which object types are served
// inline; and, through createTusServer on the fake S3, that a failure's details
// stay out of the answer while its Retry-After gets in.
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { TusError } from '../src/errors.js';
import { DEFAULT_MAX_CONCAT_PARTIALS, parseUploadConcat } from '../src/extensions/concatenation.js';
import { answerFailure, publicErrorOf } from '../src/front/error-response.js';
import {
  hostHeadersProblem,
  hostProblem,
  pathOfTarget,
  pathProblem,
  uploadIdOfPath,
  withoutQuery,
} from '../src/front/request-target.js';
import { silentLogger } from '../src/log.js';
import { contentDispositionOf, servedInline } from '../src/s3/object-headers.js';
import { createTusServer } from '../src/tus-server.js';
import { BUCKET, fakeS3 } from './helpers/store-harness.js';

describe('the upload a request names', () => {
  it('comes from the path alone', () => {
    expect(pathOfTarget('/files/A?/B')).toBe('/files/A');
    expect(pathOfTarget('/files/A#/B')).toBe('/files/A');
    expect(pathOfTarget('/files/A')).toBe('/files/A');
    expect(withoutQuery('http://h/files/A?x=/B#/C')).toBe('http://h/files/A');
    expect(withoutQuery('http://h/files/A')).toBe('http://h/files/A');
    expect(uploadIdOfPath('/files/a%2Db/')).toBe('a-b');
    expect(uploadIdOfPath('/files/%zz')).toBeUndefined();
  });
  it('refuses paths URL parsing would change or cannot decode', () => {
    expect(pathProblem('/files/0123abcd')).toBeUndefined();
    expect(pathProblem('/files/')).toBeUndefined();
    for (const bad of ['/files/A/../B', '/files/%2e%2e/B', '/files/A\\B', '/files/ä', 'files/A']) {
      expect(pathProblem(bad)).toMatch(/normal form|must be a path/);
    }
    expect(pathProblem('/files/%zz')).toBe('the URL path has a malformed percent-escape');
    expect(pathProblem(`/files/${'a'.repeat(3000)}`)).toMatch(/longer than/);
  });
});

describe('Host values', () => {
  it.each(['example.com', 'example.com:443', '127.0.0.1:1080', '[::1]:8080', 'my_svc', 'a.b.'])(
    'accepts %s',
    (host) => expect(hostProblem(host)).toBeUndefined(),
  );
  it.each([
    'a b',
    '',
    '[::1',
    '[1:::2]',
    'häst',
    'example.com/files',
    'example.com:99999',
    'a:b:c',
    'a'.repeat(256),
  ])('refuses %j', (host) => expect(hostProblem(host)).toBeDefined());
  it('checks forwarded hosts only when they are trusted', () => {
    const get = (h: Record<string, string>) => (n: string) => h[n];
    const forwarded = { host: 'ok', 'x-forwarded-host': 'a b', forwarded: 'host="x y"' };
    expect(hostHeadersProblem(get(forwarded), false)).toBeUndefined();
    expect(hostHeadersProblem(get(forwarded), true)).toMatch(/^bad X-Forwarded-Host header/);
    expect(hostHeadersProblem(get({ host: 'ok', forwarded: 'host="x y"' }), true)).toMatch(
      /^bad Forwarded host header/,
    );
    expect(hostHeadersProblem(get({}), true)).toBeUndefined();
    expect(hostHeadersProblem(get({ host: '' }), false)).toMatch(/^bad Host header/);
  });
});

describe('what a failure tells the client', () => {
  it('keeps a tus status and one line of reason, with Retry-After', () => {
    expect(publicErrorOf(new TusError(503, 'busy', 2.5))).toEqual({
      status_code: 503,
      body: 'busy\n',
      retryAfter: 3,
    });
    expect(publicErrorOf({ status_code: 400, body: '\nfirst\nsecond\n' })).toEqual({
      status_code: 400,
      body: 'first\n',
    });
  });
  it('gives nothing of an error without a tus status', () => {
    const sdk = Object.assign(new Error('Access Denied: bucket secret, key up/abc'), {
      name: 'AccessDenied',
      $metadata: { httpStatusCode: 403 },
    });
    expect(publicErrorOf(sdk)).toBeUndefined();
    expect(publicErrorOf({ status_code: 200, body: 'ok' })).toBeUndefined();
    expect(publicErrorOf('a string')).toBeUndefined();
    const answer = answerFailure(sdk, { method: 'PATCH', url: 'http://h/files/abc' }, silentLogger);
    expect(answer).toEqual({ status_code: 500, body: 'internal error\n' });
  });
  it('logs the internals with the method and upload id', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const log = pino({ level: 'warn' }, sink);
    answerFailure(
      new Error('connect ECONNREFUSED 127.0.0.1:9'),
      { method: 'PATCH', url: 'http://h/files/abc?x' },
      log,
    );
    const entry = JSON.parse(lines[0] ?? '{}');
    expect({ level: entry.level, method: entry.method, id: entry.id }).toEqual({
      level: 50,
      method: 'PATCH',
      id: 'abc',
    });
    expect(entry.err.message).toContain('ECONNREFUSED');
    // A client that went away is no server error: info, not error.
    const info = pino({ level: 'info' }, sink);
    const gone = Object.assign(new Error('aborted'), { code: 'ECONNRESET' });
    answerFailure(gone, { method: 'PATCH', url: 'http://h/files/abc' }, info);
    expect(JSON.parse(lines[1] ?? '{}').level).toBe(30);
  });
});

describe('which objects are served inline', () => {
  it('serves passive types inline, anything else as an attachment', () => {
    for (const t of [
      'image/png',
      'IMAGE/JPEG',
      'video/mp4',
      'audio/ogg',
      'text/plain; charset=utf-8',
    ]) {
      expect(servedInline(t)).toBe(true);
    }
    for (const t of [
      'text/html',
      'application/xhtml+xml',
      'image/svg+xml',
      'text/xml',
      'application/xml',
      'text/javascript',
      'application/javascript',
      'application/pdf',
      'multipart/x-mixed-replace',
      'video/x-foo+xml',
      'application/octet-stream',
      undefined,
    ]) {
      expect(servedInline(t)).toBe(false);
    }
  });
  it('lets an app allow types, by name, major type or all', () => {
    expect(servedInline('application/pdf', ['application/pdf'])).toBe(true);
    expect(servedInline('image/svg+xml', ['image/*'])).toBe(true);
    expect(servedInline('text/html', ['*'])).toBe(true);
    expect(servedInline('text/html', ['text/plain'])).toBe(false);
  });
  it('keeps the RFC 6266 filename in either disposition', () => {
    expect(contentDispositionOf({ filetype: 'text/html', filename: 'a "b".html' })).toBe(
      `attachment; filename="a _b_.html"; filename*=UTF-8''a%20%22b%22.html`,
    );
    expect(contentDispositionOf({ filetype: 'text/html', filename: 'a.html' }, ['text/html'])).toBe(
      `inline; filename="a.html"; filename*=UTF-8''a.html`,
    );
  });
});

describe('partials per final', () => {
  const finalOf = (n: number) =>
    `final;${Array.from({ length: n }, (_, i) => `/files/p${i}`).join(' ')}`;
  it('takes up to the cap and refuses one more with a one-line reason', () => {
    const ok = parseUploadConcat(finalOf(DEFAULT_MAX_CONCAT_PARTIALS), 'http://h/files', '/files');
    expect(ok.role === 'final' && ok.partials.length).toBe(DEFAULT_MAX_CONCAT_PARTIALS);
    expect(() => parseUploadConcat(finalOf(3), 'http://h/files', '/files', 2)).toThrow(
      'Upload-Concat: final names 3 partial uploads; this server takes at most 2',
    );
  });
});

describe('createTusServer answers failures', () => {
  // On the fake S3: no I/O outlives the tests.
  const tus = createTusServer({ s3: { bucket: BUCKET, client: fakeS3().client } });
  const post = (url = 'http://h.example/files') =>
    new Request(url, {
      method: 'POST',
      headers: { 'Tus-Resumable': '1.0.0', 'Upload-Length': '5' },
    });

  it('with Retry-After when the failure carries it', async () => {
    tus.datastore.create = async () => {
      throw new TusError(503, 'no memory for this upload now', 4);
    };
    const res = await tus.handle(post());
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('4');
    expect(await res.text()).toBe('no memory for this upload now\n');
  });
  it('without the internals of any other error, inside or in front of @tus/server', async () => {
    tus.datastore.create = async () => {
      throw new Error('AccessDenied: s3://secret-bucket/up/abc.info at 10.0.0.1:9000');
    };
    const res = await tus.handle(post());
    expect({ status: res.status, body: await res.text() }).toEqual({
      status: 500,
      body: 'internal error\n',
    });
    const badHost = await tus.handle(
      new Request('http://h.example/files', {
        method: 'POST',
        headers: { 'Tus-Resumable': '1.0.0', 'Upload-Length': '5', Host: 'a b' },
      }),
    );
    expect(badHost.status).toBe(400);
  });
  it('by the path alone, also through the Fetch API', async () => {
    const seen: string[] = [];
    tus.datastore.getUpload = async (id: string) => {
      seen.push(id);
      throw new TusError(404, 'no such upload');
    };
    const res = await tus.handle(
      new Request('http://h.example/files/A?/B', {
        method: 'HEAD',
        headers: { 'Tus-Resumable': '1.0.0' },
      }),
    );
    expect(res.status).toBe(404);
    expect(seen).toEqual(['A']);
  });
});
