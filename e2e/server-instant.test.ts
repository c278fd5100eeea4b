// Instant upload (秒传, issue 22) through the CLI on the test RGW, over raw HTTP, with
// Bearer JWT owners and tenants: alice and carol share tenant "acme", bob is tenant
// "other". Must-shows b..f (a, the 1 GiB one, is server-instant-big.test.ts):
//   b. a client with the digest and length but not the bytes never gets the object, and
//      the challenge it spent cannot be answered again;
//   c. another tenant with identical content uploads normally;
//   d. the creation answers for content the tenant has and content it has not are the
//      same (status, header names, body size); median timings printed;
//   e. so are the answers to a wrong proof for either;
//   f. an index entry is written only after a verified digest, and goes with DELETE.
import { createHash, randomBytes } from 'node:crypto';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { as, bearerToken, offsetAs, patchAs, TEST_JWT_SECRET } from './helpers/bearer.js';
import { removeDir, tmpDir } from './helpers/files.js';
import {
  answerShape,
  createInstant,
  locationOf,
  median,
  proofFor,
  provePatch,
  reprDigest,
} from './helpers/instant.js';
import { listKeys, testS3Client } from './helpers/s3.js';
import { type Backend, type CliServer, idOf, s3Backend, startCli, tus } from './helpers/server.js';

const MiB = 1024 * 1024;
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const tenantSegment = (t: string) => createHash('sha256').update(t, 'utf8').digest('hex');

