// The IETF resumable-upload draft (src/front/draft/): its pure parts (versions, fields,
// lengths, limits, metadata, problem details), then its messages through createTusServer
// on the fake S3 (Fetch API: no 104 there, which the e2e test observes over HTTP/1.1).
import { createHash, randomBytes } from 'node:crypto';
import { TusError } from '../src/errors.js';
import {
  contentLengthOfRequest,
  formatSfBoolean,
  formatSfIntegerDictionary,
  parseSfBoolean,
  parseSfInteger,
} from '../src/front/draft/fields.js';
import { reconcileLength } from '../src/front/draft/length.js';
import { uploadLimit } from '../src/front/draft/limits.js';
import { filenameOf, tusMetadataOf } from '../src/front/draft/metadata.js';
import { mismatchingOffset, problemResponse } from '../src/front/draft/problem.js';
import { type DraftVersion, draftVersionOf, isDraftRequest } from '../src/front/draft/version.js';
import { createTusServer } from '../src/tus-server.js';
import { BUCKET, fakeS3, PART } from './helpers/store-harness.js';

const v = (n: string): DraftVersion => draftVersionOf(n) as DraftVersion;

describe('interop versions', () => {
  it('serves 5, 6 and 8 and refuses the others with the list', () => {
    expect(v('6').interop).toBe(6);
    expect(v(' 8 ').interop).toBe(8);
    expect(v('5').partialUploadType).toBe(false);
    expect(v('6').limits).toEqual({ ageKey: 'expires' });
    expect(v('8').limits).toEqual({ ageKey: 'max-age' });
    for (const bad of ['3', '4', '7', '9', 'x', '']) {
      expect(draftVersionOf(bad)).toEqual({ refused: expect.stringContaining('speaks 5, 6, 8') });
    }
  });
  it('is a draft request only without Tus-Resumable', () => {
    const get = (h: Record<string, string>) => (n: string) => h[n.toLowerCase()] ?? null;
    expect(isDraftRequest(get({ 'upload-draft-interop-version': '8' }))).toBe(true);
    expect(
      isDraftRequest(get({ 'upload-draft-interop-version': '8', 'tus-resumable': '1.0.0' })),
    ).toBe(false);
    expect(isDraftRequest(get({ 'tus-resumable': '1.0.0' }))).toBe(false);
  });
});

describe('structured fields', () => {
  it('parses integers and booleans, ignoring other shapes', () => {
    expect(parseSfInteger('42')).toBe(42);
    expect(parseSfInteger(' 0 ')).toBe(0);
    for (const bad of ['-1', '1.5', '1e3', '', 'abc', '1234567890123456', null]) {
      expect(parseSfInteger(bad)).toBeUndefined();
    }
    expect(parseSfBoolean('?1')).toBe(true);
    expect(parseSfBoolean('?0')).toBe(false);
    for (const bad of ['1', 'true', '?2', null]) expect(parseSfBoolean(bad)).toBeUndefined();
    expect(formatSfBoolean(true)).toBe('?1');
  });
  it('formats a dictionary of integers, leaving out what is unknown', () => {
    expect(
      formatSfIntegerDictionary([
        ['max-size', 10],
        ['min-append-size', undefined],
        ['max-age', 3],
      ]),
    ).toBe('max-size=10, max-age=3');
    expect(formatSfIntegerDictionary([['a', undefined]])).toBeUndefined();
  });
  it('reads a body length: declared, none, or chunked', () => {
    expect(contentLengthOfRequest(new Headers({ 'content-length': '7' }), true)).toBe(7);
    expect(contentLengthOfRequest(new Headers(), false)).toBe(0);
    expect(contentLengthOfRequest(new Headers(), true)).toBeUndefined();
    expect(
      contentLengthOfRequest(new Headers({ 'transfer-encoding': 'chunked' }), false),
    ).toBeUndefined();
  });
});

