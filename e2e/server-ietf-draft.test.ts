// The IETF resumable-upload draft, interop 8 (draft-ietf-httpbis-resumable-upload-09 to
// -11), message by message over raw HTTP/1.1 against the CLI server on RGW: creation with
// and without content, the 104 (Upload Resumption Supported) with the Location before the
// final answer, offset retrieval, appends, completion, an offset mismatch's problem
// details, cancellation; a creation cut mid-body resumed after a restart of the server;
// an upload that reaches its length with Upload-Complete: ?0 stays open until a ?1; a
// Repr-Digest declared at creation verified as in tus mode.
import { createHash, randomBytes } from 'node:crypto';
import { answered, raw } from './helpers/draft-http.js';
import {
  createTestBucket,
  deleteBucketDeep,
  listKeys,
  listMultipartUploads,
  sha256OfObject,
  testS3Env,
} from './helpers/s3.js';
import { type CliServer, idOf, sha256Hex, startCli } from './helpers/server.js';

const MiB = 1024 * 1024;
const PART = 5 * MiB;
const PREFIX = 'draft/';
const V8 = { 'Upload-Draft-Interop-Version': '8' };
const APPEND = { ...V8, 'Content-Type': 'application/partial-upload' };

describe('IETF draft interop 8 on the CLI server, RGW behind it', () => {
  let bucket: string;
  let server: CliServer;
  const args = () => {
    const env = testS3Env();
    return [
      '--s3-bucket',
      bucket,
      '--s3-endpoint',
      env.endpoint,
      '--s3-prefix',
      PREFIX,
      '--part-size',
      '5MiB',
    ];
  };
  beforeAll(async () => {
    bucket = await createTestBucket('draft');
    server = await startCli(args());
  });
  afterAll(async () => {
    await server?.stop();
    await deleteBucketDeep(bucket);
  });
  // Upload URLs keep their path across instances; the port is the running one's.
  const at = (location: string) =>
    new URL(new URL(location, server.url).pathname, server.url).toString();
  const stored = (url: string) => sha256OfObject(bucket, `${PREFIX}${idOf(url)}`);

  it('OPTIONS: Accept-Patch names application/partial-upload; Upload-Limit the part size', async () => {
    const a = answered(await raw('OPTIONS', server.url, V8));
    expect(a.status).toBeLessThan(300);
    expect(a.headers['accept-patch']).toBe('application/partial-upload');
    expect(a.headers['upload-limit']).toBe(`min-append-size=${PART}, max-age=${7 * 24 * 3600}`);
  });

  it('creation with the whole content: 104 with Location first, then 201 complete; exact in S3', async () => {
    const data = randomBytes(PART + 777);
    const a = answered(
      await raw(
        'POST',
        server.url,
        {
          ...V8,
          'Upload-Complete': '?1',
          'Content-Length': String(data.length),
          'Content-Type': 'image/png',
        },
        { body: data },
      ),
    );
    expect(a.interim).toHaveLength(1);
    const [info] = a.interim;
    expect(info?.status).toBe(104);
    expect(info?.headers['upload-draft-interop-version']).toBe('8');
    expect(info?.headers.location).toBe(a.headers.location);
    expect(info?.headers['upload-limit']).toMatch(
      new RegExp(`^min-append-size=${PART}, max-age=\\d+$`),
    );
    expect(a.status).toBe(201);
    expect(a.headers['upload-complete']).toBe('?1');
    expect(a.headers['upload-offset']).toBe(String(data.length));
    const url = at(a.headers.location as string);
    expect(await stored(url)).toBe(sha256Hex(data));
    const head = answered(await raw('HEAD', url, V8));
    expect(head.status).toBe(204);
    expect(head.headers).toMatchObject({
      'upload-offset': String(data.length),
      'upload-complete': '?1',
      'upload-length': String(data.length),
      'cache-control': 'no-store',
    });
  });

  it('creation without content, appends, a mismatch, completion, a late append', async () => {
    const data = randomBytes(2 * PART + 4321);
    const created = answered(
      await raw('POST', server.url, {
        ...V8,
        'Upload-Complete': '?0',
        'Upload-Length': String(data.length),
      }),
    );
    expect(created.status).toBe(201);
    expect(created.interim.map((i) => i.status)).toEqual([104]);
    expect(created.headers).toMatchObject({ 'upload-complete': '?0', 'upload-offset': '0' });
    expect(created.headers['upload-limit']).toMatch(new RegExp(`min-append-size=${PART}`));
    const url = at(created.headers.location as string);

    const head0 = answered(await raw('HEAD', url, V8));
    expect(head0.headers).toMatchObject({
      'upload-offset': '0',
      'upload-complete': '?0',
      'upload-length': String(data.length),
      'cache-control': 'no-store',
    });
    // The limits on every offset retrieval (the lifetime is told at creation only).
    expect(head0.headers['upload-limit']).toBe(`min-append-size=${PART}`);

    const first = data.subarray(0, PART);
    const a1 = answered(
      await raw(
        'PATCH',
        url,
        {
          ...APPEND,
          'Upload-Offset': '0',
          'Upload-Complete': '?0',
          'Content-Length': String(first.length),
        },
        { body: first },
      ),
    );
    expect(a1.status).toBe(204);
    expect(a1.headers).toMatchObject({ 'upload-offset': String(PART), 'upload-complete': '?0' });

    const wrong = answered(
      await raw(
        'PATCH',
        url,
        { ...APPEND, 'Upload-Offset': '100', 'Upload-Complete': '?0', 'Content-Length': '10' },
        { body: data.subarray(100, 110) },
      ),
    );
    expect(wrong.status).toBe(409);
    expect(wrong.headers['content-type']).toBe('application/problem+json');
    expect(wrong.headers['upload-offset']).toBe(String(PART));
    expect(wrong.headers['upload-complete']).toBe('?0');
    expect(JSON.parse(wrong.body)).toMatchObject({
      type: 'https://iana.org/assignments/http-problem-types#mismatching-upload-offset',
      'expected-offset': PART,
      'provided-offset': 100,
    });

    const bad = answered(
      await raw(
        'PATCH',
        url,
        {
          ...APPEND,
          'Upload-Offset': String(PART),
          'Upload-Complete': '?1',
          'Content-Length': '10',
        },
        { body: data.subarray(PART, PART + 10) },
      ),
    );
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body)).toMatchObject({
      type: expect.stringMatching(/#inconsistent-upload-length$/),
    });

    const rest = data.subarray(PART);
    const done = answered(
      await raw(
        'PATCH',
        url,
        {
          ...APPEND,
          'Upload-Offset': String(PART),
          'Upload-Complete': '?1',
          'Content-Length': String(rest.length),
        },
        { body: rest },
      ),
    );
    expect(done.status).toBe(204);
    expect(done.headers).toMatchObject({
      'upload-offset': String(data.length),
      'upload-complete': '?1',
    });
    expect(await stored(url)).toBe(sha256Hex(data));

    const head = answered(await raw('HEAD', url, V8));
    expect(head.headers).toMatchObject({
      'upload-offset': String(data.length),
      'upload-complete': '?1',
      'upload-limit': `min-append-size=${PART}`,
    });
    const late = answered(
      await raw(
        'PATCH',
        url,
        {
          ...APPEND,
          'Upload-Offset': String(data.length),
          'Upload-Complete': '?1',
          'Content-Length': '1',
        },
        { body: Buffer.from('x') },
      ),
    );
    expect(late.status).toBe(400);
    expect(JSON.parse(late.body).type).toMatch(/#inconsistent-upload-length$/);
  });

  it('appends reaching the length with ?0 leave it open; an empty ?1 completes it; exact', async () => {
    const data = randomBytes(2 * PART + 4321);
    const created = answered(
      await raw('POST', server.url, {
        ...V8,
        'Upload-Complete': '?0',
        'Upload-Length': String(data.length),
      }),
    );
    const url = at(created.headers.location as string);
    const objectKey = `${PREFIX}${idOf(url)}`;
    const append = async (offset: number, complete: boolean, body?: Buffer, length?: number) =>
      answered(
        await raw(
          'PATCH',
          url,
          {
            ...APPEND,
            'Upload-Offset': String(offset),
            'Upload-Complete': complete ? '?1' : '?0',
            'Content-Length': String(body?.length ?? 0),
            ...(length === undefined ? {} : { 'Upload-Length': String(length) }),
          },
          body ? { body } : {},
        ),
      );
    const problemOf = (a: { body: string }) => (JSON.parse(a.body) as { type: string }).type;
    const first = await append(0, false, data.subarray(0, PART));
    expect(first.headers).toMatchObject({ 'upload-offset': String(PART), 'upload-complete': '?0' });
    // ?1 on an upload short of its length, and ?1 telling another length: inconsistent.
    const early = await append(PART, true);
    expect(early.status).toBe(400);
    expect(problemOf(early)).toMatch(/#inconsistent-upload-length$/);
    const reached = await append(PART, false, data.subarray(PART));
    expect(reached.status).toBe(204);
    expect(reached.headers).toMatchObject({
      'upload-offset': String(data.length),
      'upload-complete': '?0',
    });
    const head = answered(await raw('HEAD', url, V8));
    expect(head.headers).toMatchObject({
      'upload-offset': String(data.length),
      'upload-complete': '?0',
      'upload-length': String(data.length),
    });
    expect(await listKeys(bucket, objectKey)).not.toContain(objectKey);
    expect(await listMultipartUploads(bucket, objectKey)).toHaveLength(1);
    const past = await append(data.length, false, Buffer.from('x'));
    expect(past.status).toBe(400);
    expect(problemOf(past)).toMatch(/#inconsistent-upload-length$/);
    const other = await append(data.length, true, undefined, data.length + 1);
    expect(other.status).toBe(400);
    expect(problemOf(other)).toMatch(/#inconsistent-upload-length$/);
    const stale = await append(data.length - 1, true);
    expect(stale.status).toBe(409);
    expect(await listKeys(bucket, objectKey)).not.toContain(objectKey);

    const done = await append(data.length, true);
    expect(done.status).toBe(204);
    expect(done.headers).toMatchObject({
      'upload-offset': String(data.length),
      'upload-complete': '?1',
    });
    expect(await stored(url)).toBe(sha256Hex(data));
    expect(await listMultipartUploads(bucket, objectKey)).toEqual([]);
    const end = answered(await raw('HEAD', url, V8));
    expect(end.headers['upload-complete']).toBe('?1');
    // The completing append again: the upload is known and takes nothing more (-11: 410).
    const again = await append(data.length, true);
    expect(again.status).toBe(410);
    expect(problemOf(again)).toMatch(/#completed-upload$/);
    expect(await stored(url)).toBe(sha256Hex(data));
  });

  it('a creation cut mid-body resumes from the 104 Location after the server restarted; exact', async () => {
    const data = randomBytes(3 * PART + 99);
    const cutAt = PART + 12345;
    const cut = await raw(
      'POST',
      server.url,
      { ...V8, 'Upload-Complete': '?1', 'Content-Length': String(data.length) },
      { body: data, cutAfter: cutAt },
    );
    expect('cut' in cut).toBe(true);
    const location = cut.interim[0]?.headers.location as string;
    expect(cut.interim[0]?.status).toBe(104);
    // Whatever the first instance acknowledged is in S3: another one answers the same.
    await server.stop();
    server = await startCli(args());
    const url = at(location);
    const head = answered(await raw('HEAD', url, V8));
    expect(head.status).toBe(204);
    expect(head.headers['upload-complete']).toBe('?0');
    expect(head.headers['upload-length']).toBe(String(data.length));
    const offset = Number(head.headers['upload-offset']);
    expect(offset).toBeGreaterThan(0);
    expect(offset).toBeLessThanOrEqual(cutAt);
    const rest = data.subarray(offset);
    const done = answered(
      await raw(
        'PATCH',
        url,
        {
          ...APPEND,
          'Upload-Offset': String(offset),
          'Upload-Complete': '?1',
          'Content-Length': String(rest.length),
        },
        { body: rest },
      ),
    );
    expect(done.headers['upload-complete']).toBe('?1');
    expect(await stored(url)).toBe(sha256Hex(data));
  });

  it('Repr-Digest declared at creation: verified across appends, 460 and no object when wrong', async () => {
    const data = randomBytes(2 * PART + 999);
    const digestOf = (b: Buffer) => `sha-256=:${createHash('sha256').update(b).digest('base64')}:`;
    const wrong = Buffer.from(data);
    wrong[7] = (wrong[7] as number) ^ 1;
    const run = async (digest: string) => {
      const created = answered(
        await raw('POST', server.url, {
          ...V8,
          'Upload-Complete': '?0',
          'Upload-Length': String(data.length),
          'Repr-Digest': digest,
        }),
      );
      expect(created.status).toBe(201);
      const url = at(created.headers.location as string);
      const append = async (from: number, to: number, complete: boolean) =>
        answered(
          await raw(
            'PATCH',
            url,
            {
              ...APPEND,
              'Upload-Offset': String(from),
              'Upload-Complete': complete ? '?1' : '?0',
              'Content-Length': String(to - from),
            },
            { body: data.subarray(from, to) },
          ),
        );
      // Two requests: the hash state between them is the store's, in S3.
      expect((await append(0, PART + 3, false)).status).toBe(204);
      return { url, last: await append(PART + 3, data.length, true) };
    };
    const good = await run(digestOf(data));
    expect(good.last.status).toBe(204);
    expect(good.last.headers['upload-complete']).toBe('?1');
    expect(await stored(good.url)).toBe(sha256Hex(data));
    const head = answered(await raw('HEAD', good.url, V8));
    expect(head.headers['repr-digest']).toBe(digestOf(data));

    const bad = await run(digestOf(wrong));
    expect(bad.last.status).toBe(460);
    const key = `${PREFIX}${idOf(bad.url)}`;
    expect(await listKeys(bucket, key)).not.toContain(key);
    // Nothing published; the upload stays where the refused append began.
    const after = answered(await raw('HEAD', bad.url, V8));
    expect(after.headers['upload-complete']).toBe('?0');
    expect(after.headers['upload-offset']).toBe(String(PART + 3));
  });

  it('cancellation: 204, then 404, the multipart upload aborted', async () => {
    const body = randomBytes(1000);
    const created = answered(
      await raw(
        'POST',
        server.url,
        { ...V8, 'Upload-Complete': '?0', 'Content-Length': '1000' },
        { body },
      ),
    );
    expect(created.headers['upload-offset']).toBe('1000');
    const url = at(created.headers.location as string);
    const del = answered(await raw('DELETE', url, V8));
    expect(del.status).toBe(204);
    expect(answered(await raw('HEAD', url, V8)).status).toBe(404);
    const open = await listMultipartUploads(bucket, `${PREFIX}${idOf(url)}`);
    expect(open).toEqual([]);
  });

  it('tus 1.0 on the same endpoint is unchanged, and an unserved interop version is refused', async () => {
    const options = answered(await raw('OPTIONS', server.url, { 'Tus-Resumable': '1.0.0' }));
    expect(options.headers['accept-patch']).toBeUndefined();
    expect(options.headers['tus-version']).toBe('1.0.0');
    const created = answered(
      await raw('POST', server.url, {
        'Tus-Resumable': '1.0.0',
        'Upload-Length': '3',
        'Upload-Draft-Interop-Version': '8',
      }),
    );
    expect(created.status).toBe(201);
    expect(created.interim).toEqual([]);
    const seven = answered(
      await raw('POST', server.url, {
        'Upload-Draft-Interop-Version': '7',
        'Upload-Complete': '?0',
      }),
    );
    expect(seven.status).toBe(400);
    expect(seven.body).toMatch(/speaks 5, 6, 8/);
  });
});
