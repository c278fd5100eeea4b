// Authentication and ownership through the CLI (issue 21, must-shows 1 and 2) on the test
// RGW: --jwt-secret (HS256 tokens made here with jose); another owner's upload answers
// exactly what a missing one does; a token that expires mid-upload gets 401 and a fresh
// one resumes the upload to an exact object.
import { randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
import { as, bearerToken, offsetAs, patchAs, TEST_JWT_SECRET } from './helpers/bearer.js';
import {
  type Backend,
  type CliServer,
  comparableAnswer,
  idOf,
  s3Backend,
  sha256Hex,
  startCli,
  tus,
} from './helpers/server.js';

const SECRET = TEST_JWT_SECRET;
const KiB = 1024;

const token = (sub: string, o: { tenant?: string; exp?: number } = {}) => bearerToken(sub, o);

async function create(bearer: string, base: string, size: number, headers = {}): Promise<string> {
  const res = await as(bearer, base, 'POST', { 'Upload-Length': String(size), ...headers });
  if (res.status !== 201) throw new Error(`create: ${res.status} ${await res.text()}`);
  return new URL(res.headers.get('location') ?? '', base).toString();
}

describe('CLI with --jwt-secret on S3', () => {
  let backend: Backend;
  let server: CliServer;
  let alice: string;
  let bob: string;

  beforeAll(async () => {
    backend = await s3Backend('auth/');
    server = await startCli([...backend.cliArgs, '--jwt-secret', SECRET]);
    alice = await token('alice');
    bob = await token('bob');
  });

  afterAll(async () => {
    await server?.stop();
    await backend?.cleanup();
  });

  it('says on start-up how it authenticates', () => {
    expect(server.output()).toContain('auth: Bearer JWT (HS256), owner = sub, tenant = tenant');
  });

  it('answers 401 with WWW-Authenticate to a missing or invalid token on every method', async () => {
    const url = await create(alice, server.url, 10);
    const forged = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('alice')
      .sign(new TextEncoder().encode('another-secret-another-secret-another'));
    for (const bearer of [undefined, forged, 'not.a.jwt']) {
      for (const [target, method] of [
        [server.url, 'POST'],
        [url, 'HEAD'],
        [url, 'PATCH'],
        [url, 'DELETE'],
      ] as const) {
        const res = await as(bearer, target, method, {
          'Upload-Length': '10',
          'Upload-Offset': '0',
          'Content-Type': 'application/offset+octet-stream',
        });
        expect([method, res.status]).toEqual([method, 401]);
        expect(res.headers.get('www-authenticate')).toBe('Bearer');
        expect((await res.text()).trim().split('\n')).toHaveLength(1);
      }
    }
    // A CORS preflight carries no credentials and is answered.
    expect((await tus(server.url, 'OPTIONS')).status).toBe(204);
    expect(await offsetAs(alice, url)).toBe(0);
  });

  it("answers another owner's upload exactly as a missing one, on every method", async () => {
    const data = randomBytes(300 * KiB);
    const url = await create(alice, server.url, data.length);
    expect((await patchAs(alice, url, 0, data.subarray(0, 100 * KiB))).status).toBe(204);
    const missing = new URL(`${randomBytes(16).toString('hex')}`, `${server.url}/`).toString();
    const chunk = data.subarray(100 * KiB, 110 * KiB);
    const tries: Array<(target: string) => Promise<Response>> = [
      (t) => as(bob, t, 'HEAD'),
      (t) => patchAs(bob, t, 100 * KiB, chunk),
      (t) => as(bob, t, 'DELETE'),
    ];
    for (const attempt of tries) {
      const theirs = await comparableAnswer(await attempt(url));
      const none = await comparableAnswer(await attempt(missing));
      expect(theirs.status).toBe(404);
      expect(theirs).toEqual(none);
    }
    // Nothing of Alice's upload moved; she finishes it.
    expect(await offsetAs(alice, url)).toBe(100 * KiB);
    const rest = await patchAs(alice, url, 100 * KiB, data.subarray(100 * KiB));
    expect(rest.status).toBe(204);
    expect(await backend.sha256Of(idOf(url))).toBe(sha256Hex(data));
    // Her own DELETE works.
    expect((await as(alice, url, 'DELETE')).status).toBe(204);
    expect((await as(alice, url, 'HEAD')).status).toBe(404);
  });

  it("refuses a final naming another owner's partial as if it were missing; the partial stays", async () => {
    const partial = async (bearer: string, bytes: Buffer) => {
      const url = await create(bearer, server.url, bytes.length, { 'Upload-Concat': 'partial' });
      expect((await patchAs(bearer, url, 0, bytes)).status).toBe(204);
      return url;
    };
    const a = randomBytes(20 * KiB);
    const b = randomBytes(30 * KiB);
    const ua = await partial(alice, a);
    const ub = await partial(bob, b);
    const missing = new URL(`${randomBytes(16).toString('hex')}`, `${server.url}/`).toString();
    const final = (bearer: string, urls: string[]) =>
      as(bearer, server.url, 'POST', { 'Upload-Concat': `final;${urls.join(' ')}` });
    const theirs = await comparableAnswer(await final(alice, [ua, ub]));
    const none = await comparableAnswer(await final(alice, [ua, missing]));
    expect(theirs.status).toBe(404);
    expect(theirs.body.replace(idOf(ub), 'ID')).toBe(none.body.replace(idOf(missing), 'ID'));
    // Only the body's id differs, so its length may not (both ids are 32 hex digits).
    expect(theirs.headers).toEqual(none.headers);
    // Bob's partial is intact: his own final of it is exact.
    expect(await offsetAs(bob, ub)).toBe(b.length);
    const ok = await final(bob, [ub]);
    expect(ok.status).toBe(201);
    const id = idOf(new URL(ok.headers.get('location') ?? '', server.url).toString());
    expect(await backend.sha256Of(id)).toBe(sha256Hex(b));
    // And Alice's own final of her partial works.
    const mine = await final(alice, [ua]);
    expect(mine.status).toBe(201);
  });

  it('answers 401 once a token expires mid-upload; a fresh token resumes it exactly', async () => {
    const data = randomBytes(3 * 1024 * KiB);
    const exp = Math.floor(Date.now() / 1000) + 3;
    const short = await token('carol', { exp });
    const url = await create(short, server.url, data.length);
    expect((await patchAs(short, url, 0, data.subarray(0, 1024 * KiB))).status).toBe(204);
    // jose refuses a token at its exp second.
    await new Promise((r) => setTimeout(r, Math.max(0, exp * 1000 - Date.now()) + 1100));
    const late = await patchAs(short, url, 1024 * KiB, data.subarray(1024 * KiB, 2048 * KiB));
    expect(late.status).toBe(401);
    expect(late.headers.get('www-authenticate')).toBe('Bearer');
    expect(await late.text()).toBe('invalid or expired token\n');
    const fresh = await token('carol');
    expect(await offsetAs(fresh, url)).toBe(1024 * KiB);
    expect((await patchAs(fresh, url, 1024 * KiB, data.subarray(1024 * KiB))).status).toBe(204);
    expect(await offsetAs(fresh, url)).toBe(data.length);
    expect(await backend.sha256Of(idOf(url))).toBe(sha256Hex(data));
  });
});

describe('CLI without an auth flag', () => {
  it('runs open and says so', async () => {
    const backend = await s3Backend('open/');
    const server = await startCli(backend.cliArgs);
    try {
      expect(server.output()).toContain('auth: none, the server is open');
      const url = await create('ignored', server.url, 4);
      expect((await tus(url, 'HEAD')).status).toBe(200);
    } finally {
      await server.stop();
      await backend.cleanup();
    }
  });
});

describe('CLI quotas per tenant (and --no-delete-finished) on S3', () => {
  let backend: Backend;
  let server: CliServer;
  const args = () => [
    ...backend.cliArgs,
    '--jwt-secret',
    SECRET,
    '--quota-max-unfinished-uploads',
    '2',
    '--quota-max-upload-size',
    '64MiB',
    '--no-delete-finished',
  ];

  beforeAll(async () => {
    backend = await s3Backend('quota/');
    server = await startCli(args());
  });

  afterAll(async () => {
    await server?.stop();
    await backend?.cleanup();
  });

  it("refuses a tenant's (N+1)th unfinished upload with 429, other tenants unaffected", async () => {
    const u1 = await token('u1', { tenant: 'acme' });
    const u2 = await token('u2', { tenant: 'acme' });
    const other = await token('o1', { tenant: 'other' });
    // One upload without a multipart upload (one part), one with: both count.
    const small = await create(u1, server.url, 10);
    await create(u2, server.url, 20 * 1024 * KiB);
    const third = await as(u1, server.url, 'POST', { 'Upload-Length': '5' });
    expect(third.status).toBe(429);
    expect(await third.text()).toBe('this tenant holds 2 unfinished uploads, its limit\n');
    // Another tenant has its own count.
    await create(other, server.url, 5);
    await create(other, server.url, 5);
    expect((await as(other, server.url, 'POST', { 'Upload-Length': '5' })).status).toBe(429);
    // Counted from S3: a restarted server refuses the same.
    await server.stop();
    server = await startCli(args());
    expect((await as(u2, server.url, 'POST', { 'Upload-Length': '5' })).status).toBe(429);
    // A finished upload no longer counts.
    const url = new URL(new URL(small).pathname, server.url).toString();
    expect((await patchAs(u1, url, 0, randomBytes(10))).status).toBe(204);
    await create(u1, server.url, 5);
    expect((await as(u1, server.url, 'POST', { 'Upload-Length': '5' })).status).toBe(429);
  });

  it('refuses an upload over the largest size with 413', async () => {
    const t = await token('big', { tenant: 'big' });
    const res = await as(t, server.url, 'POST', { 'Upload-Length': String(64 * 1024 * KiB + 1) });
    expect(res.status).toBe(413);
    expect(await res.text()).toBe(
      "Upload-Length exceeds this tenant's largest upload of 67108864 bytes\n",
    );
  });

  it('refuses DELETE of a finished upload with --no-delete-finished; an unfinished one goes', async () => {
    const t = await token('del', { tenant: 'del' });
    const done = await create(t, server.url, 4);
    expect((await patchAs(t, done, 0, randomBytes(4))).status).toBe(204);
    const refused = await as(t, done, 'DELETE');
    expect(refused.status).toBe(400);
    expect(await refused.text()).toBe('Cannot terminate an already completed upload\n');
    expect(await offsetAs(t, done)).toBe(4);
    const open = await create(t, server.url, 4);
    expect((await as(t, open, 'DELETE')).status).toBe(204);
  });
});