describe('the length a request tells', () => {
  it('comes from Upload-Length, a completing Content-Length, or the record', () => {
    expect(reconcileLength({ declared: 10, offset: 0, complete: false, contentLength: 4 })).toEqual(
      { length: 10 },
    );
    expect(reconcileLength({ offset: 6, complete: true, contentLength: 4 })).toEqual({
      length: 10,
    });
    expect(reconcileLength({ recorded: 10, offset: 6, complete: true, contentLength: 4 })).toEqual({
      length: 10,
    });
    expect(reconcileLength({ offset: 0, complete: false, contentLength: 4 })).toEqual({
      length: undefined,
    });
    expect(reconcileLength({ offset: 0, complete: true })).toEqual({ length: undefined });
  });
  it('is inconsistent when two values differ or the bytes pass it', () => {
    expect(reconcileLength({ declared: 10, offset: 0, complete: true, contentLength: 4 })).toEqual({
      inconsistent: expect.stringContaining('Content-Length'),
    });
    expect(
      reconcileLength({ recorded: 10, declared: 11, offset: 0, complete: false }),
    ).toHaveProperty('inconsistent');
    expect(
      reconcileLength({ recorded: 10, offset: 8, complete: false, contentLength: 4 }),
    ).toHaveProperty('inconsistent');
  });
});

describe('Upload-Limit', () => {
  const facts = { maxSize: 1000, partSize: 5, expiresAt: 61_500, now: 1_000 };
  it('names the part size as min-append-size and the lifetime in the version key', () => {
    expect(uploadLimit(v('8'), facts)).toBe('max-size=1000, min-append-size=5, max-age=60');
    expect(uploadLimit(v('6'), facts)).toBe('max-size=1000, min-append-size=5, expires=60');
    expect(uploadLimit(v('5'), facts)).toBeUndefined();
    expect(uploadLimit(v('8'), { now: 0 })).toBeUndefined();
  });
});

describe('creation metadata', () => {
  it('takes the file name and type from the representation fields', () => {
    expect(filenameOf(`inline; filename="a \\"b\\".txt"`)).toBe('a "b".txt');
    expect(filenameOf(`attachment; filename="x.txt"; filename*=UTF-8''%C3%A9t%C3%A9.txt`)).toBe(
      'été.txt',
    );
    expect(filenameOf('inline; filename=plain.bin')).toBe('plain.bin');
    expect(filenameOf('inline')).toBeUndefined();
    const h = new Headers({
      'content-type': 'image/png',
      'content-disposition': 'inline; filename="p.png"',
    });
    const meta = tusMetadataOf((n) => h.get(n)) as string;
    expect(meta).toBe(`filetype ${btoa('image/png')},filename ${btoa('p.png')}`);
    const transfer = new Headers({ 'content-type': 'application/partial-upload' });
    expect(tusMetadataOf((n) => transfer.get(n))).toBeUndefined();
    const tus = new Headers({ 'upload-metadata': 'filename eA==' });
    expect(tusMetadataOf((n) => tus.get(n))).toBe('filename eA==');
  });
});

describe('problem details', () => {
  it('names the expected and provided offsets of a mismatch', async () => {
    const r = problemResponse(v('8'), mismatchingOffset(12, 25));
    expect(r.status).toBe(409);
    expect(r.headers.get('content-type')).toBe('application/problem+json');
    expect(r.headers.get('upload-offset')).toBe('12');
    expect(r.headers.get('upload-complete')).toBe('?0');
    expect(await r.json()).toMatchObject({
      type: 'https://iana.org/assignments/http-problem-types#mismatching-upload-offset',
      'expected-offset': 12,
      'provided-offset': 25,
    });
    const old = problemResponse(v('5'), mismatchingOffset(12, 25));
    expect(old.headers.get('content-type')).toMatch(/^text\/plain/);
  });
});

