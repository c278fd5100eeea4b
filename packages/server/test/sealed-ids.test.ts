// Sealed ids (s3/sealed/): the codec, what an info sealed in an id is, and the key kept in
// the bucket (against the fake S3; the whole flow runs on RGW in e2e/server-sealed-ids).
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import type { UploadInfo } from '../src/s3/info.js';
import { isValidId, sealKeyKey } from '../src/s3/keys.js';
import { isSealedId, openId, SEALED_ID_MAX, sealId } from '../src/s3/sealed/seal.js';
import { SealKeeper } from '../src/s3/sealed/seal-key.js';
import { infoOfSealed, isSealedAs, tombstoneOf } from '../src/s3/sealed/sealed-info.js';
import { BUCKET, fakeS3, PREFIX } from './helpers/store-harness.js';

const key = randomBytes(32);
const creation = {
  size: 256 * 1024,
  createdAt: Date.parse('2026-12-07T05:00:00.000Z'),
  partSize: 8 * 1024 * 1024,
  metadata: { filename: 'été plan.bin', filetype: 'application/pdf', empty: null },
  owner: 'alice',
  tenant: 'acme',
};

describe('sealId / openId', () => {
  it('opens what it sealed, and the id is a valid, sealed-looking upload id', () => {
    const id = sealId(key, creation) as string;
    expect(isSealedId(id)).toBe(true);
    expect(isValidId(id)).toBe(true);
    expect(id.length).toBeLessThanOrEqual(SEALED_ID_MAX);
    expect(openId(key, id)).toEqual(creation);
    // Nothing of the metadata can be read from the id.
    expect(Buffer.from(id.slice(1), 'base64url').toString('latin1')).not.toMatch(/plan|alice/);
  });

  it('two creations alike get different ids', () => {
    expect(sealId(key, creation)).not.toBe(sealId(key, creation));
  });

  it('opens nothing under another key, altered, truncated or made up', () => {
    const id = sealId(key, creation) as string;
    expect(openId(randomBytes(32), id)).toBeUndefined();
    for (const i of [1, 10, id.length - 1]) {
      const c = id[i] === 'A' ? 'B' : 'A';
      expect(openId(key, `${id.slice(0, i)}${c}${id.slice(i + 1)}`)).toBeUndefined();
    }
    expect(openId(key, id.slice(0, 45))).toBeUndefined();
    expect(openId(key, `t${'A'.repeat(60)}`)).toBeUndefined();
    expect(openId(key, 'a'.repeat(32))).toBeUndefined();
    expect(isSealedId(`s${'0'.repeat(32)}`)).toBe(false);
    expect(isSealedId('0'.repeat(32))).toBe(false);
  });

  it('gives no id when the creation would make it too long', () => {
    const metadata = { filename: 'x'.repeat(400) };
    expect(sealId(key, { ...creation, metadata })).toBeUndefined();
  });
});

describe('sealed info', () => {
  const id = 'tSEALED';
  it('is what a creation of the same upload builds, and the tombstone keeps its time', () => {
    const info = infoOfSealed(id, creation);
    expect(info).toEqual({
      version: 1,
      id,
      size: creation.size,
      metadata: creation.metadata,
      partSize: creation.partSize,
      createdAt: '2026-12-07T05:00:00.000Z',
      owner: 'alice',
      tenant: 'acme',
    });
    expect(isSealedAs(info, creation)).toBe(true);
    // A field set to undefined is no field, as in the stored JSON.
    expect(isSealedAs({ ...info, uploadId: undefined }, creation)).toBe(true);
    expect(tombstoneOf(info)).toEqual({
      version: 1,
      id,
      size: creation.size,
      partSize: creation.partSize,
      createdAt: info.createdAt,
      terminated: true,
    });
  });

  it('is not what the id seals once anything differs or more is recorded', () => {
    const info = infoOfSealed(id, creation);
    const changed: UploadInfo[] = [
      { ...info, size: 1 },
      { ...info, owner: 'bob' },
      { ...info, metadata: { filename: 'other' } },
      { ...info, createdAt: new Date().toISOString() },
      { ...info, uploadId: 'mpu' },
      { ...info, concat: { role: 'partial' } },
      { ...info, digest: { declared: 'sha-256=:x:' } },
    ];
    for (const c of changed) expect(isSealedAs(c, creation)).toBe(false);
  });
});

describe('SealKeeper', () => {
  const log = pino({ level: 'silent' });

  it('makes the key once, in the bucket; a restarted keeper opens the ids it sealed', async () => {
    const s3 = fakeS3();
    const deps = { client: s3.client, bucket: BUCKET, prefix: PREFIX, log };
    const first = new SealKeeper(deps, 60_000);
    // Looking at an id makes no key; sealing one does.
    expect(await first.open(`t${'A'.repeat(60)}`)).toBeUndefined();
    expect(s3.keys()).toEqual([]);
    const now = { ...creation, createdAt: Date.now() };
    const id = (await first.seal(now)) as string;
    expect(s3.keys()).toEqual([sealKeyKey(PREFIX)]);
    expect(await first.seal(now)).toMatch(/^t/);
    expect(s3.keys()).toEqual([sealKeyKey(PREFIX)]);
    const restarted = new SealKeeper(deps, 60_000);
    expect(await restarted.open(id)).toEqual(now);
  });

  it('opens no id older than the expiration', async () => {
    const s3 = fakeS3();
    const keeper = new SealKeeper(
      { client: s3.client, bucket: BUCKET, prefix: PREFIX, log },
      60_000,
    );
    const at = Date.now();
    const id = (await keeper.seal({ ...creation, createdAt: at })) as string;
    expect(await keeper.open(id, at + 59_000)).toBeDefined();
    expect(await keeper.open(id, at + 61_000)).toBeUndefined();
  });

  it('a key S3 cannot give now: a creation gets no sealed id, a look fails, not misses', async () => {
    const s3 = fakeS3();
    const deps = { client: s3.client, bucket: BUCKET, prefix: PREFIX, log };
    const id = (await new SealKeeper(deps, 60_000).seal({
      ...creation,
      createdAt: Date.now(),
    })) as string;
    const keeper = new SealKeeper(deps, 60_000);
    s3.failOn('GetObject');
    await expect(keeper.open(id)).rejects.toThrow('injected failure');
    expect(await keeper.seal(creation)).toBeUndefined();
    // S3 is back: the next look reads the key and opens the id.
    expect(await keeper.open(id)).toMatchObject({ size: creation.size });
  });

  it('uses a given key without S3, and refuses one of the wrong length', async () => {
    const s3 = fakeS3();
    const deps = { client: s3.client, bucket: BUCKET, prefix: PREFIX, log };
    const keeper = new SealKeeper(deps, 0, key);
    const id = (await keeper.seal(creation)) as string;
    expect(openId(key, id)).toEqual(creation);
    // No expiration: an old creation still opens.
    expect(await keeper.open(id)).toEqual(creation);
    expect(s3.keys()).toEqual([]);
    expect(() => new SealKeeper(deps, 0, randomBytes(16))).toThrow(/32 bytes/);
  });
});
