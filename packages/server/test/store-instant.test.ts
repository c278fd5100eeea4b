// Instant upload through the store on the fake S3: the challenge at creation (drawn
// blind), the index entry written after a verified digest only, the proof that copies
// (CopyObject for a one-part upload, UploadPartCopy into the upload's own multipart upload
// otherwise), and every proof that must not: wrong bytes, a spent challenge, another
// tenant, a stale entry. The RGW tests (e2e/server-instant*.test.ts) do the same over HTTP.
import { createHash } from 'node:crypto';
import { Upload } from '@tus/utils';
import type { Principal } from '../src/auth/principal.js';
import type { TusError } from '../src/errors.js';
import { type RequestContext, requestContext } from '../src/front/request-context.js';
import { indexKey, OPEN_TENANT, parseEntry } from '../src/instant/index-keys.js';
import { computeProof } from '../src/instant/proof.js';
import { parseInfo } from '../src/s3/info.js';
import { infoKey, objectKey } from '../src/s3/keys.js';
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
const ALICE: Principal = { owner: 'alice', tenant: 'acme' };
const BOB: Principal = { owner: 'bob', tenant: 'other' };
const ALICE_COLLEAGUE: Principal = { owner: 'carol', tenant: 'acme' };

function inRequest<T>(
  method: string,
  extra: Partial<RequestContext>,
  fn: () => Promise<T>,
): Promise<T> {
  return requestContext.run({ baseUrl: '/files', method, reply: {}, ...extra }, fn);
}

const instantStore = (s3: FakeS3) => newStore(s3, { instantUpload: { floorMs: 0 } });

/** A creation as the front hands it over; answers the Upload-Instant-Challenge, if any. */
async function create(
  store: S3MultipartStore,
  id: string,
  size: number,
  opts: { declared?: string; instant?: boolean; principal?: Principal } = {},
): Promise<string | undefined> {
  const ctx: Partial<RequestContext> = {
    reprDigest: opts.declared,
    instant: opts.instant,
    principal: opts.principal,
  };
  const reply: RequestContext['reply'] = {};
  await inRequest('POST', { ...ctx, reply }, () =>
    store.create(new Upload({ id, size, offset: 0 })),
  );
  return reply.instantChallenge;
}

async function upload(
  store: S3MultipartStore,
  id: string,
  data: Buffer,
  principal?: Principal,
): Promise<number> {
  return inRequest('PATCH', { uploadOffset: 0, principal }, () => store.write(body(data), id, 0));
}

function prove(
  store: S3MultipartStore,
  id: string,
  proof: Uint8Array,
  principal?: Principal,
): Promise<number> {
  return inRequest(
    'PATCH',
    {
      uploadOffset: 0,
      contentLength: 0,
      principal,
      instantProof: { proof, receivedAt: performance.now() },
    },
    () => store.write(body(Buffer.alloc(0)), id, 0),
  );
}

/** The proof a holder of `data` computes for the challenge header. */
function proofFor(header: string | undefined, data: Buffer): Buffer {
  const m = /^nonce=:([^:]+):, length=(\d+), offsets=\(([\d ]+)\)$/.exec(header ?? '');
  if (!m) throw new Error(`not a challenge: ${header}`);
  const length = Number(m[2]);
  const offsets = (m[3] as string).split(' ').map(Number);
  return computeProof(
    Buffer.from(m[1] as string, 'base64'),
    offsets.map((o) => data.subarray(o, o + length)),
  );
}

function info(s3: FakeS3, id: string) {
  const bytes = s3.object(infoKey(PREFIX, id));
  return bytes && parseInfo(bytes.toString('utf-8'));
}

function entry(s3: FakeS3, tenant: string, data: Buffer) {
  const bytes = s3.object(indexKey(PREFIX, tenant, sha(data), data.length));
  return bytes && parseEntry(bytes.toString('utf-8'));
}

async function statusOf(p: Promise<unknown>): Promise<number | undefined> {
  try {
    await p;
  } catch (e) {
    return (e as TusError).status_code ?? -1;
  }
  return undefined;
}

/** An ordinary upload of `data` with its digest declared, finished. */
async function stored(store: S3MultipartStore, id: string, data: Buffer, principal?: Principal) {
  await create(store, id, data.length, { declared: sha(data), principal });
  expect(await upload(store, id, data, principal)).toBe(data.length);
}