describe('draft messages through createTusServer (fake S3)', () => {
  const s3 = fakeS3();
  const tus = createTusServer({ s3: { bucket: BUCKET, client: s3.client }, partSize: PART });
  const base = 'http://h.example/files';
  const send = (url: string, method: string, headers: Record<string, string>, body?: Uint8Array) =>
    tus.handle(
      new Request(url, {
        method,
        headers: { 'Upload-Draft-Interop-Version': '8', ...headers },
        ...(body ? { body: body as unknown as BodyInit } : {}),
      }),
    );

  it('creates with part of the content, resumes, completes; the bytes are exact', async () => {
    const data = randomBytes(PART + 1234);
    const first = data.subarray(0, 1000);
    const created = await send(
      base,
      'POST',
      { 'Upload-Complete': '?0', 'Upload-Length': String(data.length) },
      first,
    );
    expect(created.status).toBe(201);
    expect(created.headers.get('upload-complete')).toBe('?0');
    expect(created.headers.get('upload-offset')).toBe('1000');
    expect(created.headers.get('upload-limit')).toMatch(new RegExp(`min-append-size=${PART}`));
    const url = new URL(created.headers.get('location') as string, base).toString();
    const head = await send(url, 'HEAD', {});
    expect(head.status).toBe(204);
    expect(head.headers.get('upload-offset')).toBe('1000');
    expect(head.headers.get('upload-complete')).toBe('?0');
    expect(head.headers.get('upload-length')).toBe(String(data.length));
    expect(head.headers.get('cache-control')).toBe('no-store');
    const wrong = await send(
      url,
      'PATCH',
      {
        'Upload-Offset': '999',
        'Upload-Complete': '?0',
        'Content-Type': 'application/partial-upload',
      },
      data.subarray(999, 2000),
    );
    expect(wrong.status).toBe(409);
    expect(await wrong.json()).toMatchObject({ 'expected-offset': 1000, 'provided-offset': 999 });
    const rest = await send(
      url,
      'PATCH',
      {
        'Upload-Offset': '1000',
        'Upload-Complete': '?1',
        'Content-Type': 'application/partial-upload',
      },
      data.subarray(1000),
    );
    expect(rest.status).toBe(204);
    expect(rest.headers.get('upload-complete')).toBe('?1');
    expect(rest.headers.get('upload-offset')).toBe(String(data.length));
    const id = url.split('/').pop() as string;
    const stored = s3.object(id) ?? Buffer.alloc(0);
    expect(createHash('sha256').update(stored).digest('hex')).toBe(
      createHash('sha256').update(data).digest('hex'),
    );
    const again = await send(
      url,
      'PATCH',
      {
        'Upload-Offset': String(data.length),
        'Upload-Complete': '?1',
        'Content-Type': 'application/partial-upload',
      },
      data.subarray(0, 3),
    );
    expect(again.status).toBe(400);
    expect(await again.json()).toMatchObject({
      type: expect.stringContaining('inconsistent-upload-length'),
    });
  });

  it('completes a deferred upload with an empty completing append, and cancels another', async () => {
    const created = await send(
      base,
      'POST',
      { 'Upload-Complete': '?0' },
      new Uint8Array([1, 2, 3]),
    );
    expect(created.headers.get('upload-offset')).toBe('3');
    const url = new URL(created.headers.get('location') as string, base).toString();
    expect((await send(url, 'HEAD', {})).headers.get('upload-length')).toBeNull();
    const done = await send(url, 'PATCH', {
      'Upload-Offset': '3',
      'Upload-Complete': '?1',
      'Content-Type': 'application/partial-upload',
    });
    expect(done.headers.get('upload-complete')).toBe('?1');
    const head = await send(url, 'HEAD', {});
    expect(head.headers.get('upload-length')).toBe('3');
    expect(head.headers.get('upload-complete')).toBe('?1');
    const other = await send(base, 'POST', { 'Upload-Complete': '?0', 'Upload-Length': '10' });
    const otherUrl = new URL(other.headers.get('location') as string, base).toString();
    expect((await send(otherUrl, 'DELETE', {})).status).toBe(204);
    expect((await send(otherUrl, 'HEAD', {})).status).toBe(404);
  });

  it('refuses an append of the wrong media type in 6 and 8, not in 5', async () => {
    const created = await send(base, 'POST', { 'Upload-Complete': '?0', 'Upload-Length': '4' });
    const url = new URL(created.headers.get('location') as string, base).toString();
    const refused = await send(
      url,
      'PATCH',
      {
        'Upload-Offset': '0',
        'Upload-Complete': '?0',
        'Content-Type': 'application/offset+octet-stream',
      },
      new Uint8Array(2),
    );
    expect(refused.status).toBe(415);
    const five = await tus.handle(
      new Request(url, {
        method: 'PATCH',
        headers: {
          'Upload-Draft-Interop-Version': '5',
          'Upload-Offset': '0',
          'Upload-Complete': '?0',
        },
        body: new Uint8Array(2) as unknown as BodyInit,
      }),
    );
    expect(five.status).toBe(201);
    expect(five.headers.get('upload-offset')).toBe('2');
    const seven = await tus.handle(
      new Request(url, { method: 'HEAD', headers: { 'Upload-Draft-Interop-Version': '7' } }),
    );
    expect(seven.status).toBe(400);
  });

  it('answers a draft OPTIONS with Accept-Patch and limits, tus OPTIONS unchanged', async () => {
    const draft = await send(base, 'OPTIONS', {});
    expect(draft.headers.get('accept-patch')).toBe('application/partial-upload');
    expect(draft.headers.get('upload-limit')).toMatch(/min-append-size=\d+, max-age=\d+/);
    const plain = await tus.handle(
      new Request(base, { method: 'OPTIONS', headers: { 'Tus-Resumable': '1.0.0' } }),
    );
    expect(plain.headers.get('accept-patch')).toBeNull();
    expect(plain.headers.get('tus-version')).toBe('1.0.0');
  });
});

