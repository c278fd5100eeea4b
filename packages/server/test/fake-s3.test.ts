// The fake S3 the store's unit tests run on must answer as S3 does where the store relies
// on it: these pin that down.
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { isS3NotFound } from '../src/errors.js';
import { FakeS3, MIN_PART_SIZE } from './helpers/fake-s3.js';

const Bucket = 'test';
const md5 = (b: Buffer, enc: 'hex' | 'base64') => createHash('md5').update(b).digest(enc);
const bytes = (n: number, fill: number) => Buffer.alloc(n, fill);

async function multipart(s3: FakeS3, Key = 'k') {
  const { UploadId } = await s3.client.send(new CreateMultipartUploadCommand({ Bucket, Key }));
  const part = async (PartNumber: number, Body: Buffer) =>
    (await s3.client.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber, Body })))
      .ETag as string;
  const complete = (Parts: { PartNumber: number; ETag: string }[]) =>
    s3.client.send(
      new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts } }),
    );
  return { UploadId: UploadId as string, part, complete };
}

describe('fake S3 objects', () => {
  it('answers the quoted MD5 as ETag and verifies Content-MD5', async () => {
    const s3 = new FakeS3();
    const body = bytes(10, 1);
    const put = await s3.client.send(
      new PutObjectCommand({ Bucket, Key: 'a', Body: body, ContentMD5: md5(body, 'base64') }),
    );
    expect(put.ETag).toBe(`"${md5(body, 'hex')}"`);
    const bad = s3.client.send(
      new PutObjectCommand({
        Bucket,
        Key: 'b',
        Body: body,
        ContentMD5: md5(bytes(10, 2), 'base64'),
      }),
    );
    await expect(bad).rejects.toMatchObject({
      name: 'BadDigest',
      $metadata: { httpStatusCode: 400 },
    });
    expect(s3.keys()).toEqual(['a']);
  });

  it('reads a streamed body whole and checks it against Content-Length', async () => {
    const s3 = new FakeS3();
    const Body = Readable.from([bytes(3, 1), bytes(4, 2)]);
    await s3.client.send(new PutObjectCommand({ Bucket, Key: 'a', Body, ContentLength: 7 }));
    expect(s3.object('a')).toEqual(Buffer.concat([bytes(3, 1), bytes(4, 2)]));
    expect(s3.requests[0]).toMatchObject({ command: 'PutObjectCommand', bodyLength: 7 });
    const short = Readable.from([bytes(3, 1)]);
    await expect(
      s3.client.send(new PutObjectCommand({ Bucket, Key: 'b', Body: short, ContentLength: 7 })),
    ).rejects.toMatchObject({ name: 'IncompleteBody' });
  });

  it('answers missing keys as S3 does, recognised by isS3NotFound', async () => {
    const s3 = new FakeS3();
    const get = s3.client.send(new GetObjectCommand({ Bucket, Key: 'x' }));
    await expect(get).rejects.toMatchObject({ name: 'NoSuchKey', Code: 'NoSuchKey' });
    const head = await s3.client.send(new HeadObjectCommand({ Bucket, Key: 'x' })).catch((e) => e);
    expect(head).toMatchObject({ name: 'NotFound', $metadata: { httpStatusCode: 404 } });
    expect(isS3NotFound(head)).toBe(true);
  });

  it('serves byte ranges', async () => {
    const s3 = new FakeS3();
    const Body = Buffer.from('0123456789');
    await s3.client.send(new PutObjectCommand({ Bucket, Key: 'a', Body }));
    const read = async (Range: string) => {
      const res = await s3.client.send(new GetObjectCommand({ Bucket, Key: 'a', Range }));
      return res.Body?.transformToString();
    };
    expect(await read('bytes=2-4')).toBe('234');
    expect(await read('bytes=7-')).toBe('789');
    expect(await read('bytes=-2')).toBe('89');
    expect(await read('bytes=8-20')).toBe('89');
    await expect(read('bytes=10-12')).rejects.toMatchObject({ name: 'InvalidRange' });
  });

  it('lists by prefix in key order, paged by MaxKeys and ContinuationToken', async () => {
    const s3 = new FakeS3();
    for (const Key of ['p/c', 'p/a', 'q/a', 'p/b']) {
      await s3.client.send(new PutObjectCommand({ Bucket, Key, Body: '' }));
    }
    const page1 = await s3.client.send(
      new ListObjectsV2Command({ Bucket, Prefix: 'p/', MaxKeys: 2 }),
    );
    expect(page1.Contents?.map((c) => c.Key)).toEqual(['p/a', 'p/b']);
    expect(page1.IsTruncated).toBe(true);
    const page2 = await s3.client.send(
      new ListObjectsV2Command({
        Bucket,
        Prefix: 'p/',
        MaxKeys: 2,
        ContinuationToken: page1.NextContinuationToken,
      }),
    );
    expect(page2.Contents?.map((c) => c.Key)).toEqual(['p/c']);
    expect(page2.IsTruncated).toBe(false);
  });
});

