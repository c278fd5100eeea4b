// Ownership on the local file store through the CLI (issue 21): no S3 flags, --jwt-secret
// (HS256 tokens made here with jose). Another owner's upload answers exactly what a missing
// one does on every method; own uploads work; an open server stays open.
import { randomBytes } from 'node:crypto';
import { as, bearerToken, offsetAs, patchAs, TEST_JWT_SECRET } from './helpers/bearer.js';
import {
  type Backend,
  type CliServer,
  comparableAnswer,
  fileBackend,
  idOf,
  sha256Hex,
  startCli,
} from './helpers/server.js';

const SECRET = TEST_JWT_SECRET;
const KiB = 1024;

const token = (sub: string, tenant?: string) => bearerToken(sub, { tenant });

async function create(bearer: string | undefined, base: string, size?: number): Promise<string> {
  const length =
    size === undefined ? { 'Upload-Defer-Length': '1' } : { 'Upload-Length': `${size}` };
  const res = await as(bearer, base, 'POST', { ...length, 'Upload-Metadata': 'filename YS50eHQ=' });
  if (res.status !== 201) throw new Error(`create: ${res.status} ${await res.text()}`);
  return new URL(res.headers.get('location') ?? '', base).toString();
}

describe('CLI with --jwt-secret on the file store', () => {
  let backend: Backend;
  let server: CliServer;
  let alice: string;
  let bob: string;

  beforeAll(async () => {
    backend = await fileBackend();
    server = await startCli([...backend.cliArgs, '--jwt-secret', SECRET]);
    alice = await token('alice');
    bob = await token('bob');
  });

  afterAll(async () => {
    await server?.stop();
    await backend?.cleanup();
  });

  it("answers another owner's upload exactly as a missing one, on every method", async () => {
    expect(server.output()).toContain('local file store');
    const data = randomBytes(300 * KiB);
    const url = await create(alice, server.url, data.length);
    const deferred = await create(alice, server.url);
    expect((await patchAs(alice, url, 0, data.subarray(0, 100 * KiB))).status).toBe(204);
    const missing = new URL(`${randomBytes(16).toString('hex')}`, `${server.url}/`).toString();
    const chunk = data.subarray(100 * KiB, 110 * KiB);
    const tries: Array<[string, (target: string) => Promise<Response>]> = [
      ['HEAD', (t) => as(bob, t, 'HEAD')],
      ['GET', (t) => as(bob, t, 'GET')],
      ['PATCH', (t) => patchAs(bob, t, 100 * KiB, chunk)],
      ['DELETE', (t) => as(bob, t, 'DELETE')],
    ];
    for (const [method, attempt] of tries) {
      const theirs = await comparableAnswer(await attempt(url));
      const none = await comparableAnswer(await attempt(missing));
      expect([method, theirs.status]).toEqual([method, 404]);
      expect([method, theirs]).toEqual([method, none]);
    }
    // A PATCH declaring the length of her deferred upload is refused the same way.
    const declare = (t: string) => patchAs(bob, t, 0, Buffer.alloc(0), { 'Upload-Length': '5' });
    const theirs = await comparableAnswer(await declare(deferred));
    expect(theirs.status).toBe(404);
    expect(theirs).toEqual(await comparableAnswer(await declare(missing)));
    // Nothing of Alice's uploads moved; she finishes them.
    expect(await offsetAs(alice, url)).toBe(100 * KiB);
    const head = await as(alice, deferred, 'HEAD');
    expect(head.headers.get('upload-defer-length')).toBe('1');
    // HEAD tells her metadata, never who owns the upload.
    expect(head.headers.get('upload-metadata')).toBe('filename YS50eHQ=');
    const rest = await patchAs(alice, url, 100 * KiB, data.subarray(100 * KiB));
    expect(rest.status).toBe(204);
    expect(await backend.sha256Of(idOf(url))).toBe(sha256Hex(data));
    expect(
      (await patchAs(alice, deferred, 0, Buffer.from('hello'), { 'Upload-Length': '5' })).status,
    ).toBe(204);
    expect(await offsetAs(alice, deferred)).toBe(5);
    // Her own DELETE works.
    expect((await as(alice, url, 'DELETE')).status).toBe(204);
    expect((await as(alice, url, 'HEAD')).status).toBe(404);
  });

  it('lets each owner use their own uploads', async () => {
    const mine = await create(bob, server.url, 4);
    expect((await patchAs(bob, mine, 0, Buffer.from('abcd'))).status).toBe(204);
    expect(await offsetAs(bob, mine)).toBe(4);
    expect((await as(alice, mine, 'HEAD')).status).toBe(404);
  });
});

describe('CLI without an auth flag on the file store', () => {
  it('runs open: anyone uses any upload', async () => {
    const backend = await fileBackend();
    const server = await startCli(backend.cliArgs);
    try {
      expect(server.output()).toContain('auth: none, the server is open');
      const url = await create(undefined, server.url, 4);
      expect((await patchAs(undefined, url, 0, Buffer.from('abcd'))).status).toBe(204);
      expect(await offsetAs(undefined, url)).toBe(4);
      expect((await as(undefined, url, 'DELETE')).status).toBe(204);
    } finally {
      await server.stop();
      await backend.cleanup();
    }
  });
});

describe('CLI quotas per tenant on the file store', () => {
  it("refuses a tenant's (N+1)th unfinished upload with 429, counted again after a restart", async () => {
    const backend = await fileBackend();
    const args = [
      ...backend.cliArgs,
      '--jwt-secret',
      SECRET,
      '--quota-max-unfinished-uploads',
      '2',
    ];
    let server = await startCli(args);
    try {
      const u1 = await token('u1', 'acme');
      const other = await token('o1', 'other');
      const first = await create(u1, server.url, 4);
      await create(u1, server.url, 4);
      const third = await as(u1, server.url, 'POST', { 'Upload-Length': '4' });
      expect(third.status).toBe(429);
      expect(await third.text()).toBe('this tenant holds 2 unfinished uploads, its limit\n');
      await create(other, server.url, 4);
      await server.stop();
      server = await startCli(args);
      expect((await as(u1, server.url, 'POST', { 'Upload-Length': '4' })).status).toBe(429);
      // A finished upload no longer counts.
      const url = new URL(new URL(first).pathname, server.url).toString();
      expect((await patchAs(u1, url, 0, Buffer.from('abcd'))).status).toBe(204);
      await create(u1, server.url, 4);
    } finally {
      await server.stop();
      await backend.cleanup();
    }
  });
});
