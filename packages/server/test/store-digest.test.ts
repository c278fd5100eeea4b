// The whole-file digest through the store on the fake S3: declared at creation or on a
// PATCH, resumed across store instances (a restart), verified before anything is published.
import { createHash } from 'node:crypto';
import { Upload } from '@tus/utils';
import type { TusError } from '../src/errors.js';
import { type RequestContext, requestContext } from '../src/front/request-context.js';
import { objectKey } from '../src/s3/keys.js';
import type { S3MultipartStore } from '../src/s3/store.js';
import type { FakeS3 } from './helpers/fake-s3.js';
import {
  BUCKET,
  body,
  fakeS3,
  newStore,
  PART,
  PREFIX,
  randomData,
} from './helpers/store-harness.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const flipBit = (hex: string) =>
  (Number.parseInt(hex[0] as string, 16) ^ 1).toString(16) + hex.slice(1);

function inRequest<T>(
  method: string,
  extra: Partial<RequestContext>,
  fn: () => Promise<T>,
): Promise<T> {
  return requestContext.run({ baseUrl: '/files', method, reply: {}, ...extra }, fn);
}

async function create(store: S3MultipartStore, id: string, size: number, declared?: string) {
  await inRequest('POST', { reprDigest: declared }, () =>
    store.create(new Upload({ id, size, offset: 0 })),
  );
}

function write(
  store: S3MultipartStore,
  id: string,
  data: Buffer,
  from: number,
  to: number,
  declared?: string,
) {
  return inRequest('PATCH', { reprDigest: declared, uploadOffset: from }, () =>
    store.write(body(data.subarray(from, to)), id, from),
  );
}

async function offsetOf(s3: FakeS3, id: string): Promise<number> {
  // A new store: nothing remembered, everything from S3 (a restart, or another instance).
  const up = await inRequest('HEAD', {}, () => newStore(s3).getUpload(id));
  return up.offset;
}

async function statusOf(p: Promise<unknown>): Promise<number | undefined> {
  try {
    await p;
  } catch (e) {
    return (e as TusError).status_code ?? -1;
  }
  return undefined;
}

function objectMeta(s3: FakeS3, id: string): Record<string, string> | undefined {
  const obj = s3.state.bucket(BUCKET).get(objectKey(PREFIX, id));
  return obj?.metadata;
}