describe('draft requests and owners', () => {
  const s3 = fakeS3();
  const tus = createTusServer({
    s3: { bucket: BUCKET, client: s3.client },
    partSize: PART,
    authenticate: (request) => {
      const owner = request.headers.get('x-user');
      if (!owner) throw new TusError(401, 'who are you');
      return { owner };
    },
  });
  const base = 'http://h.example/files';
  const as = (
    user: string | null,
    url: string,
    method: string,
    headers: Record<string, string> = {},
  ) =>
    tus.handle(
      new Request(url, {
        method,
        headers: {
          'Upload-Draft-Interop-Version': '8',
          ...(user ? { 'X-User': user } : {}),
          ...headers,
        },
      }),
    );

  it('authenticates every draft request; another owner sees 404, as in tus mode', async () => {
    expect((await as(null, base, 'POST', { 'Upload-Complete': '?0' })).status).toBe(401);
    const created = await as('alice', base, 'POST', {
      'Upload-Complete': '?0',
      'Upload-Length': '3',
    });
    expect(created.status).toBe(201);
    const url = new URL(created.headers.get('location') as string, base).toString();
    expect((await as('alice', url, 'HEAD')).status).toBe(204);
    expect((await as('bob', url, 'HEAD')).status).toBe(404);
    expect((await as('bob', url, 'DELETE')).status).toBe(404);
    expect((await as('alice', url, 'HEAD')).headers.get('upload-offset')).toBe('0');
  });
});