describe('instant upload in the S3 store', () => {
  const big = randomData(2 * PART + 4321); // a multipart upload
  const small = randomData(300_000); // one part

  it('indexes an upload once its digest is verified, for its tenant only', async () => {
    const s3 = fakeS3();
    const store = instantStore(s3);
    await create(store, 'a', big.length, { declared: sha(big), principal: ALICE });
    // Not before the last byte: an entry never names an unfinished upload.
    await inRequest('PATCH', { uploadOffset: 0, principal: ALICE }, () =>
      store.write(body(big.subarray(0, PART)), 'a', 0),
    );
    expect(entry(s3, 'acme', big)).toBeUndefined();
    await inRequest('PATCH', { uploadOffset: PART, principal: ALICE }, () =>
      store.write(body(big.subarray(PART)), 'a', PART),
    );
    expect(entry(s3, 'acme', big)).toMatchObject({
      key: objectKey(PREFIX, 'a'),
      uploadId: 'a',
      size: big.length,
      sha256: sha(big),
    });
    expect(entry(s3, 'alice', big)).toBeUndefined();
    expect(entry(s3, OPEN_TENANT, big)).toBeUndefined();
    // The one-part path (its PutObject) too, on an open server: the empty tenant.
    await stored(store, 'b', small);
    expect(entry(s3, OPEN_TENANT, small)?.uploadId).toBe('b');
  });

  it('writes no entry without a verified digest, or when instant upload is off', async () => {
    const s3 = fakeS3();
    await create(instantStore(s3), 'plain', small.length);
    expect(await upload(instantStore(s3), 'plain', small)).toBe(small.length);
    await stored(newStore(s3), 'off', small);
    expect(s3.keys(`${PREFIX}.instant/`)).toEqual([]);
    // A mismatching digest: 460, and nothing indexed.
    const wrong = sha(Buffer.from('something else'));
    await create(instantStore(s3), 'bad', small.length, { declared: wrong });
    expect(await statusOf(upload(instantStore(s3), 'bad', small))).toBe(460);
    expect(s3.keys(`${PREFIX}.instant/`)).toEqual([]);
    // Under digest: 'sha256' an undeclared upload is hashed, so it is indexed.
    const hashing = newStore(s3, { instantUpload: { floorMs: 0 }, digest: 'sha256' });
    await create(hashing, 'hashed', small.length);
    expect(await upload(hashing, 'hashed', small)).toBe(small.length);
    expect(entry(s3, OPEN_TENANT, small)?.uploadId).toBe('hashed');
  });

  it('draws the challenge blind and keeps it in the info record, bound to digest and length', async () => {
    const s3 = fakeS3();
    const store = instantStore(s3);
    const before = s3.requests.length;
    const header = await create(store, 'c', big.length, { declared: sha(big), instant: true });
    expect(header).toMatch(/^nonce=:[A-Za-z0-9+/]{43}=:, length=4096, offsets=\((\d+ ){15}\d+\)$/);
    // Nothing under the index was asked for.
    expect(
      s3.requests.slice(before).filter((r) => String(r.input.Key).includes('.instant/')),
    ).toEqual([]);
    expect(info(s3, 'c')?.instant).toMatchObject({ sha256: sha(big), size: big.length });
    // Without instant: no challenge, none stored; with the option off: the same.
    expect(await create(store, 'd', big.length, { declared: sha(big) })).toBeUndefined();
    expect(info(s3, 'd')?.instant).toBeUndefined();
    const off = newStore(s3);
    expect(
      await create(off, 'e', big.length, { declared: sha(big), instant: true }),
    ).toBeUndefined();
  });

  it.each([
    ['a multipart upload', big],
    ['a one-part upload', small],
  ])('a proof that holds makes %s complete by one CopyObject', async (_, data) => {
    const s3 = fakeS3();
    const store = instantStore(s3);
    await stored(store, 'src', data, ALICE);
    const challenge = await create(store, 'dst', data.length, {
      declared: sha(data),
      instant: true,
      principal: ALICE_COLLEAGUE,
    });
    const since = s3.requests.length;
    expect(await prove(store, 'dst', proofFor(challenge, data), ALICE_COLLEAGUE)).toBe(data.length);
    // The S3 cost of a proof that holds: the challenge spent (the info), the entry and 16
    // ranges, the copy and the new entry, and for a multipart upload (copied whole, so it
    // becomes one-part) the open marker it never had, the info (complete) and the abort of
    // its multipart upload. A one-part upload's marker was still waiting
    // (s3/pending-markers.ts): it is never written, so there is none to delete.
    expect(s3.commands(since)).toEqual([
      'PutObject',
      ...new Array(17).fill('GetObject'),
      'CopyObject',
      ...(data === big ? ['DeleteObject'] : []),
      'PutObject',
      ...(data === big ? ['PutObject', 'AbortMultipartUpload'] : []),
    ]);
    expect(s3.object(objectKey(PREFIX, 'dst'))?.equals(data)).toBe(true);
    expect(s3.state.bucket(BUCKET).get(objectKey(PREFIX, 'dst'))?.metadata).toEqual({
      sha256: sha(data),
    });
    // HEAD from a fresh instance: finished, with the digest HEAD answers.
    const reply: RequestContext['reply'] = {};
    const up = await inRequest('HEAD', { reply, principal: ALICE_COLLEAGUE }, () =>
      instantStore(s3).getUpload('dst'),
    );
    expect(up.offset).toBe(data.length);
    expect(reply.digest).toBe(sha(data));
    // The entry now names the newest copy; no challenge is left.
    expect(entry(s3, 'acme', data)?.uploadId).toBe('dst');
    expect(info(s3, 'dst')?.instant).toBeUndefined();
    expect(s3.uploads()).toEqual([]);
  });

  it('a wrong proof, a spent challenge and another tenant all answer 0, nothing copied', async () => {
    const s3 = fakeS3();
    const store = instantStore(s3);
    await stored(store, 'src', big, ALICE);
    const challenge = await create(store, 'x', big.length, {
      declared: sha(big),
      instant: true,
      principal: ALICE,
    });
    const other = Buffer.from(big);
    other.fill(7, 0, big.length);
    expect(await prove(store, 'x', proofFor(challenge, other), ALICE)).toBe(0);
    expect(info(s3, 'x')?.instant).toBeUndefined();
    // The right answer now comes too late: the challenge is spent.
    expect(await prove(store, 'x', proofFor(challenge, big), ALICE)).toBe(0);
    // So is it from a fresh instance (the record in S3 says so, not this memory).
    expect(await prove(instantStore(s3), 'x', proofFor(challenge, big), ALICE)).toBe(0);
    expect(s3.object(objectKey(PREFIX, 'x'))).toBeUndefined();
    // The upload goes on as an ordinary one.
    expect(await upload(store, 'x', big, ALICE)).toBe(big.length);

    const theirs = await create(store, 'y', big.length, {
      declared: sha(big),
      instant: true,
      principal: BOB,
    });
    const since = s3.requests.length;
    expect(await prove(store, 'y', proofFor(theirs, big), BOB)).toBe(0);
    expect(s3.commands(since)).not.toContain('CopyObject');
    expect(s3.commands(since)).not.toContain('UploadPartCopy');
    expect(s3.object(objectKey(PREFIX, 'y'))).toBeUndefined();
    expect(store.metrics.instantRefused).toBe(3);
  });

  it('a stale entry reads as missing and is deleted; an expired challenge answers 0', async () => {
    const s3 = fakeS3();
    const store = instantStore(s3);
    await stored(store, 'src', small);
    s3.state.bucket(BUCKET).delete(objectKey(PREFIX, 'src'));
    const challenge = await create(store, 'z', small.length, {
      declared: sha(small),
      instant: true,
    });
    expect(await prove(store, 'z', proofFor(challenge, small))).toBe(0);
    expect(entry(s3, OPEN_TENANT, small)).toBeUndefined();

    await stored(store, 'src2', small);
    const late = await create(store, 'w', small.length, { declared: sha(small), instant: true });
    const record = info(s3, 'w');
    if (!record?.instant) throw new Error('no challenge stored');
    record.instant.expiresAt = Date.now() - 1;
    s3.state.bucket(BUCKET).get(infoKey(PREFIX, 'w'))!.bytes = Buffer.from(JSON.stringify(record));
    expect(await prove(instantStore(s3), 'w', proofFor(late, small))).toBe(0);
  });

  it('refuses a proof once the upload has bytes (409)', async () => {
    const s3 = fakeS3();
    const store = instantStore(s3);
    const challenge = await create(store, 'p', big.length, { declared: sha(big), instant: true });
    await inRequest('PATCH', { uploadOffset: 0 }, () =>
      store.write(body(big.subarray(0, PART)), 'p', 0),
    );
    const at = inRequest(
      'PATCH',
      {
        uploadOffset: PART,
        contentLength: 0,
        instantProof: { proof: proofFor(challenge, big), receivedAt: performance.now() },
      },
      () => store.write(body(Buffer.alloc(0)), 'p', PART),
    );
    expect(await statusOf(at)).toBe(409);
    // Finished the ordinary way, the upload keeps no challenge.
    expect(info(s3, 'p')?.instant).toBeDefined();
    await inRequest('PATCH', { uploadOffset: PART }, () =>
      store.write(body(big.subarray(PART)), 'p', PART),
    );
    expect(info(s3, 'p')).toMatchObject({ completedAt: expect.any(String) });
    expect(info(s3, 'p')?.instant).toBeUndefined();
  });

  it('DELETE of a finished upload removes the entry only if it names that upload', async () => {
    const s3 = fakeS3();
    const store = instantStore(s3);
    await stored(store, 'one', small, ALICE);
    await stored(store, 'two', small, ALICE);
    expect(entry(s3, 'acme', small)?.uploadId).toBe('two');
    await inRequest('DELETE', { principal: ALICE }, () => store.remove('one'));
    expect(entry(s3, 'acme', small)?.uploadId).toBe('two');
    // From a fresh instance: the one-part upload's info does not say it finished.
    await inRequest('DELETE', { principal: ALICE }, () => instantStore(s3).remove('two'));
    expect(entry(s3, 'acme', small)).toBeUndefined();
    await stored(store, 'three', big, ALICE);
    expect(entry(s3, 'acme', big)?.uploadId).toBe('three');
    await inRequest('DELETE', { principal: ALICE }, () => instantStore(s3).remove('three'));
    expect(entry(s3, 'acme', big)).toBeUndefined();
  });
});
