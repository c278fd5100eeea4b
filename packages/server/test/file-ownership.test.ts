// Owners on the local file store (file/owned-file-store.ts), in a temp dir: recorded in the
// upload's JSON record at creation, checked before any work, another owner's upload
// refused exactly as a missing one.
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { Upload } from '@tus/utils';
import type { Principal } from '../src/auth/principal.js';
import { ERRORS } from '../src/errors.js';
import { OwnedFileStore, ownershipInRecord } from '../src/file/owned-file-store.js';
import { type RequestContext, requestContext } from '../src/front/request-context.js';

const alice: Principal = { owner: 'alice', tenant: 'acme' };
const bob: Principal = { owner: 'bob', tenant: 'acme' };

function as<T>(principal: Principal | undefined, method: string, fn: () => Promise<T>) {
  const ctx: RequestContext = { baseUrl: '/files', method, reply: {}, principal };
  return requestContext.run(ctx, fn);
}

async function thrown(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  return undefined;
}

describe('OwnedFileStore', () => {
  let dir: string;
  let store: OwnedFileStore;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'owned-file-store-'));
    store = new OwnedFileStore({ directory: dir });
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const make = (principal: Principal | undefined, id: string, size?: number) =>
    as(principal, 'POST', () =>
      store.create(new Upload({ id, size, offset: 0, metadata: { filename: 'a.txt' } })),
    );

  it('records owner and tenant in the JSON record, never in what getUpload answers', async () => {
    const created = await make(alice, 'a1', 10);
    expect(created).not.toHaveProperty('owner');
    const record = JSON.parse(await readFile(path.join(dir, 'a1.json'), 'utf8'));
    expect(ownershipInRecord(record)).toEqual({ owner: 'alice', tenant: 'acme' });
    const upload = await as(alice, 'HEAD', () => store.getUpload('a1'));
    expect(upload).not.toHaveProperty('owner');
    expect(upload).not.toHaveProperty('tenant');
    expect(upload.metadata).toEqual({ filename: 'a.txt' });
  });

  it("refuses another owner's upload on every entry point as FILE_NOT_FOUND, before any work", async () => {
    await make(alice, 'a1');
    const body = () => Readable.from([Buffer.from('abcd')]);
    expect(await thrown(as(bob, 'HEAD', () => store.getUpload('a1')))).toBe(ERRORS.FILE_NOT_FOUND);
    expect(await thrown(as(bob, 'PATCH', () => store.write(body(), 'a1', 0)))).toBe(
      ERRORS.FILE_NOT_FOUND,
    );
    expect(await thrown(as(bob, 'PATCH', () => store.declareUploadLength('a1', 4)))).toBe(
      ERRORS.FILE_NOT_FOUND,
    );
    expect(await thrown(as(bob, 'DELETE', () => store.remove('a1')))).toBe(ERRORS.FILE_NOT_FOUND);
    // Same owner name in another tenant is another owner.
    const elsewhere = { owner: 'alice', tenant: 'other' };
    expect(await thrown(as(elsewhere, 'HEAD', () => store.getUpload('a1')))).toBe(
      ERRORS.FILE_NOT_FOUND,
    );
    // Nothing moved: no byte, no length, the upload still there.
    expect((await stat(path.join(dir, 'a1'))).size).toBe(0);
    const upload = await as(alice, 'HEAD', () => store.getUpload('a1'));
    expect(upload.size).toBeUndefined();
    expect(upload.offset).toBe(0);
  });

  it('lets the owner use it, the record keeping its owner through a declared length', async () => {
    await make(alice, 'a1');
    await as(alice, 'PATCH', () => store.declareUploadLength('a1', 4));
    const written = await as(alice, 'PATCH', () =>
      store.write(Readable.from([Buffer.from('abcd')]), 'a1', 0),
    );
    expect(written).toBe(4);
    expect((await as(alice, 'HEAD', () => store.getUpload('a1'))).size).toBe(4);
    expect(await thrown(as(bob, 'HEAD', () => store.getUpload('a1')))).toBe(ERRORS.FILE_NOT_FOUND);
    await as(alice, 'DELETE', () => store.remove('a1'));
    expect(await thrown(as(alice, 'HEAD', () => store.getUpload('a1')))).toBe(
      ERRORS.FILE_NOT_FOUND,
    );
  });

  it('leaves an upload created open anyone’s, and checks nothing without a principal', async () => {
    await make(undefined, 'open', 4);
    expect(
      ownershipInRecord(JSON.parse(await readFile(path.join(dir, 'open.json'), 'utf8'))),
    ).toEqual({});
    expect((await as(bob, 'HEAD', () => store.getUpload('open'))).size).toBe(4);
    await make(alice, 'a1', 4);
    // The expiration sweep and an open server run without a principal.
    expect((await store.getUpload('a1')).size).toBe(4);
    expect((await as(undefined, 'HEAD', () => store.getUpload('a1'))).size).toBe(4);
  });

  it('answers a missing upload as FileStore does', async () => {
    expect(await thrown(as(bob, 'HEAD', () => store.getUpload('none')))).toBe(
      ERRORS.FILE_NOT_FOUND,
    );
    expect(await thrown(as(bob, 'DELETE', () => store.remove('none')))).toBe(ERRORS.FILE_NOT_FOUND);
  });
});

describe('OwnedFileStore quotas', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'owned-file-quota-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("counts a tenant's unfinished uploads from the records, a finished one no longer", async () => {
    const quotas = { maxUnfinishedUploads: 2, maxUnfinishedBytes: 100, maxUploadSize: 60 };
    const store = new OwnedFileStore({ directory: dir, quotas });
    const make = (p: Principal, id: string, size?: number) =>
      as(p, 'POST', () => store.create(new Upload({ id, size, offset: 0 })));
    await make(alice, 'a1', 4);
    expect(((await thrown(make(alice, 'big', 61))) as { status_code: number }).status_code).toBe(
      413,
    );
    await make(bob, 'b1');
    const third = (await thrown(make(alice, 'a3', 1))) as { status_code: number; body: string };
    expect([third.status_code, third.body]).toEqual([
      429,
      'this tenant holds 2 unfinished uploads, its limit\n',
    ]);
    // Another tenant has its own count; a fresh store (a restart) counts the same.
    await make({ owner: 'carol' }, 'c1', 1);
    const again = new OwnedFileStore({ directory: dir, quotas });
    const after = (await thrown(
      as(alice, 'POST', () => again.create(new Upload({ id: 'a4', size: 1, offset: 0 }))),
    )) as { status_code: number };
    expect(after.status_code).toBe(429);
    // Finishing a1 frees its place; a declared length is held to the largest upload.
    await as(alice, 'PATCH', () => again.write(Readable.from([Buffer.from('abcd')]), 'a1', 0));
    await as(alice, 'POST', () => again.create(new Upload({ id: 'a5', size: 50, offset: 0 })));
    const declared = (await thrown(
      as(bob, 'PATCH', () => again.declareUploadLength('b1', 61)),
    )) as { status_code: number };
    expect(declared.status_code).toBe(413);
    // Bytes: a5's 50 plus b1's deferred 0 held; 51 more pass the tenant's 100.
    await as(bob, 'DELETE', () => again.remove('b1'));
    const bytes = (await thrown(
      as(alice, 'POST', () => again.create(new Upload({ id: 'a6', size: 51, offset: 0 }))),
    )) as { status_code: number; body: string };
    expect(bytes.status_code).toBe(429);
    expect(bytes.body).toContain('more than its limit of 100 bytes');
  });
});