describe('draft uploads and Repr-Digest', () => {
  const s3 = fakeS3();
  const tus = createTusServer({ s3: { bucket: BUCKET, client: s3.client }, partSize: PART });
  const base = 'http://h.example/files';
  const digestOf = (b: Uint8Array) =>
    `sha-256=:${createHash('sha256').update(b).digest('base64')}:`;
  const create = (body: Uint8Array, digest: string) =>
    tus.handle(
      new Request(base, {
        method: 'POST',
        headers: {
          'Upload-Draft-Interop-Version': '8',
          'Upload-Complete': '?1',
          'Content-Length': String(body.length),
          'Repr-Digest': digest,
        },
        body: body as unknown as BodyInit,
      }),
    );

  it('verifies the digest declared at creation, as in tus mode; HEAD answers it', async () => {
    const data = randomBytes(3000);
    const ok = await create(data, digestOf(data));
    expect(ok.status).toBe(201);
    expect(ok.headers.get('upload-complete')).toBe('?1');
    const url = new URL(ok.headers.get('location') as string, base).toString();
    const head = await tus.handle(
      new Request(url, { method: 'HEAD', headers: { 'Upload-Draft-Interop-Version': '8' } }),
    );
    expect(head.headers.get('repr-digest')).toBe(digestOf(data));
    const bad = await create(data, digestOf(randomBytes(3000)));
    expect(bad.status).toBe(460);
    expect(bad.headers.get('location')).not.toBeNull();
    expect(bad.headers.get('upload-complete')).toBeNull();
  });
});

