import { parseCaps } from '../src/protocol/caps.js';
import { cachedCaps, capsCacheKey, forgetCaps, rememberCaps } from '../src/protocol/caps-cache.js';
import { blobSource } from '../src/sources/blob.js';
import { Upload, type UploadOptions } from '../src/upload.js';
import { bytes, FakeTusServer } from './fake-server.js';

const ENDPOINT = 'http://127.0.0.1:1/files';

function caps(extensions: string) {
  return parseCaps(new Headers({ 'Tus-Extension': extensions }));
}

describe('caps cache (pure)', () => {
  test('an answer is used until it is maxAge old, then asked again', () => {
    const scope = {};
    const key = capsCacheKey(ENDPOINT, {});
    rememberCaps(scope, key, caps('creation'), 1000);
    expect(cachedCaps(scope, key, 500, 1499)?.extensions.has('creation')).toBe(true);
    expect(cachedCaps(scope, key, 500, 1500)).toBeUndefined();
    // Gone for good once expired, whatever the next maxAge.
    expect(cachedCaps(scope, key, 10_000, 1400)).toBeUndefined();
  });

  test('kept per scope, URL and headers (names in any case and order)', () => {
    const a = {};
    const b = {};
    const key = capsCacheKey(ENDPOINT, { Authorization: 'x', 'X-Tenant': 't' });
    rememberCaps(a, key, caps('creation'), 0);
    expect(
      cachedCaps(a, capsCacheKey(ENDPOINT, { 'x-tenant': 't', authorization: 'x' }), 10, 1),
    ).toBeDefined();
    expect(cachedCaps(b, key, 10, 1)).toBeUndefined();
    expect(
      cachedCaps(a, capsCacheKey(ENDPOINT, { Authorization: 'y', 'X-Tenant': 't' }), 10, 1),
    ).toBeUndefined();
    expect(cachedCaps(a, capsCacheKey(`${ENDPOINT}/other`, {}), 10, 1)).toBeUndefined();
  });

  test('an unknown answer (OPTIONS failed) is not kept; forget drops one', () => {
    const scope = {};
    const key = capsCacheKey(ENDPOINT, undefined);
    rememberCaps(scope, key, { ...caps(''), known: false }, 0);
    expect(cachedCaps(scope, key, 10, 1)).toBeUndefined();
    rememberCaps(scope, key, caps('creation'), 0);
    forgetCaps(scope, key);
    expect(cachedCaps(scope, key, 10, 1)).toBeUndefined();
  });

  test('a clock that went back does not keep an answer alive', () => {
    const scope = {};
    const key = capsCacheKey(ENDPOINT, {});
    rememberCaps(scope, key, caps('creation'), 5000);
    expect(cachedCaps(scope, key, 60_000, 4000)).toBeUndefined();
  });
});

describe('uploads share a fresh OPTIONS answer', () => {
  function upload(server: FakeTusServer, o: Partial<UploadOptions> = {}) {
    const source = blobSource(new File([bytes(1500)], 'a.bin', { type: 'application/x-test' }));
    return new Upload(source, {
      endpoint: ENDPOINT,
      fetch: server.fetch,
      chunkSize: 1000,
      retry: { delays: [] },
      ...o,
    });
  }
  const methods = (server: FakeTusServer) => server.requests.map((q) => q.method);

  test('the second upload to an endpoint asks no OPTIONS', async () => {
    const server = new FakeTusServer();
    await upload(server).start();
    await upload(server).start();
    expect(methods(server)).toEqual(['OPTIONS', 'POST', 'PATCH', 'POST', 'PATCH']);
  });

  test('capsMaxAgeMs 0: every upload asks', async () => {
    const server = new FakeTusServer();
    await upload(server, { capsMaxAgeMs: 0 }).start();
    await upload(server, { capsMaxAgeMs: 0 }).start();
    expect(methods(server).filter((m) => m === 'OPTIONS')).toHaveLength(2);
  });

  test('other headers ask again', async () => {
    const server = new FakeTusServer();
    await upload(server, { headers: { Authorization: 'one' } }).start();
    await upload(server, { headers: { Authorization: 'two' } }).start();
    expect(methods(server).filter((m) => m === 'OPTIONS')).toHaveLength(2);
  });

  test('a failed upload drops the answer: the server may have changed', async () => {
    const server = new FakeTusServer();
    await upload(server).start();
    // The server stops taking bodies with the POST and the fresh answer says it still does:
    // the upload fails, and the next one asks again and sees the change.
    server.extensions = 'creation,termination';
    server.intercept = (req) =>
      req.method === 'POST' && req.bodySize > 0 ? { status: 400, body: 'no body here' } : undefined;
    await expect(upload(server).start()).rejects.toMatchObject({ status: 400 });
    server.requests.length = 0;
    await upload(server).start();
    expect(methods(server)).toEqual(['OPTIONS', 'POST', 'PATCH', 'PATCH']);
  });
});