describe('fake S3 multipart uploads', () => {
  const big = bytes(MIN_PART_SIZE, 7);

  it('completes from a verified part list into the parts joined', async () => {
    const s3 = new FakeS3();
    const mpu = await multipart(s3);
    const e1 = await mpu.part(1, big);
    const e2 = await mpu.part(2, bytes(3, 8));
    expect(e1).toBe(`"${md5(big, 'hex')}"`);
    const res = await mpu.complete([
      { PartNumber: 1, ETag: e1 },
      { PartNumber: 2, ETag: e2 },
    ]);
    expect(res.ETag).toBe(''); // as RGW answers
    // Compared by digest: toEqual walks a 5 MiB buffer byte by byte, for seconds.
    expect(md5(s3.object('k') ?? Buffer.alloc(0), 'hex')).toBe(
      md5(Buffer.concat([big, bytes(3, 8)]), 'hex'),
    );
    expect(s3.uploads()).toEqual([]);
    // RGW: a finished upload lists as a missing key.
    const list = s3.client.send(new ListPartsCommand({ Bucket, Key: 'k', UploadId: mpu.UploadId }));
    await expect(list).rejects.toMatchObject({ name: 'NoSuchKey' });
  });

  it('refuses a part under 5 MiB that is not the last, wrong ETags, a subset, a bad order', async () => {
    const s3 = new FakeS3();
    const mpu = await multipart(s3);
    const e1 = await mpu.part(1, bytes(10, 1));
    const e2 = await mpu.part(2, big);
    const e3 = await mpu.part(3, bytes(10, 3));
    const refused = (parts: [number, string][]) =>
      mpu.complete(parts.map(([PartNumber, ETag]) => ({ PartNumber, ETag })));
    await expect(
      refused([
        [1, e1],
        [2, e2],
        [3, e3],
      ]),
    ).rejects.toMatchObject({
      name: 'EntityTooSmall',
    });
    await mpu.part(1, big);
    await expect(
      refused([
        [1, e1],
        [2, e2],
        [3, e3],
      ]),
    ).rejects.toMatchObject({ name: 'InvalidPart' });
    const e1b = `"${md5(big, 'hex')}"`;
    await expect(
      refused([
        [1, e1b],
        [2, e2],
      ]),
    ).rejects.toMatchObject({ name: 'InvalidPart' });
    await expect(
      refused([
        [2, e2],
        [1, e1b],
        [3, e3],
      ]),
    ).rejects.toMatchObject({
      name: 'InvalidPartOrder',
    });
    await refused([
      [1, e1b],
      [2, e2],
      [3, e3],
    ]);
    expect(s3.object('k')?.length).toBe(2 * MIN_PART_SIZE + 10);
  });

  it('takes a subset and answers NoSuchUpload as AWS does', async () => {
    const s3 = new FakeS3({ dialect: 'aws' });
    const mpu = await multipart(s3);
    const e1 = await mpu.part(1, bytes(10, 1));
    await mpu.part(2, bytes(10, 2));
    const res = await mpu.complete([{ PartNumber: 1, ETag: e1 }]);
    expect(res.ETag).toMatch(/^"[0-9a-f]{32}-1"$/);
    const list = s3.client.send(new ListPartsCommand({ Bucket, Key: 'k', UploadId: mpu.UploadId }));
    await expect(list).rejects.toMatchObject({ name: 'NoSuchUpload' });
  });

  it('keeps part numbers to 1..10,000 and verifies Content-MD5', async () => {
    const s3 = new FakeS3();
    const mpu = await multipart(s3);
    await expect(mpu.part(10_001, bytes(1, 1))).rejects.toMatchObject({ name: 'InvalidArgument' });
    await expect(mpu.part(0, bytes(1, 1))).rejects.toMatchObject({ name: 'InvalidArgument' });
    await mpu.part(10_000, bytes(1, 1));
    const bad = s3.client.send(
      new UploadPartCommand({
        Bucket,
        Key: 'k',
        UploadId: mpu.UploadId,
        PartNumber: 1,
        Body: bytes(4, 1),
        ContentMD5: md5(bytes(4, 2), 'base64'),
      }),
    );
    await expect(bad).rejects.toMatchObject({ name: 'BadDigest' });
    expect([...(s3.uploads()[0]?.parts.keys() ?? [])]).toEqual([10_000]);
  });

  it('pages ListParts and copies a range of an object into a part', async () => {
    const s3 = new FakeS3({ pageSize: 1 });
    await s3.client.send(new PutObjectCommand({ Bucket, Key: 'src', Body: '0123456789' }));
    const mpu = await multipart(s3);
    await mpu.part(1, bytes(2, 1));
    const copy = await s3.client.send(
      new UploadPartCopyCommand({
        Bucket,
        Key: 'k',
        UploadId: mpu.UploadId,
        PartNumber: 2,
        CopySource: `${Bucket}/src`,
        CopySourceRange: 'bytes=3-5',
      }),
    );
    expect(copy.CopyPartResult?.ETag).toBe(md5(Buffer.from('345'), 'hex')); // unquoted, as RGW
    const list = (PartNumberMarker?: string) =>
      s3.client.send(
        new ListPartsCommand({ Bucket, Key: 'k', UploadId: mpu.UploadId, PartNumberMarker }),
      );
    const p1 = await list();
    expect(p1).toMatchObject({ IsTruncated: true, NextPartNumberMarker: '1' });
    const p2 = await list(p1.NextPartNumberMarker);
    expect(p2.Parts).toEqual([expect.objectContaining({ PartNumber: 2, Size: 3 })]);
    expect(p2.IsTruncated).toBe(false);
  });
});