describe('a draft upload is complete only when the client says so', () => {
  const s3 = fakeS3();
  const GiB = 1024 * 1024 * 1024;
  // A large maximum: a deferred upload that announced no length gets parts for it.
  const tus = createTusServer({
    s3: { bucket: BUCKET, client: s3.client },
    partSize: PART,
    maxSize: 100 * GiB,
  });
  const base = 'http://h.example/files';
  const send = (
    url: string,
    method: string,
    headers: Record<string, string>,
    body?: Uint8Array | ReadableStream<Uint8Array>,
    interop = '8',
  ) =>
    tus.handle(
      new Request(url, {
        method,
        headers: { 'Upload-Draft-Interop-Version': interop, ...headers },
        ...(body ? { body: body as unknown as BodyInit, duplex: 'half' } : {}),
      } as RequestInit),
    );
  const append = (
    url: string,
    offset: number,
    complete: boolean,
    body?: Uint8Array | ReadableStream<Uint8Array>,
    more: Record<string, string> = {},
    interop = '8',
  ) =>
    send(
      url,
      'PATCH',
      {
        'Upload-Offset': String(offset),
        'Upload-Complete': complete ? '?1' : '?0',
        'Content-Type': 'application/partial-upload',
        ...more,
      },
      body,
      interop,
    );
  const created = async (headers: Record<string, string>, body?: Uint8Array) => {
    const answer = await send(base, 'POST', headers, body);
    expect(answer.status).toBe(201);
    return new URL(answer.headers.get('location') as string, base).toString();
  };
  const idOf = (url: string) => url.split('/').pop() as string;
  const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
  const typeOf = async (r: Response) => ((await r.json()) as { type: string }).type;

  it('stays open at its length after ?0 appends; an empty ?1 completes it, exact', async () => {
    const data = randomBytes(PART + 4321);
    const url = await created(
      { 'Upload-Complete': '?0', 'Upload-Length': String(data.length) },
      data.subarray(0, 1000),
    );
    const head0 = await send(url, 'HEAD', {});
    // Parts sized for the announced length, not for the 100 GiB maximum.
    expect(head0.headers.get('tus-s3-part-size')).toBe(String(PART));
    const reached = await append(url, 1000, false, data.subarray(1000));
    expect(reached.status).toBe(204);
    expect(reached.headers.get('upload-complete')).toBe('?0');
    expect(reached.headers.get('upload-offset')).toBe(String(data.length));
    const head = await send(url, 'HEAD', {});
    expect(head.headers.get('upload-complete')).toBe('?0');
    expect(head.headers.get('upload-offset')).toBe(String(data.length));
    expect(head.headers.get('upload-length')).toBe(String(data.length));
    expect(head.headers.get('tus-s3-announced-length')).toBeNull();
    expect(s3.object(idOf(url))).toBeUndefined();
    // A byte past the announced length, or another length, is inconsistent.
    const past = await append(url, data.length, false, new Uint8Array(1));
    expect(past.status).toBe(400);
    expect(await typeOf(past)).toMatch(/#inconsistent-upload-length$/);
    const other = await append(url, data.length, true, undefined, {
      'Upload-Length': String(data.length + 1),
    });
    expect(other.status).toBe(400);
    expect(await typeOf(other)).toMatch(/#inconsistent-upload-length$/);
    expect(s3.object(idOf(url))).toBeUndefined();
    const done = await append(url, data.length, true);
    expect(done.status).toBe(204);
    expect(done.headers.get('upload-complete')).toBe('?1');
    expect(done.headers.get('upload-offset')).toBe(String(data.length));
    expect(sha(s3.object(idOf(url)) ?? Buffer.alloc(0))).toBe(sha(data));
    const end = await send(url, 'HEAD', {});
    expect(end.headers.get('upload-complete')).toBe('?1');
    // The completing append retried: the upload is known and takes nothing more (-11).
    const retried = await append(url, data.length, true);
    expect(retried.status).toBe(410);
    expect(await typeOf(retried)).toMatch(/#completed-upload$/);
    const six = await append(url, data.length, true, undefined, {}, '6');
    expect(six.status).toBe(400);
    expect(await typeOf(six)).toMatch(/#completed-upload$/);
  });

  it('refuses a completion away from the announced length, and a chunked body past it', async () => {
    const url = await created({ 'Upload-Complete': '?0', 'Upload-Length': '10' });
    expect((await append(url, 0, false, new Uint8Array(4))).status).toBe(204);
    const early = await append(url, 4, true);
    expect(early.status).toBe(400);
    expect(await typeOf(early)).toMatch(/#inconsistent-upload-length$/);
    const short = await append(url, 4, true, new Uint8Array(3), { 'Content-Length': '3' });
    expect(short.status).toBe(400);
    expect(await typeOf(short)).toMatch(/#inconsistent-upload-length$/);
    const chunked = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new Uint8Array(5));
        c.enqueue(new Uint8Array(5));
        c.close();
      },
    });
    const over = await append(url, 4, false, chunked);
    expect(over.status).toBe(400);
    expect(await typeOf(over)).toMatch(/#inconsistent-upload-length$/);
    const head = await send(url, 'HEAD', {});
    expect(head.headers.get('upload-offset')).toBe('10');
    expect(head.headers.get('upload-complete')).toBe('?0');
    expect(s3.object(idOf(url))).toBeUndefined();
    expect((await append(url, 10, true)).headers.get('upload-complete')).toBe('?1');
    expect(s3.object(idOf(url))?.length).toBe(10);
  });

  it('records a length an append announces, and holds the upload to it', async () => {
    const tooLarge = await send(base, 'POST', {
      'Upload-Complete': '?0',
      'Upload-Length': String(101 * GiB),
    });
    expect(tooLarge.status).toBe(413);
    const url = await created({ 'Upload-Complete': '?0' });
    const over = await append(url, 0, false, undefined, { 'Upload-Length': String(101 * GiB) });
    expect(over.status).toBe(413);
    const head0 = await send(url, 'HEAD', {});
    expect(Number(head0.headers.get('tus-s3-part-size'))).toBeGreaterThan(PART);
    const told = await append(url, 0, false, new Uint8Array(6), { 'Upload-Length': '8' });
    expect(told.status).toBe(204);
    const head = await send(url, 'HEAD', {});
    expect(head.headers.get('upload-length')).toBe('8');
    // Refused before its first byte: nothing of it is kept.
    const past = await append(url, 6, false, new Uint8Array(3), { 'Content-Length': '3' });
    expect(past.status).toBe(400);
    expect(await typeOf(past)).toMatch(/#inconsistent-upload-length$/);
    expect((await send(url, 'HEAD', {})).headers.get('upload-offset')).toBe('6');
    const rest = await append(url, 6, false, new Uint8Array(2), { 'Content-Length': '2' });
    expect(rest.headers.get('upload-complete')).toBe('?0');
    expect(s3.object(idOf(url))).toBeUndefined();
    const done = await append(url, 8, true);
    expect(done.headers.get('upload-complete')).toBe('?1');
    expect(s3.object(idOf(url))?.length).toBe(8);
  });
});
