// Issue 25, small files: an upload that fits in one part and arrives whole with its creation
// costs one S3 request, a PutObject whose user metadata carries the info (no .info, no open
// marker), and every reader finds it there: HEAD on this and another instance, owners, the
// admin commands, the sweep, termination, a final naming it. A SIGKILL while that PutObject
// is held leaves nothing in S3, and the client's retry completes with the exact bytes.
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { uploadFile } from '@tus-s3/client/node';
import { UploadsAdmin } from '@tus-s3/server';
import { DetBytes } from './helpers/det-bytes.js';
import { makeRandomFile, removeDir, tmpDir } from './helpers/files.js';
import { recordedS3, type Sent } from './helpers/recording-client.js';
import { listKeys, testS3Client, testS3Env } from './helpers/s3.js';
import { startS3FaultProxy } from './helpers/s3-fault-proxy.js';
import {
  type Backend,
  type CliServer,
  freePort,
  idOf,
  type RunningServer,
  s3Backend,
  sha256Hex,
  startCli,
  startInProcess,
  tus,
} from './helpers/server.js';

const SIZE = 256 * 1024;
const FOLDABLE_ID = /^s[0-9a-f]{32}$/;
const reprDigest = (hex: string) => `sha-256=:${Buffer.from(hex, 'hex').toString('base64')}:`;
const b64 = (s: string) => Buffer.from(s, 'utf-8').toString('base64');

/** Creation-with-upload of all of `data` (what our client sends for a small file). */
function createWith(
  collection: string,
  data: Uint8Array,
  headers: Record<string, string> = {},
): Promise<Response> {
  return tus(
    collection,
    'POST',
    {
      'Upload-Length': String(data.length),
      'Content-Type': 'application/offset+octet-stream',
      ...headers,
    },
    data,
  );
}

const commands = (log: Sent[]) => log.map((e) => e.command);

