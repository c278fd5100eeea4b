// Expiration: Upload-Expires on unfinished uploads, 410 once expired, and a sweep that
// removes expired uploads under this server's prefix and nothing else.
import {
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { listKeys, listMultipartUploads, objectText, testS3Client } from './helpers/s3.js';
import {
  type Backend,
  createUpload,
  idOf,
  patch,
  type RunningServer,
  s3Backend,
  startInProcess,
  tus,
  uploadRest,
} from './helpers/server.js';

describe('expiration on S3', () => {
  let backend: Backend;
  let server: RunningServer;
  // Long enough that the upload created after the wait cannot expire before the sweep
  // on a loaded 2-core machine; short enough to wait out.
  const EXP = 5000;
  beforeAll(async () => {
    backend = await s3Backend('exp/');
    // Every creation writes its info (sealIds off), as with Redis locks: the sweep's cases
    // below need uploads in S3 from their POST. Sealed ids expiring: server-sealed-ids.
    const s3 = backend.options.s3 as NonNullable<Backend['options']['s3']>;
    server = await startInProcess({ s3: { ...s3, sealIds: false }, expiration: EXP });
  });
  afterAll(async () => {
    await server?.close();
    await backend?.cleanup();
  });

  it('advertises expiration and sends Upload-Expires on unfinished uploads', async () => {
    const opts = await tus(server.url, 'OPTIONS');
    expect(opts.headers.get('tus-extension')).toContain('expiration');
    const res = await tus(server.url, 'POST', { 'Upload-Length': '10' });
    const expires = Date.parse(res.headers.get('upload-expires') ?? '');
    expect(expires).toBeGreaterThan(Date.now() - 2000);
    expect(expires).toBeLessThan(Date.now() + EXP + 2000);
  });

  it('answers 410 after expiry; the sweep removes only expired uploads under its prefix', async () => {
    const bucket = backend.bucket as string;
    const s3 = testS3Client();
    const stale = await createUpload(server.url, 10);
    await patch(stale, 0, Buffer.from('12345'));
    const done = await createUpload(server.url, 3);
    await uploadRest(done, Buffer.from('abc'), 0);
    // Things this server must never touch: another prefix, and a look-alike key.
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'other/x.info', Body: '{}' }));
    await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'other/abc' }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'exp-not-ours.txt', Body: 'x' }));
    // Look-alikes of staged objects under the prefix, older than the expiration too.
    for (const Key of ['exp/abc.seg.12', 'exp/abc.txt'])
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key, Body: 'x' }));
    // Uploads that lost their info record (a removal outlived by a write, or an operator):
    // an unfinished one with a multipart upload and a staged segment, and a finished one.
    const lostInfo = async (size: number, body: Buffer) => {
      const url = await createUpload(server.url, size);
      expect((await patch(url, 0, body)).status).toBe(204);
      await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: `exp/${idOf(url)}.info` }));
      return url;
    };
    const orphan = await lostInfo(20 * 1024 * 1024, Buffer.alloc(1024, 1));
    expect((await listKeys(bucket, `exp/${idOf(orphan)}.seg.`)).length).toBe(1);
    expect((await listMultipartUploads(bucket, `exp/${idOf(orphan)}`)).length).toBe(1);
    const doneOrphan = await lostInfo(3, Buffer.from('xyz'));

    await new Promise((r) => setTimeout(r, EXP + 300));
    const fresh = await createUpload(server.url, 10);
    // Lost its info too, but too recently for the sweep to take its staging for an orphan.
    const young = await lostInfo(20 * 1024 * 1024, Buffer.alloc(1024, 2));
    expect((await tus(stale, 'HEAD')).status).toBe(410);
    expect((await patch(stale, 5, Buffer.from('67890'))).status).toBe(410);
    expect((await tus(done, 'HEAD')).status).toBe(200);

    const removed = await server.tus.server.cleanUpExpiredUploads();
    // The stale one, the one the first test left unfinished, and the orphan's multipart upload.
    expect(removed).toBe(3);
    expect(await listKeys(bucket, `exp/${idOf(stale)}`)).toEqual([]);
    expect(await listMultipartUploads(bucket, `exp/${idOf(stale)}`)).toEqual([]);
    expect((await tus(stale, 'HEAD')).status).toBe(404);
    expect((await tus(done, 'HEAD')).status).toBe(200);
    // Its info was not rewritten when it completed (its object records that): the HEAD
    // above found the object whole and wrote the completion; the sweep kept both.
    expect(await listKeys(bucket, `exp/${idOf(done)}`)).toEqual([
      `exp/${idOf(done)}`,
      `exp/${idOf(done)}.info`,
    ]);
    expect(JSON.parse(await objectText(bucket, `exp/${idOf(done)}.info`)).completedAt).toEqual(
      expect.any(String),
    );
    expect((await tus(fresh, 'HEAD')).status).toBe(200);
    expect(await listKeys(bucket, 'other/')).toEqual(['other/x.info']);
    expect((await listMultipartUploads(bucket, 'other/')).length).toBe(1);
    expect(await listKeys(bucket, 'exp-not-ours')).toEqual(['exp-not-ours.txt']);
    expect(await listKeys(bucket, 'exp/abc.')).toEqual(['exp/abc.seg.12', 'exp/abc.txt']);
    // The orphan's segment and multipart upload are gone; a finished upload's object is
    // never the sweep's to delete; the young orphan keeps its segment and multipart upload.
    expect(await listKeys(bucket, `exp/${idOf(orphan)}`)).toEqual([]);
    expect(await listMultipartUploads(bucket, `exp/${idOf(orphan)}`)).toEqual([]);
    expect(await listKeys(bucket, `exp/${idOf(doneOrphan)}`)).toEqual([`exp/${idOf(doneOrphan)}`]);
    expect((await listKeys(bucket, `exp/${idOf(young)}.seg.`)).length).toBe(1);
    expect((await listMultipartUploads(bucket, `exp/${idOf(young)}`)).length).toBe(1);
  });
});
