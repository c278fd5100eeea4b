// Concatenation extension on S3 (issue 4): partial uploads, and a final upload built
// server-side by UploadPartCopy from them (counted through the store's metrics), with
// the fallback for partials that do not line up with parts; every refusal leaves the
// partials intact; partials are removed once the final object is complete.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import {
  CreateMultipartUploadCommand,
  PutObjectCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import type { S3MultipartStore } from '@tus-s3/server';
import * as tusJs from 'tus-js-client';
import { makeRandomFile, removeDir, tmpDir } from './helpers/files.js';
import { listKeys, listMultipartUploads, testS3Client } from './helpers/s3.js';
import {
  type Backend,
  createUpload,
  headOffset,
  idOf,
  patch,
  type RunningServer,
  s3Backend,
  sha256Hex,
  startInProcess,
  tus,
  uploadRest,
} from './helpers/server.js';

const MiB = 1024 * 1024;
const PS = 5 * MiB;

/** Creates a partial upload of `data` and sends `sent` of its bytes (default all). */
async function partial(collection: string, data: Buffer, sent = data.length): Promise<string> {
  const res = await tus(collection, 'POST', {
    'Upload-Length': String(data.length),
    'Upload-Concat': 'partial',
  });
  expect(res.status).toBe(201);
  const url = new URL(res.headers.get('location') as string, collection).toString();
  if (sent > 0) expect(await uploadRest(url, data.subarray(0, sent), 0, 8 * MiB)).toBe(sent);
  return url;
}

const finalPost = (collection: string, urls: string[], headers: Record<string, string> = {}) =>
  tus(collection, 'POST', { 'Upload-Concat': `final;${urls.join(' ')}`, ...headers });

function delta(store: S3MultipartStore, before: S3MultipartStore['metrics']) {
  const m = store.metrics;
  return {
    partsCopied: m.partsCopied - before.partsCopied,
    bytesCopied: m.bytesCopied - before.bytesCopied,
    partsAssembled: m.partsAssembled - before.partsAssembled,
    bytesAssembled: m.bytesAssembled - before.bytesAssembled,
  };
}