describe('one S3 request per small file (recorded against RGW)', () => {
  let backend: Backend;
  let server: RunningServer;
  let other: RunningServer;
  let log: Sent[];
  const owner = (name: string) => ({ 'X-Owner': name });
  beforeAll(async () => {
    backend = await s3Backend('fold/');
    const rec = recordedS3(backend);
    log = rec.log;
    const common = {
      digest: 'sha256' as const,
      expiration: 60 * 60 * 1000,
      authenticate: (req: Request) => ({ owner: req.headers.get('x-owner') ?? 'nobody' }),
    };
    server = await startInProcess({ s3: rec.s3, ...common });
    // Another instance: nothing of the first one's memory.
    other = await startInProcess({ ...backend.options, ...common });
  });
  afterAll(async () => {
    await server?.close();
    await other?.close();
    await backend?.cleanup();
  });

  it('writes the object and nothing else, with one PutObject; every reader finds it', async () => {
    const data = new DetBytes(SIZE, 'fold-one').range(0, SIZE);
    const hex = sha256Hex(data);
    const name = 'été  plan ☃.bin';
    log.length = 0;
    const res = await createWith(server.url, data, {
      ...owner('alice'),
      'Repr-Digest': reprDigest(hex),
      'Upload-Metadata': `filename ${b64(name)},filetype ${b64('application/pdf')},flag`,
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('upload-offset')).toBe(String(SIZE));
    const url = new URL(res.headers.get('location') as string, server.url).href;
    const id = idOf(url);
    expect(id).toMatch(FOLDABLE_ID);
    // One S3 request: the object itself, the info in its metadata.
    expect(commands(log)).toEqual(['PutObjectCommand']);
    expect(log[0]?.input.Key).toBe(`${backend.prefix}${id}`);
    expect(await listKeys(backend.bucket as string, backend.prefix)).toEqual([
      `${backend.prefix}${id}`,
    ]);
    expect(await backend.sha256Of(id)).toBe(hex);
    const head = await testS3Client().send(
      new HeadObjectCommand({ Bucket: backend.bucket, Key: `${backend.prefix}${id}` }),
    );
    expect(head.ContentType).toBe('application/pdf');
    expect(head.Metadata?.sha256).toBe(hex);

    // HEAD here (one HeadObject) and on another instance: complete, metadata exact.
    log.length = 0;
    for (const base of [url, new URL(new URL(url).pathname, other.url).href]) {
      const h = await tus(base, 'HEAD', owner('alice'));
      expect(h.status).toBe(200);
      expect(h.headers.get('upload-offset')).toBe(String(SIZE));
      expect(h.headers.get('upload-length')).toBe(String(SIZE));
      expect(h.headers.get('repr-digest')).toBe(reprDigest(hex));
      expect(h.headers.get('upload-metadata')).toBe(
        `filename ${b64(name)},filetype ${b64('application/pdf')},flag`,
      );
    }
    expect(commands(log)).toEqual(['HeadObjectCommand']);
    // Another owner cannot tell it from a missing upload.
    expect((await tus(url, 'HEAD', owner('mallory'))).status).toBe(404);
    expect((await tus(url, 'DELETE', owner('mallory'))).status).toBe(404);
    // A PATCH of a finished upload changes nothing.
    const late = await tus(
      url,
      'PATCH',
      {
        ...owner('alice'),
        'Upload-Offset': String(SIZE),
        'Content-Type': 'application/offset+octet-stream',
      },
      new Uint8Array(0),
    );
    expect(late.status).toBe(204);
    expect(late.headers.get('upload-offset')).toBe(String(SIZE));

    // The admin commands and the sweep see a finished upload, and leave it.
    const admin = new UploadsAdmin({
      client: testS3Client(),
      bucket: backend.bucket as string,
      prefix: backend.prefix,
      expiration: 1,
    });
    expect((await admin.list()).map((u) => u.id)).not.toContain(id);
    expect(await admin.abort(id)).toBe('finished');
    await admin.sweep();
    expect(await backend.sha256Of(id)).toBe(hex);

    // A final may not name it: it is no partial upload.
    const final = await tus(server.url, 'POST', {
      ...owner('alice'),
      'Upload-Concat': `final;${new URL(url).pathname}`,
    });
    expect(final.status).toBeGreaterThanOrEqual(400);
    expect(final.status).toBeLessThan(500);

    // Termination removes it, from the other instance.
    const del = await tus(new URL(new URL(url).pathname, other.url).href, 'DELETE', owner('alice'));
    expect(del.status).toBe(204);
    expect((await tus(url, 'HEAD', owner('alice'))).status).toBe(404);
    // (The sweep's lease object stays.)
    const left = await listKeys(backend.bucket as string, backend.prefix);
    expect(left.filter((k) => !k.endsWith('.sweep'))).toEqual([]);
  });

  it('keeps the cost of a miss: one GET for an ordinary id, HEAD + GET for a foldable one', async () => {
    log.length = 0;
    const plain = `${server.url}/${'0'.repeat(32)}`;
    expect((await tus(plain, 'HEAD', owner('alice'))).status).toBe(404);
    expect(commands(log)).toEqual(['GetObjectCommand']);
    log.length = 0;
    expect((await tus(`${server.url}/s${'0'.repeat(32)}`, 'HEAD', owner('alice'))).status).toBe(
      404,
    );
    expect(commands(log)).toEqual(['HeadObjectCommand', 'GetObjectCommand']);
  });

  it('falls back to the .info when the info does not fit in 2 KiB of metadata', async () => {
    const data = new DetBytes(SIZE, 'fold-big').range(0, SIZE);
    log.length = 0;
    const res = await createWith(server.url, data, {
      ...owner('alice'),
      'Upload-Metadata': `note ${b64('x'.repeat(2100))}`,
    });
    expect(res.status).toBe(201);
    const url = new URL(res.headers.get('location') as string, server.url).href;
    const id = idOf(url);
    const puts = log.filter((e) => e.command === 'PutObjectCommand').map((e) => e.input.Key);
    expect(puts).toContain(`${backend.prefix}${id}.info`);
    const object = log.find((e) => e.input.Key === `${backend.prefix}${id}`);
    expect((object?.input.Metadata as Record<string, string>)?.['tus-info']).toBeUndefined();
    const h = await tus(new URL(new URL(url).pathname, other.url).href, 'HEAD', owner('alice'));
    expect(h.headers.get('upload-offset')).toBe(String(SIZE));
    expect(await backend.sha256Of(id)).toBe(sha256Hex(data));
  });

  it('a creation without a body (tus-js-client) is not folded: info, then the object', async () => {
    const data = new DetBytes(SIZE, 'fold-later').range(0, SIZE);
    const res = await tus(server.url, 'POST', { ...owner('alice'), 'Upload-Length': String(SIZE) });
    expect(res.status).toBe(201);
    const url = new URL(res.headers.get('location') as string, server.url).href;
    expect(idOf(url)).not.toMatch(FOLDABLE_ID);
    const p = await tus(
      url,
      'PATCH',
      {
        ...owner('alice'),
        'Upload-Offset': '0',
        'Content-Type': 'application/offset+octet-stream',
      },
      data,
    );
    expect(p.status).toBe(204);
    expect(await backend.sha256Of(idOf(url))).toBe(sha256Hex(data));
  });

  it('a chunked creation body that proves short: the .info is written before the 201', async () => {
    const data = new DetBytes(SIZE, 'fold-short').range(0, SIZE);
    const half = SIZE / 2;
    // A stream body has no Content-Length: the id is foldable until the body ends short.
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(data.subarray(0, half));
        c.close();
      },
    });
    log.length = 0;
    const res = await fetch(server.url, {
      method: 'POST',
      headers: {
        'Tus-Resumable': '1.0.0',
        'X-Owner': 'alice',
        'Upload-Length': String(SIZE),
        'Content-Type': 'application/offset+octet-stream',
      },
      body,
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(201);
    expect(res.headers.get('upload-offset')).toBe(String(half));
    const url = new URL(res.headers.get('location') as string, server.url).href;
    const id = idOf(url);
    expect(id).toMatch(FOLDABLE_ID);
    const keys = await listKeys(backend.bucket as string, backend.prefix);
    expect(keys).toContain(`${backend.prefix}${id}.info`);
    // Another instance resumes it from its .info, and it completes exact.
    const there = new URL(new URL(url).pathname, other.url).href;
    expect((await tus(there, 'HEAD', owner('alice'))).headers.get('upload-offset')).toBe(
      String(half),
    );
    const p = await tus(
      there,
      'PATCH',
      {
        ...owner('alice'),
        'Upload-Offset': String(half),
        'Content-Type': 'application/offset+octet-stream',
      },
      data.subarray(half),
    );
    expect(p.status).toBe(204);
    expect(await backend.sha256Of(id)).toBe(sha256Hex(data));
    expect((await tus(url, 'HEAD', owner('alice'))).headers.get('upload-offset')).toBe(
      String(SIZE),
    );
  });
});