describe('fake S3 failures and records', () => {
  it('fails the nth matching request, before or after doing it', async () => {
    const s3 = new FakeS3();
    s3.failOn('PutObject', { nth: 2, match: (input) => input.Key !== 'skip' });
    s3.failOn('PutObject', { nth: 3, when: 'after' });
    const put = (Key: string) => s3.client.send(new PutObjectCommand({ Bucket, Key, Body: Key }));
    await put('a');
    await put('skip');
    await expect(put('b')).rejects.toMatchObject({ $metadata: { httpStatusCode: 500 } });
    await expect(put('c')).rejects.toMatchObject({ name: 'InternalError' });
    await put('d');
    // b was refused; c was stored and its answer lost.
    expect(s3.keys()).toEqual(['a', 'c', 'd', 'skip']);
    expect(s3.requests.map((r) => r.error)).toEqual([
      undefined,
      undefined,
      'InternalError',
      'InternalError',
      undefined,
    ]);
    expect(s3.count('PutObject')).toBe(5);
  });

  it('fails several requests in a row with the error asked for', async () => {
    const s3 = new FakeS3();
    s3.failOn('HeadObject', { times: 2, error: () => new Error('socket hang up') });
    const head = () => s3.client.send(new HeadObjectCommand({ Bucket, Key: 'a' }));
    await expect(head()).rejects.toThrow('socket hang up');
    await expect(head()).rejects.toThrow('socket hang up');
    await expect(head()).rejects.toMatchObject({ name: 'NotFound' });
  });

  it('rejects an aborted streamed body as the SDK does', async () => {
    const s3 = new FakeS3();
    const mpu = await multipart(s3);
    const abort = new AbortController();
    const Body = new Readable({ read() {} });
    Body.push(bytes(5, 1));
    const sent = s3.client.send(
      new UploadPartCommand({ Bucket, Key: 'k', UploadId: mpu.UploadId, PartNumber: 1, Body }),
      { abortSignal: abort.signal },
    );
    abort.abort();
    await expect(sent).rejects.toMatchObject({ name: 'AbortError' });
    expect(s3.uploads()[0]?.parts.size).toBe(0);
  });
});