describe('whole-file digest', () => {
  const size = 2 * PART + 12345;
  const data = randomData(size);
  const hex = sha(data);
  // Cuts at a boundary, mid-part, a boundary again, and the end.
  const cuts = [0, 1000, PART, PART + 777, 2 * PART, size];

  it('resumes across restarts at every kind of cut, then answers and stores the digest', async () => {
    const s3 = fakeS3();
    await create(newStore(s3), 'a', size, hex);
    for (let i = 1; i < cuts.length; i++) {
      const from = cuts[i - 1] as number;
      const to = cuts[i] as number;
      expect(await offsetOf(s3, 'a')).toBe(from);
      // A fresh store per PATCH: every hash state comes from S3.
      expect(await write(newStore(s3), 'a', data, from, to)).toBe(to);
    }
    expect(sha(s3.object(objectKey(PREFIX, 'a')) as Buffer)).toBe(hex);
    expect(objectMeta(s3, 'a')?.sha256).toBe(hex);
    const head = await inRequest('HEAD', {}, async () => {
      const store = newStore(s3);
      await store.getUpload('a');
      return requestContext.getStore()?.reply.digest;
    });
    expect(head).toBe(hex);
  });

  it('a digest wrong by one bit answers 460 on the last byte and publishes nothing', async () => {
    const s3 = fakeS3();
    const store = newStore(s3);
    await create(store, 'b', size, flipBit(hex));
    expect(await write(store, 'b', data, 0, PART + 5)).toBe(PART + 5);
    expect(await statusOf(write(store, 'b', data, PART + 5, size))).toBe(460);
    expect(s3.object(objectKey(PREFIX, 'b'))).toBeUndefined();
    // The upload stays where that request began; it can only be terminated usefully.
    expect(await offsetOf(s3, 'b')).toBe(PART + 5);
    await inRequest('DELETE', {}, () => newStore(s3).remove('b'));
    expect([...s3.state.bucket(BUCKET).keys()].filter((k) => k.startsWith(`${PREFIX}b`))).toEqual(
      [],
    );
  });

  it('a one-part upload with a wrong digest never reaches PutObject', async () => {
    const s3 = fakeS3();
    const small = data.subarray(0, 4000);
    const store = newStore(s3);
    await create(store, 'c', small.length, flipBit(sha(small)));
    expect(await statusOf(write(store, 'c', small, 0, small.length))).toBe(460);
    expect(s3.object(objectKey(PREFIX, 'c'))).toBeUndefined();
    expect(await offsetOf(s3, 'c')).toBe(0);
    // The right bytes with the right digest: a new upload, which completes.
    await create(store, 'c2', small.length, sha(small));
    expect(await write(store, 'c2', small, 0, small.length)).toBe(small.length);
    expect(objectMeta(s3, 'c2')?.sha256).toBe(sha(small));
  });

  it('a crash between UploadPart and the state write cuts the offset back; the resend completes', async () => {
    const s3 = fakeS3();
    await create(newStore(s3), 'd', size, hex);
    expect(await write(newStore(s3), 'd', data, 0, 1000)).toBe(1000);
    // The PATCH's parts land, its state object does not.
    s3.failOn('PutObject', { match: (input) => String(input.Key).includes('.sha.') });
    expect(await statusOf(write(newStore(s3), 'd', data, 1000, 2 * PART))).toBeDefined();
    expect(await offsetOf(s3, 'd')).toBe(1000);
    expect(await write(newStore(s3), 'd', data, 1000, size)).toBe(size);
    expect(sha(s3.object(objectKey(PREFIX, 'd')) as Buffer)).toBe(hex);
    expect(objectMeta(s3, 'd')?.sha256).toBe(hex);
  });

  it('merged segments carry the newest state (20 small PATCHes, each on a fresh store)', async () => {
    const s3 = fakeS3();
    await create(newStore(s3), 'm', size, hex);
    let at = 0;
    let merges = 0;
    for (let i = 0; i < 20; i++) {
      const store = newStore(s3);
      at = await write(store, 'm', data, at, at + 1000 + i);
      merges += store.metrics.segmentMerges;
    }
    expect(merges).toBeGreaterThan(0);
    expect(await write(newStore(s3), 'm', data, at, at + 5)).toBe(at + 5);
    expect(await write(newStore(s3), 'm', data, at + 5, size)).toBe(size);
    expect(objectMeta(s3, 'm')?.sha256).toBe(hex);
  });

  it('bytes an Upload-Checksum refused never reach the hash', async () => {
    const s3 = fakeS3();
    const store = newStore(s3);
    await create(store, 'k', size, hex);
    expect(await write(store, 'k', data, 0, PART + 10)).toBe(PART + 10);
    // The same range with a corrupted byte and the checksum of the right bytes: refused.
    const bad = Buffer.from(data);
    bad[PART + 20] = (bad[PART + 20] as number) ^ 1;
    const right = createHash('sha1')
      .update(data.subarray(PART + 10, 2 * PART))
      .digest();
    const checked = (bytes: Buffer) =>
      inRequest(
        'PATCH',
        { uploadOffset: PART + 10, checksum: { algorithm: 'sha1', digest: right } },
        () => store.write(body(bytes.subarray(PART + 10, 2 * PART)), 'k', PART + 10),
      );
    expect(await statusOf(checked(bad))).toBe(460);
    expect(await checked(data)).toBe(2 * PART);
    expect(await write(store, 'k', data, 2 * PART, size)).toBe(size);
    expect(objectMeta(s3, 'k')?.sha256).toBe(hex);
  });

  it('a digest declared on the first PATCH counts; a different one later is refused', async () => {
    const s3 = fakeS3();
    const store = newStore(s3);
    await create(store, 'e', size);
    expect(await write(store, 'e', data, 0, PART, hex)).toBe(PART);
    expect(await statusOf(write(newStore(s3), 'e', data, PART, size, flipBit(hex)))).toBe(400);
    expect(await write(newStore(s3), 'e', data, PART, size, hex)).toBe(size);
    // Declared after creation: the info holds it, not the object's metadata.
    const info = JSON.parse(String(s3.object(`${PREFIX}e.info`)));
    expect(info.digest.sha256).toBe(hex);
  });

  it('a digest declared after bytes the server did not hash is refused', async () => {
    const s3 = fakeS3();
    const store = newStore(s3);
    await create(store, 'f', size);
    expect(await write(store, 'f', data, 0, 100)).toBe(100);
    expect(await statusOf(write(store, 'f', data, 100, 200, hex))).toBe(400);
  });

  it("under digest: 'sha256' a digest declared only with the last byte is verified", async () => {
    // A streaming client knows the digest only at the end: it declares it on its last PATCH.
    const s3 = fakeS3();
    const opts = { digest: 'sha256' } as const;
    await create(newStore(s3, opts), 'w', size);
    expect(await write(newStore(s3, opts), 'w', data, 0, PART + 9)).toBe(PART + 9);
    expect(await statusOf(write(newStore(s3, opts), 'w', data, PART + 9, size, flipBit(hex)))).toBe(
      460,
    );
    expect(s3.object(objectKey(PREFIX, 'w'))).toBeUndefined();
    await create(newStore(s3, opts), 'r', size);
    expect(await write(newStore(s3, opts), 'r', data, 0, PART + 9)).toBe(PART + 9);
    expect(await write(newStore(s3, opts), 'r', data, PART + 9, size, hex)).toBe(size);
    expect(sha(s3.object(objectKey(PREFIX, 'r')) as Buffer)).toBe(hex);
    expect(JSON.parse(String(s3.object(`${PREFIX}r.info`))).digest).toMatchObject({
      declared: hex,
      sha256: hex,
    });
  });

  it("digest: 'sha256' hashes undeclared uploads; without it nothing is hashed", async () => {
    const s3 = fakeS3();
    const hashing = newStore(s3, { digest: 'sha256' });
    await create(hashing, 'g', size);
    expect(await write(hashing, 'g', data, 0, PART)).toBe(PART);
    expect(await write(newStore(s3, { digest: 'sha256' }), 'g', data, PART, size)).toBe(size);
    expect(JSON.parse(String(s3.object(`${PREFIX}g.info`))).digest.sha256).toBe(hex);

    const plain = newStore(s3);
    await create(plain, 'h', size);
    const before = s3.commands().length;
    expect(await write(plain, 'h', data, 0, PART)).toBe(PART);
    expect(await write(plain, 'h', data, PART, size)).toBe(size);
    const keys = s3.commands(before);
    expect(keys.filter((c) => c === 'PutObject')).toEqual(['PutObject']); // the info at completion
    expect(JSON.parse(String(s3.object(`${PREFIX}h.info`))).digest).toBeUndefined();
    expect(objectMeta(s3, 'h')).toBeUndefined();
  });
});