describe('concatenation on S3', () => {
  let backend: Backend;
  let server: RunningServer;
  let store: S3MultipartStore;
  let dir: string;
  beforeAll(async () => {
    backend = await s3Backend('cc/');
    server = await startInProcess({ ...backend.options, partSize: PS });
    store = server.tus.datastore as S3MultipartStore;
    dir = await tmpDir();
  });
  afterAll(async () => {
    await server?.close();
    await backend?.cleanup();
    await removeDir(dir);
  });
  const keysOf = (id: string) => listKeys(backend.bucket as string, `cc/${id}`);

  it('builds a final from part-aligned partials by UploadPartCopy only, then removes them', async () => {
    const pieces = [randomBytes(2 * PS), randomBytes(3 * PS), randomBytes(PS + 12345)];
    const urls = [] as string[];
    for (const p of pieces) urls.push(await partial(server.url, p));

    const head = await tus(urls[0] as string, 'HEAD');
    expect(head.headers.get('upload-concat')).toBe('partial');
    expect(head.headers.get('tus-s3-part-size')).toBe(String(PS));

    const before = { ...store.metrics };
    const uploadedBefore = store.metrics.partBytesUploaded;
    const res = await finalPost(server.url, urls, {
      'Upload-Metadata': `filetype ${Buffer.from('application/x-final').toString('base64')}`,
    });
    expect(res.status).toBe(201);
    const url = new URL(res.headers.get('location') as string, server.url).toString();
    const all = Buffer.concat(pieces);
    // 2 + 3 + 2 parts of 5 MiB, each copied server-side; not one byte re-uploaded.
    expect(delta(store, before)).toEqual({
      partsCopied: 7,
      bytesCopied: all.length,
      partsAssembled: 0,
      bytesAssembled: 0,
    });
    expect(store.metrics.partBytesUploaded).toBe(uploadedBefore);
    expect(await backend.sha256Of(idOf(url))).toBe(sha256Hex(all));
    expect(await backend.contentTypeOf(idOf(url))).toBe('application/x-final');

    const fh = await tus(url, 'HEAD');
    expect(fh.status).toBe(200);
    expect(fh.headers.get('upload-length')).toBe(String(all.length));
    expect(fh.headers.get('upload-offset')).toBe(String(all.length));
    expect(fh.headers.get('tus-s3-part-size')).toBe(String(PS));
    const concat = fh.headers.get('upload-concat') ?? '';
    expect(concat).toBe(`final;${urls.map((u) => new URL(u).pathname).join(' ')}`);

    // The partials' objects, infos and staging are gone; only the final remains.
    for (const u of urls) {
      expect(await keysOf(idOf(u))).toEqual([]);
      expect(await listMultipartUploads(backend.bucket as string, `cc/${idOf(u)}`)).toEqual([]);
      expect((await tus(u, 'HEAD')).status).toBe(404);
    }
    expect(await keysOf(idOf(url))).toEqual([`cc/${idOf(url)}`, `cc/${idOf(url)}.info`]);
  });

  it('falls back for partials under the 5 MiB minimum: bytes assembled, object exact', async () => {
    const pieces = [randomBytes(MiB), randomBytes(3 * MiB), randomBytes(2 * MiB + 1)];
    const urls = [] as string[];
    for (const p of pieces) urls.push(await partial(server.url, p));
    const before = { ...store.metrics };
    const res = await finalPost(server.url, urls);
    expect(res.status).toBe(201);
    const url = new URL(res.headers.get('location') as string, server.url).toString();
    const all = Buffer.concat(pieces);
    expect(await backend.sha256Of(idOf(url))).toBe(sha256Hex(all));
    // 1 + 3 + 2 MiB(+1) in 5 MiB parts: part 1 straddles all three partials and is
    // assembled; part 2 lies inside the last partial and is still a copy.
    expect(delta(store, before)).toEqual({
      partsCopied: 1,
      bytesCopied: MiB + 1,
      partsAssembled: 1,
      bytesAssembled: PS,
    });
    for (const u of urls) expect(await keysOf(idOf(u))).toEqual([]);
  });

  it('copies what lies inside one partial and assembles only the straddling parts', async () => {
    // 6 + 7 + 5 MiB(+3): parts [0,5) copy, [5,10) and [10,15) straddle, [15,end) copy.
    const pieces = [randomBytes(6 * MiB), randomBytes(7 * MiB), randomBytes(5 * MiB + 3)];
    const urls = [] as string[];
    for (const p of pieces) urls.push(await partial(server.url, p));
    const before = { ...store.metrics };
    const res = await finalPost(server.url, urls);
    expect(res.status).toBe(201);
    const url = new URL(res.headers.get('location') as string, server.url).toString();
    const all = Buffer.concat(pieces);
    expect(await backend.sha256Of(idOf(url))).toBe(sha256Hex(all));
    expect(delta(store, before)).toEqual({
      partsCopied: 2,
      bytesCopied: PS + (all.length - 3 * PS),
      partsAssembled: 2,
      bytesAssembled: 2 * PS,
    });
  });

  it('a final of empty partials is an empty object', async () => {
    const urls = [
      await partial(server.url, Buffer.alloc(0)),
      await partial(server.url, Buffer.alloc(0)),
    ];
    const res = await finalPost(server.url, urls);
    expect(res.status).toBe(201);
    const url = new URL(res.headers.get('location') as string, server.url).toString();
    expect(await headOffset(url)).toBe(0);
    expect(await backend.sha256Of(idOf(url))).toBe(sha256Hex(Buffer.alloc(0)));
  });

  it('answers every refusal with its status and leaves the partials intact', async () => {
    const a = randomBytes(PS + 100);
    const b = randomBytes(2 * PS);
    const ua = await partial(server.url, a);
    const ub = await partial(server.url, b, PS + 7); // unfinished
    const plain = await createUpload(server.url, 10);
    await uploadRest(plain, Buffer.alloc(10, 1), 0);
    const status = async (res: Response, want: number) => {
      const body = (await res.text()).trim();
      expect({ status: res.status, oneLine: body.split('\n').length === 1 && body !== '' }).toEqual(
        { status: want, oneLine: true },
      );
      expect(await headOffset(ua)).toBe(a.length);
      expect(await headOffset(ub)).toBe(PS + 7);
      expect((await tus(ua, 'HEAD')).headers.get('upload-concat')).toBe('partial');
    };

    // 400: a plain upload, a URL elsewhere, a malformed header, a partial named twice, a
    // wrong Upload-Length, a deferred length. (An unfinished partial is no refusal:
    // concatenation-unfinished, e2e/server-concat-unfinished.test.ts.)
    await status(await finalPost(server.url, [ua, plain]), 400);
    await status(await finalPost(server.url, [ua, 'http://elsewhere/other/x']), 400);
    await status(await tus(server.url, 'POST', { 'Upload-Concat': 'final;' }), 400);
    await status(await tus(server.url, 'POST', { 'Upload-Concat': 'complete' }), 400);
    await status(await finalPost(server.url, [ua, ua]), 400);
    await status(await finalPost(server.url, [ua], { 'Upload-Length': String(a.length + 1) }), 400);
    await status(await finalPost(server.url, [ua], { 'Upload-Defer-Length': '1' }), 400);
    // 404: a partial that does not exist.
    await status(
      await finalPost(server.url, [ua, `${server.url}/0123456789abcdef0123456789abcdef`]),
      404,
    );
    // 403: a final creation carrying bytes.
    await status(
      await tus(
        server.url,
        'POST',
        {
          'Upload-Concat': `final;${ua}`,
          'Content-Type': 'application/offset+octet-stream',
        },
        Buffer.from('xyz'),
      ),
      403,
    );

    // The unfinished partial resumes as an ordinary upload; then a final of finished partials.
    expect(await uploadRest(ub, b, PS + 7)).toBe(b.length);
    const res = await finalPost(server.url, [ua, ub], {
      'Upload-Length': String(a.length + b.length),
    });
    expect(res.status).toBe(201);
    const url = new URL(res.headers.get('location') as string, server.url).toString();
    expect(await backend.sha256Of(idOf(url))).toBe(sha256Hex(Buffer.concat([a, b])));

    // 403: PATCH on a final, at its offset or any other; the final is untouched.
    const end = a.length + b.length;
    for (const at of [end, 0]) {
      const p = await patch(url, at, Buffer.from('x'));
      expect(p.status).toBe(403);
      expect((await p.text()).trim()).toContain('final');
    }
    expect(await headOffset(url)).toBe(end);
    expect(await backend.sha256Of(idOf(url))).toBe(sha256Hex(Buffer.concat([a, b])));
    // The partials were consumed.
    expect((await finalPost(server.url, [ua])).status).toBe(404);
  });

  it('onUploadFinish and POST_FINISH fire once for a final', async () => {
    const finished: string[] = [];
    const events: string[] = [];
    const hooked = await startInProcess({
      ...backend.options,
      partSize: PS,
      onUploadFinish: async (_req, upload) => {
        finished.push(`${upload.id}:${upload.size}`);
        return { headers: { 'X-Finished': 'yes' } };
      },
    });
    hooked.tus.server.on('POST_FINISH', (_req, _res, upload) => events.push(upload.id));
    try {
      const pieces = [randomBytes(PS), randomBytes(10)];
      const urls = [] as string[];
      for (const p of pieces) urls.push(await partial(hooked.url, p));
      finished.length = 0;
      events.length = 0;
      const res = await finalPost(hooked.url, urls);
      expect(res.status).toBe(201);
      expect(res.headers.get('x-finished')).toBe('yes');
      const id = idOf(new URL(res.headers.get('location') as string, hooked.url).toString());
      expect(finished).toEqual([`${id}:${PS + 10}`]);
      expect(events).toEqual([id]);
    } finally {
      await hooked.close();
    }
  });

  it('resumes building a final after a crash left it half-built', async () => {
    // The state a crash mid-build leaves: the final's info and multipart upload with one of
    // its parts copied, the partials still there.
    const pieces = [randomBytes(PS), randomBytes(PS), randomBytes(PS)];
    const urls = [] as string[];
    for (const p of pieces) urls.push(await partial(server.url, p));
    const s3 = testS3Client();
    const bucket = backend.bucket as string;
    const id = `crashfinal${Date.now()}`;
    const mpu = await s3.send(
      new CreateMultipartUploadCommand({ Bucket: bucket, Key: `cc/${id}` }),
    );
    await s3.send(
      new UploadPartCopyCommand({
        Bucket: bucket,
        Key: `cc/${id}`,
        UploadId: mpu.UploadId,
        PartNumber: 1,
        CopySource: `${bucket}/cc/${idOf(urls[0] as string)}`,
      }),
    );
    const info = {
      version: 1,
      id,
      size: 3 * PS,
      uploadId: mpu.UploadId,
      partSize: PS,
      createdAt: new Date().toISOString(),
      concat: { role: 'final', partials: urls.map((u) => ({ id: idOf(u), size: PS })) },
    };
    await s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: `cc/${id}.info`, Body: JSON.stringify(info) }),
    );
    const before = { ...store.metrics };
    const head = await tus(`${server.url}/${id}`, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.headers.get('upload-offset')).toBe(String(3 * PS));
    expect(delta(store, before).partsCopied).toBe(2);
    expect(await backend.sha256Of(id)).toBe(sha256Hex(Buffer.concat(pieces)));
    for (const u of urls) expect(await keysOf(idOf(u))).toEqual([]);
  });

  it('takes 200 MiB from stock tus-js-client with parallelUploads: 4, exact, built by copies', async () => {
    // The default 8 MiB part size: tus-js-client's 4 x 50 MiB partials are not multiples
    // of it, but of 10 MiB, so the final takes 10 MiB parts and copies every one.
    const server8 = await startInProcess({ ...backend.options });
    const store8 = server8.tus.datastore as S3MultipartStore;
    try {
      const f = await makeRandomFile(dir, 200 * MiB);
      const file = await readFile(f.path);
      const url = await new Promise<string>((resolve, reject) => {
        const up = new tusJs.Upload(file, {
          endpoint: server8.url,
          parallelUploads: 4,
          chunkSize: 16 * MiB,
          retryDelays: [],
          metadata: { filename: 'parallel.bin', filetype: 'application/x-parallel' },
          onError: reject,
          onSuccess: () => resolve(up.url as string),
        });
        up.start();
      });
      expect(await backend.sha256Of(idOf(url))).toBe(f.sha256);
      expect(await backend.contentTypeOf(idOf(url))).toBe('application/x-parallel');
      expect(store8.metrics).toMatchObject({
        partsCopied: 20,
        bytesCopied: 200 * MiB,
        partsAssembled: 0,
        bytesAssembled: 0,
        // Bytes this server sent to S3: the partials' 200 MiB, not one more.
        partBytesUploaded: 200 * MiB,
      });
      const head = await tus(url, 'HEAD');
      expect(head.headers.get('upload-length')).toBe(String(200 * MiB));
      expect(head.headers.get('tus-s3-part-size')).toBe(String(10 * MiB));
      expect(head.headers.get('upload-concat')?.startsWith('final;')).toBe(true);
      expect(head.headers.get('upload-concat')?.split(' ')).toHaveLength(4);
    } finally {
      await server8.close();
    }
  });
});
