// Must-show 1, 3, 4, 7 of the server issue: stock tus-js-client through our server into
// RGW (and the file store), edge sizes, termination.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { S3_MIN_PART_SIZE } from '@tus-s3/server';
import * as tusJs from 'tus-js-client';
import { makeRandomFile, removeDir, tmpDir } from './helpers/files.js';
import { listKeys, listMultipartUploads } from './helpers/s3.js';
import {
  type Backend,
  backends,
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
const PS = S3_MIN_PART_SIZE; // 5 MiB parts keep edge cases small

function tusJsUpload(file: Buffer, endpoint: string, opts: Partial<tusJs.UploadOptions> = {}) {
  return new Promise<string>((resolve, reject) => {
    const up = new tusJs.Upload(file, {
      endpoint,
      chunkSize: 3 * MiB,
      retryDelays: [],
      metadata: { filename: 'big.bin', filetype: 'application/x-test' },
      ...opts,
      onError: reject,
      onSuccess: () => resolve(up.url as string),
    });
    up.start();
  });
}

describe.each(backends)('uploads on %s', (_name, makeBackend) => {
  let backend: Backend;
  let server: RunningServer;
  let dir: string;
  beforeAll(async () => {
    backend = await makeBackend();
    dir = await tmpDir();
    server = await startInProcess({ ...backend.options, partSize: PS });
  });
  afterAll(async () => {
    await server?.close();
    await backend?.cleanup();
    await removeDir(dir);
  });

  it('takes 64 MiB from stock tus-js-client in 3 MiB chunks, exact', async () => {
    const f = await makeRandomFile(dir, 64 * MiB);
    const url = await tusJsUpload(await readFile(f.path), server.url);
    expect(await backend.sha256Of(idOf(url))).toBe(f.sha256);
    if (backend.kind === 's3') {
      expect(await backend.contentTypeOf(idOf(url))).toBe('application/x-test');
      // Nothing but the object and its info record is left.
      const keys = await listKeys(backend.bucket as string, `${backend.prefix}${idOf(url)}`);
      expect(keys.sort()).toEqual([
        `${backend.prefix}${idOf(url)}`,
        `${backend.prefix}${idOf(url)}.info`,
      ]);
    }
  });

  it.each([
    ['0 bytes', 0],
    ['1 byte', 1],
    ['exactly one part', PS],
    ['exactly 3 parts', 3 * PS],
    ['one part + 1', PS + 1],
  ])('stores %s exactly, in odd-sized PATCHes', async (_label, size) => {
    const data = randomBytes(size);
    const url = await createUpload(server.url, size, 'filetype dGV4dC9wbGFpbg==');
    if (size === 0) {
      const head = await tus(url, 'HEAD');
      expect(head.headers.get('upload-offset')).toBe('0');
      expect(head.headers.get('upload-length')).toBe('0');
    } else {
      expect(await uploadRest(url, data, 0, 2 * MiB + 17)).toBe(size);
    }
    expect(await backend.sha256Of(idOf(url))).toBe(sha256Hex(data));
    expect(await headOffset(url)).toBe(size);
  });

  it.each([
    ['under 5 MiB', 3 * MiB + 5],
    ['over one part', 2 * PS + 123],
  ])('stores a deferred-length upload %s', async (_label, size) => {
    const data = randomBytes(size);
    const url = await createUpload(server.url, 'deferred');
    const head = await tus(url, 'HEAD');
    expect(head.headers.get('upload-defer-length')).toBe('1');
    // All bytes but the last 10 without a length, then the length with the last bytes.
    expect(await uploadRest(url, data.subarray(0, size - 10), 0, 2 * MiB)).toBe(size - 10);
    const last = await patch(url, size - 10, data.subarray(size - 10), {
      'Upload-Length': String(size),
    });
    expect(last.status).toBe(204);
    expect(last.headers.get('upload-offset')).toBe(String(size));
    expect(await backend.sha256Of(idOf(url))).toBe(sha256Hex(data));
  });

  it('declares a deferred length in an empty PATCH after all bytes arrived', async () => {
    const data = Buffer.alloc(1234, 9);
    const url = await createUpload(server.url, 'deferred');
    expect(await uploadRest(url, data, 0)).toBe(1234);
    const res = await patch(url, 1234, new Uint8Array(), { 'Upload-Length': '1234' });
    expect(res.status).toBe(204);
    expect(await backend.sha256Of(idOf(url))).toBe(sha256Hex(data));
  });

  it('keeps metadata exact in HEAD, UTF-8 included', async () => {
    const meta = `filename ${Buffer.from('Grüße 日本.txt').toString('base64')},flag,filetype ${Buffer.from('text/plain').toString('base64')}`;
    const url = await createUpload(server.url, 10, meta);
    const head = await tus(url, 'HEAD');
    const got = Object.fromEntries(
      (head.headers.get('upload-metadata') ?? '').split(',').map((kv) => kv.split(' ')),
    );
    expect(Buffer.from(got.filename, 'base64').toString()).toBe('Grüße 日本.txt');
    expect(got).toHaveProperty('flag');
    expect(Buffer.from(got.filetype, 'base64').toString()).toBe('text/plain');
  });
});

describe('termination on S3', () => {
  let backend: Backend;
  let server: RunningServer;
  beforeAll(async () => {
    backend = await s3Backend('del/');
    server = await startInProcess({ ...backend.options, partSize: PS });
  });
  afterAll(async () => {
    await server?.close();
    await backend?.cleanup();
  });

  it('DELETE aborts the multipart upload and removes every staging object', async () => {
    const bucket = backend.bucket as string;
    const url = await createUpload(server.url, 3 * PS);
    const id = idOf(url);
    // One whole part and a staged tail of two segments.
    const data = Buffer.alloc(PS + 3 * MiB, 1);
    expect(await uploadRest(url, data, 0, PS + MiB)).toBe(PS + 3 * MiB);
    const before = await listKeys(bucket, `del/${id}`);
    expect(before.filter((k) => k.includes('.seg.')).length).toBe(2);
    expect((await listMultipartUploads(bucket, `del/${id}`)).length).toBe(1);

    const res = await tus(url, 'DELETE');
    expect(res.status).toBe(204);
    expect(await listMultipartUploads(bucket, `del/${id}`)).toEqual([]);
    expect(await listKeys(bucket, `del/${id}`)).toEqual([]);
    expect((await tus(url, 'HEAD')).status).toBe(404);
  });

  it('OPTIONS advertises exactly the extensions that work', async () => {
    const res = await tus(server.url, 'OPTIONS');
    expect(res.status).toBe(204);
    expect(res.headers.get('tus-extension')?.split(',').sort()).toEqual(
      [
        'checksum',
        'concatenation',
        'concatenation-unfinished',
        'creation',
        'creation-defer-length',
        'creation-with-upload',
        // Uploads expire after 7 days unless told otherwise.
        'expiration',
        'termination',
      ].sort(),
    );
  });

  it('creation-with-upload stores the first bytes', async () => {
    const data = Buffer.alloc(PS + 10, 7);
    const res = await tus(
      server.url,
      'POST',
      { 'Upload-Length': String(data.length), 'Content-Type': 'application/offset+octet-stream' },
      data.subarray(0, PS + 3),
    );
    expect(res.status).toBe(201);
    expect(res.headers.get('upload-offset')).toBe(String(PS + 3));
    const url = new URL(res.headers.get('location') as string, server.url).toString();
    expect(await uploadRest(url, data, PS + 3)).toBe(data.length);
    expect(await backend.sha256Of(idOf(url))).toBe(sha256Hex(data));
  });
});