describe('instant upload through the CLI on S3', () => {
  let backend: Backend;
  let server: CliServer;
  let alice: string;
  let carol: string;
  let bob: string;
  const PREFIX = 'inst/';
  // Three parts of 5 MiB and a bit: a multipart upload.
  const data = randomBytes(10 * MiB + 12345);
  const hex = sha(data);
  const read = (from: number, to: number) => data.subarray(from, to);

  beforeAll(async () => {
    backend = await s3Backend(PREFIX);
    server = await startCli([
      ...backend.cliArgs,
      '--jwt-secret',
      TEST_JWT_SECRET,
      '--instant-upload',
      '--part-size',
      '5MiB',
    ]);
    alice = await bearerToken('alice', { tenant: 'acme' });
    carol = await bearerToken('carol', { tenant: 'acme' });
    bob = await bearerToken('bob', { tenant: 'other' });
  });

  afterAll(async () => {
    await server?.stop();
    await backend?.cleanup();
  });

  const bucket = () => backend.bucket as string;
  const entryKeys = async (tenant: string) =>
    listKeys(bucket(), `${PREFIX}.instant/${tenantSegment(tenant)}/`);
  const objectExists = async (url: string) =>
    testS3Client()
      .send(new HeadObjectCommand({ Bucket: bucket(), Key: `${PREFIX}${idOf(url)}` }))
      .then(
        () => true,
        () => false,
      );

  /** An ordinary upload of `bytes` (digest declared unless told), finished. */
  async function ordinary(bearer: string, bytes: Buffer, declare = true): Promise<string> {
    const res = await as(bearer, server.url, 'POST', {
      'Upload-Length': String(bytes.length),
      ...(declare ? { 'Repr-Digest': reprDigest(sha(bytes)) } : {}),
    });
    const url = locationOf(res, server.url);
    const done = await patchAs(bearer, url, 0, bytes);
    expect(done.status).toBe(204);
    expect(done.headers.get('upload-offset')).toBe(String(bytes.length));
    return url;
  }

  it('says so on start-up, and OPTIONS and CORS advertise it', async () => {
    expect(server.output()).toContain('instant upload: on, per tenant');
    const res = await tus(server.url, 'OPTIONS', {
      Origin: 'https://app.example',
      'Access-Control-Request-Method': 'POST',
    });
    expect(res.headers.get('tus-extension')?.split(',')).toContain('instant-upload');
    const allowed = res.headers.get('access-control-allow-headers') ?? '';
    expect(allowed).toContain('Upload-Instant');
    expect(allowed).toContain('Upload-Instant-Proof');
    expect(res.headers.get('access-control-expose-headers')).toContain('Upload-Instant-Challenge');
  });

  it('f: writes an entry only after a verified digest, and DELETE removes it', async () => {
    const bytes = randomBytes(200_000);
    const plain = await ordinary(alice, bytes, false);
    expect(await entryKeys('acme')).toEqual([]);
    const hashed = await ordinary(alice, bytes);
    expect(await entryKeys('acme')).toEqual([
      `${PREFIX}.instant/${tenantSegment('acme')}/${sha(bytes)}.${bytes.length}`,
    ]);
    // DELETE of the upload without a digest leaves it; of the one it names, removes it.
    expect((await as(alice, plain, 'DELETE')).status).toBe(204);
    expect(await entryKeys('acme')).toHaveLength(1);
    expect((await as(alice, hashed, 'DELETE')).status).toBe(204);
    expect(await entryKeys('acme')).toEqual([]);
  });

  it('f: a small file folded into one PutObject is indexed and serves an instant copy', async () => {
    const bytes = randomBytes(150_000);
    // Creation-with-upload of the whole file: one PutObject carries the info (no .info).
    const res = await as(
      alice,
      server.url,
      'POST',
      {
        'Upload-Length': String(bytes.length),
        'Repr-Digest': reprDigest(sha(bytes)),
        'Content-Type': 'application/offset+octet-stream',
      },
      bytes,
    );
    const source = locationOf(res, server.url);
    expect(res.headers.get('upload-offset')).toBe(String(bytes.length));
    expect(idOf(source)).toMatch(/^s[0-9a-f]{32}$/);
    expect(await listKeys(bucket(), `${PREFIX}${idOf(source)}`)).toEqual([
      `${PREFIX}${idOf(source)}`,
    ]);
    expect(await entryKeys('acme')).toEqual([
      `${PREFIX}.instant/${tenantSegment('acme')}/${sha(bytes)}.${bytes.length}`,
    ]);
    // A colleague proves the content: copied server-side, exact, with no byte sent.
    const created = await createInstant(carol, server.url, bytes.length, sha(bytes));
    const copy = locationOf(created, server.url);
    const header = created.headers.get('upload-instant-challenge');
    const proven = await provePatch(
      carol,
      copy,
      await proofFor(header, bytes.length, (f, t) => bytes.subarray(f, t)),
    );
    expect(proven.status).toBe(204);
    expect(proven.headers.get('upload-offset')).toBe(String(bytes.length));
    expect(await offsetAs(carol, copy)).toBe(bytes.length);
    expect(await backend.sha256Of(idOf(copy))).toBe(sha(bytes));
    // The copy carries its own metadata, not the folded info of its source.
    const head = await testS3Client().send(
      new HeadObjectCommand({ Bucket: bucket(), Key: `${PREFIX}${idOf(copy)}` }),
    );
    expect(head.Metadata?.['tus-info']).toBeUndefined();
    // Removing the source leaves the copy whole.
    expect((await as(alice, source, 'DELETE')).status).toBe(204);
    expect(await objectExists(source)).toBe(false);
    expect(await backend.sha256Of(idOf(copy))).toBe(sha(bytes));
    expect((await as(carol, copy, 'DELETE')).status).toBe(204);
    expect(await entryKeys('acme')).toEqual([]);
  });

  it('f: a final whose digest was verified is indexed; its partials are not', async () => {
    const bytes = randomBytes(300_000);
    const partials: string[] = [];
    for (const piece of [bytes.subarray(0, 100_000), bytes.subarray(100_000)]) {
      const res = await as(bob, server.url, 'POST', {
        'Upload-Length': String(piece.length),
        'Upload-Concat': 'partial',
        'Repr-Digest': reprDigest(sha(piece)),
      });
      const url = locationOf(res, server.url);
      expect((await patchAs(bob, url, 0, Buffer.from(piece))).status).toBe(204);
      partials.push(new URL(url).pathname);
    }
    expect(await entryKeys('other')).toEqual([]);
    const final = await as(bob, server.url, 'POST', {
      'Upload-Concat': `final;${partials.join(' ')}`,
      'Repr-Digest': reprDigest(sha(bytes)),
    });
    const url = locationOf(final, server.url);
    expect(await entryKeys('other')).toEqual([
      `${PREFIX}.instant/${tenantSegment('other')}/${sha(bytes)}.${bytes.length}`,
    ]);
    expect((await as(bob, url, 'DELETE')).status).toBe(204);
    expect(await entryKeys('other')).toEqual([]);
  });

  it('refuses malformed instant requests with 400, without spending the challenge', async () => {
    const refusals: Array<Record<string, string | undefined>> = [
      { 'Upload-Length': undefined, 'Upload-Defer-Length': '1' },
      { 'Upload-Length': '0' },
      { 'Repr-Digest': undefined },
      { 'Upload-Instant': 'yes' },
      { 'Upload-Concat': 'partial' },
    ];
    for (const headers of refusals) {
      const res = await createInstant(alice, server.url, data.length, hex, headers);
      expect([res.status, headers]).toEqual([400, headers]);
      expect(await res.text()).toMatch(/Upload-Instant/);
    }
    const withBody = await as(
      alice,
      server.url,
      'POST',
      {
        'Upload-Length': '4',
        'Repr-Digest': reprDigest(sha(Buffer.from('abcd'))),
        'Upload-Instant': '?1',
        'Content-Type': 'application/offset+octet-stream',
      },
      Buffer.from('abcd'),
    );
    expect(withBody.status).toBe(400);

    await ordinary(alice, data);
    const created = await createInstant(carol, server.url, data.length, hex);
    const url = locationOf(created, server.url);
    const proof = await proofFor(
      created.headers.get('upload-instant-challenge'),
      data.length,
      read,
    );
    const short = await as(carol, url, 'PATCH', {
      'Upload-Offset': '0',
      'Content-Type': 'application/offset+octet-stream',
      'Upload-Instant-Proof': `:${Buffer.from(proof.subarray(0, 16)).toString('base64')}:`,
    });
    expect(short.status).toBe(400);
    const bodied = await patchAs(carol, url, 0, Buffer.from('x'), {
      'Upload-Instant-Proof': `:${Buffer.from(proof).toString('base64')}:`,
    });
    expect(bodied.status).toBe(400);
    // Neither spent the challenge: the right proof still works.
    const proven = await provePatch(carol, url, proof);
    expect(proven.status).toBe(204);
    expect(proven.headers.get('upload-offset')).toBe(String(data.length));
    const head = await as(carol, url, 'HEAD');
    expect(head.headers.get('upload-offset')).toBe(String(data.length));
    expect(head.headers.get('repr-digest')).toBe(reprDigest(hex));
    expect(await backend.sha256Of(idOf(url))).toBe(hex);
    const meta = await testS3Client().send(
      new HeadObjectCommand({ Bucket: bucket(), Key: `${PREFIX}${idOf(url)}` }),
    );
    expect(meta.Metadata?.sha256).toBe(hex);
    expect(meta.ContentLength).toBe(data.length);
  });

  it('b: the digest and length without the bytes never get the object; the challenge is spent', async () => {
    await ordinary(alice, data);
    const created = await createInstant(carol, server.url, data.length, hex);
    const url = locationOf(created, server.url);
    const header = created.headers.get('upload-instant-challenge');
    // Knows the digest and the length, guesses the bytes: the proof of other bytes.
    const guessed = Buffer.alloc(data.length, 0x5a);
    const wrong = await provePatch(
      carol,
      url,
      await proofFor(header, data.length, (f, t) => guessed.subarray(f, t)),
    );
    expect(wrong.status).toBe(204);
    expect(wrong.headers.get('upload-offset')).toBe('0');
    expect(await offsetAs(carol, url)).toBe(0);
    expect(await objectExists(url)).toBe(false);
    // The right answer to the same challenge, afterwards: spent, still 0, still no object.
    const late = await provePatch(carol, url, await proofFor(header, data.length, read));
    expect(late.status).toBe(204);
    expect(late.headers.get('upload-offset')).toBe('0');
    expect(await objectExists(url)).toBe(false);
    // The upload goes on as an ordinary one.
    const done = await patchAs(carol, url, 0, data);
    expect(done.headers.get('upload-offset')).toBe(String(data.length));
    expect(await backend.sha256Of(idOf(url))).toBe(hex);
  });

  it('c: another tenant with identical content uploads normally', async () => {
    await ordinary(alice, data);
    const created = await createInstant(bob, server.url, data.length, hex);
    const url = locationOf(created, server.url);
    const proof = await proofFor(
      created.headers.get('upload-instant-challenge'),
      data.length,
      read,
    );
    const res = await provePatch(bob, url, proof);
    expect(res.status).toBe(204);
    expect(res.headers.get('upload-offset')).toBe('0');
    expect(await objectExists(url)).toBe(false);
    expect(await entryKeys('other')).toEqual([]);
    const done = await patchAs(bob, url, 0, data);
    expect(done.headers.get('upload-offset')).toBe(String(data.length));
    // Now bob's tenant has its own entry; acme's still names acme's upload.
    expect(await entryKeys('other')).toHaveLength(1);
  });

  it('d, e: existing and missing content answer the creation and a wrong proof alike', async () => {
    await ordinary(alice, data);
    const missing = randomBytes(data.length);
    const missingHex = sha(missing);
    const rounds = 15;
    const created: Record<'have' | 'miss', Array<Awaited<ReturnType<typeof answerShape>>>> = {
      have: [],
      miss: [],
    };
    const proved: typeof created = { have: [], miss: [] };
    const createMs: Record<'have' | 'miss', number[]> = { have: [], miss: [] };
    const proofMs: Record<'have' | 'miss', number[]> = { have: [], miss: [] };
    const wrongBytes = (f: number, t: number) => Buffer.alloc(t - f, 1);
    for (let i = 0; i < rounds; i++) {
      // Interleaved, so load on the box hits both alike.
      for (const kind of i % 2 ? (['have', 'miss'] as const) : (['miss', 'have'] as const)) {
        const digest = kind === 'have' ? hex : missingHex;
        let t = performance.now();
        const res = await createInstant(carol, server.url, data.length, digest);
        createMs[kind].push(performance.now() - t);
        const url = locationOf(res, server.url);
        const header = res.headers.get('upload-instant-challenge');
        created[kind].push(await answerShape(res));
        const proof = await proofFor(header, data.length, wrongBytes);
        t = performance.now();
        const answer = await provePatch(carol, url, proof);
        proofMs[kind].push(performance.now() - t);
        expect(answer.headers.get('upload-offset')).toBe('0');
        proved[kind].push(await answerShape(answer));
      }
    }
    for (const shapes of [created, proved]) {
      for (const shape of [...shapes.have, ...shapes.miss]) expect(shape).toEqual(shapes.have[0]);
    }
    expect(created.have[0]?.names).toContain('upload-instant-challenge');
    expect(proved.have[0]?.names).toContain('upload-offset');
    const ms = (v: number[]) => `${median(v).toFixed(1)} ms`;
    console.log(
      `instant upload, medians of ${rounds}: creation existing ${ms(createMs.have)}, missing ${ms(createMs.miss)}; ` +
        `wrong proof existing ${ms(proofMs.have)}, missing ${ms(proofMs.miss)} (floor 250 ms)`,
    );
    // The floor holds every answer to a proof (loosely: the clocks differ a little).
    expect(Math.min(...proofMs.have, ...proofMs.miss)).toBeGreaterThanOrEqual(245);
  });
});

describe('instant upload is advertised only where it works', () => {
  it('not without --instant-upload, nor on the file store', async () => {
    const backend = await s3Backend('off/');
    const plain = await startCli(backend.cliArgs);
    const dir = await tmpDir('tus-instant-file-');
    const file = await startCli(['--data-dir', dir, '--instant-upload']);
    try {
      for (const server of [plain, file]) {
        const res = await tus(server.url, 'OPTIONS');
        expect(res.headers.get('tus-extension')?.split(',')).not.toContain('instant-upload');
        // The header is ignored: an ordinary upload, no challenge.
        const created = await createInstant(undefined, server.url, 10, sha(Buffer.alloc(10)));
        expect(created.status).toBe(201);
        expect(created.headers.has('upload-instant-challenge')).toBe(false);
      }
      expect(file.output()).toContain('instant upload: off, it needs S3');
    } finally {
      await plain.stop();
      await file.stop();
      await backend.cleanup();
      await removeDir(dir);
    }
  });
});
