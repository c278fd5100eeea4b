import { createHash, randomBytes } from 'node:crypto';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { type IndexEntry, indexKey, OPEN_TENANT } from '../src/instant/index-keys.js';
import {
  deleteEntry,
  forgetUpload,
  getEntry,
  type IndexContext,
  putEntry,
  readEntryRange,
} from '../src/instant/index-store.js';
import { FakeS3 } from './helpers/fake-s3.js';

const FILE = randomBytes(20_000);
const SHA = createHash('sha256').update(FILE).digest('hex');
const entry: IndexEntry = {
  version: 1,
  key: 'up/obj1',
  uploadId: 'obj1',
  size: FILE.length,
  sha256: SHA,
  createdAt: '2026-01-01T00:00:00.000Z',
};

function setup() {
  const s3 = new FakeS3();
  const ctx: IndexContext = { client: s3.client, bucket: 'test', prefix: 'up/' };
  return { s3, ctx };
}

async function putObject(ctx: IndexContext, key: string, body: Buffer): Promise<void> {
  await ctx.client.send(new PutObjectCommand({ Bucket: ctx.bucket, Key: key, Body: body }));
}

describe('the index in S3', () => {
  it('puts, gets and deletes an entry under the tenant’s hashed folder', async () => {
    const { s3, ctx } = setup();
    await putEntry(ctx, 'acme', entry);
    expect(s3.keys('up/.instant/')).toEqual([indexKey('up/', 'acme', SHA, FILE.length)]);
    expect(await getEntry(ctx, 'acme', SHA, FILE.length)).toEqual(entry);
    await deleteEntry(ctx, 'acme', SHA, FILE.length);
    expect(await getEntry(ctx, 'acme', SHA, FILE.length)).toBeUndefined();
  });

  it('another tenant, another length or the open tenant never sees the entry', async () => {
    const { ctx } = setup();
    await putEntry(ctx, 'acme', entry);
    expect(await getEntry(ctx, 'other', SHA, FILE.length)).toBeUndefined();
    expect(await getEntry(ctx, OPEN_TENANT, SHA, FILE.length)).toBeUndefined();
    expect(await getEntry(ctx, 'acme', SHA, FILE.length + 1)).toBeUndefined();
  });

  it('a corrupt entry, or one filed under another digest, reads as none', async () => {
    const { ctx } = setup();
    await putObject(ctx, indexKey('up/', 'acme', SHA, FILE.length), Buffer.from('{nope'));
    expect(await getEntry(ctx, 'acme', SHA, FILE.length)).toBeUndefined();
    const other = 'f'.repeat(64);
    const misfiled = Buffer.from(JSON.stringify({ ...entry, sha256: other }));
    await putObject(ctx, indexKey('up/', 'acme', SHA, FILE.length), misfiled);
    expect(await getEntry(ctx, 'acme', SHA, FILE.length)).toBeUndefined();
  });

  it('an upload’s deletion forgets the entry only when it names that upload', async () => {
    const { ctx } = setup();
    await putEntry(ctx, 'acme', entry);
    expect(await forgetUpload(ctx, 'acme', SHA, FILE.length, 'someone-else')).toBe(false);
    expect(await getEntry(ctx, 'acme', SHA, FILE.length)).toEqual(entry);
    expect(await forgetUpload(ctx, 'acme', SHA, FILE.length, 'obj1')).toBe(true);
    expect(await getEntry(ctx, 'acme', SHA, FILE.length)).toBeUndefined();
    expect(await forgetUpload(ctx, 'acme', SHA, FILE.length, 'obj1')).toBe(false);
  });

  it('a S3 failure on lookup is thrown, not taken for a missing entry', async () => {
    const { s3, ctx } = setup();
    s3.failOn('GetObject');
    await expect(getEntry(ctx, 'acme', SHA, FILE.length)).rejects.toMatchObject({
      name: 'InternalError',
    });
  });
});

describe('readEntryRange', () => {
  it('reads [offset, offset + length) with one ranged GetObject', async () => {
    const { s3, ctx } = setup();
    await putObject(ctx, entry.key, FILE);
    const since = s3.requests.length;
    expect(Buffer.from((await readEntryRange(ctx, entry, 1000, 4096)) ?? [])).toEqual(
      FILE.subarray(1000, 5096),
    );
    expect(s3.sent('GetObject', since).map((r) => r.input.Range)).toEqual(['bytes=1000-5095']);
    expect(Buffer.from((await readEntryRange(ctx, entry, FILE.length - 10, 10)) ?? [])).toEqual(
      FILE.subarray(-10),
    );
  });

  it('is undefined when the object is gone or not the size the entry says', async () => {
    const { ctx } = setup();
    expect(await readEntryRange(ctx, entry, 0, 10)).toBeUndefined();
    await putObject(ctx, entry.key, FILE.subarray(0, 5000));
    expect(await readEntryRange(ctx, entry, 0, 10)).toBeUndefined(); // total 5000, not 20000
    expect(await readEntryRange(ctx, entry, 10_000, 10)).toBeUndefined(); // 416
  });
});