describe('a SIGKILL while the one PutObject is held', () => {
  let backend: Backend;
  let dir: string;
  const running = new Set<CliServer>();
  beforeAll(async () => {
    backend = await s3Backend('fold-crash/');
    dir = await tmpDir('fold-crash-');
  });
  afterAll(async () => {
    await Promise.all([...running].map((s) => s.stop('SIGKILL')));
    await backend?.cleanup();
    await removeDir(dir);
  });

  it('leaves nothing in S3, and the client retry creates it whole', async () => {
    const proxy = await startS3FaultProxy(testS3Env().endpoint);
    const port = await freePort();
    const file = await makeRandomFile(dir, SIZE, { seed: 'fold-crash' });
    try {
      const first = await startCli([
        ...backend.cliArgs,
        '--s3-endpoint',
        proxy.endpoint,
        '--port',
        String(port),
      ]);
      running.add(first);
      const prefix = backend.prefix as string;
      const held = proxy.holdNext(new RegExp(`/${prefix}s[0-9a-f]{32}(\\?|$)`));
      const uploading = uploadFile(file.path, {
        endpoint: `http://127.0.0.1:${port}/files`,
        store: null,
        checksum: false,
        retry: { delays: [300, 600, 1200, 2400, 4800] },
      });
      const path = await held;
      const id = /s[0-9a-f]{32}/.exec(path)?.[0] as string;
      await first.stop('SIGKILL');
      running.delete(first);
      // Nothing of the held upload is in S3: no object, no .info, no marker.
      const keys = await listKeys(backend.bucket as string, prefix);
      expect(keys.filter((k) => k.includes(id))).toEqual([]);
      expect(keys).toEqual([]);
      // The client, retrying, meets a new instance on the same port (straight to RGW).
      const second = await startCli([...backend.cliArgs, '--port', String(port)]);
      running.add(second);
      const result = await uploading;
      expect(result.size).toBe(SIZE);
      const newId = idOf(result.url);
      expect(newId).not.toBe(id);
      expect(await backend.sha256Of(newId)).toBe(file.sha256);
      const h = await tus(result.url, 'HEAD');
      expect(h.headers.get('upload-offset')).toBe(String(SIZE));
      // The held id stays unknown: a miss, never a half-there upload.
      expect((await tus(`http://127.0.0.1:${port}/files/${id}`, 'HEAD')).status).toBe(404);
      expect(await listKeys(backend.bucket as string, prefix)).toEqual([`${prefix}${newId}`]);
    } finally {
      await proxy.close();
    }
  }, 60_000);
});
