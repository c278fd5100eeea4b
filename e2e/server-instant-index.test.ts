// The instant-upload index and the proof's range reads against RGW: entries per tenant,
// ranged GetObjects of an indexed object, the proof a holder of the bytes computes, and a
// stale entry (its object gone) reading as missing and being deleted.
import { createHash, randomBytes } from 'node:crypto';
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { parseChallengeHeader } from '../packages/client/src/instant/challenge.js';
import { computeInstantProof } from '../packages/client/src/instant/proof.js';
import { blobSource } from '../packages/client/src/sources/blob.js';
import {
  challengeHeader,
  makeChallenge,
  type StoredChallenge,
} from '../packages/server/src/instant/challenge.js';
import { type IndexEntry, indexKey } from '../packages/server/src/instant/index-keys.js';
import {
  deleteEntry,
  getEntry,
  type IndexContext,
  putEntry,
  readEntryRange,
} from '../packages/server/src/instant/index-store.js';
import { computeProof } from '../packages/server/src/instant/proof.js';
import { decideProof, type ProofIo } from '../packages/server/src/instant/verify.js';
import { createTestBucket, deleteBucketDeep, listKeys, testS3Client } from './helpers/s3.js';

const PREFIX = 'up/';
const FILE = randomBytes(3 * 1024 * 1024 + 123);
const SHA = createHash('sha256').update(FILE).digest('hex');
const TENANT = 'tenant/with slashes & ünïcode';

let bucket: string;
let ctx: IndexContext;
beforeAll(async () => {
  bucket = await createTestBucket('instant-index');
  ctx = { client: testS3Client(), bucket, prefix: PREFIX };
});
afterAll(async () => {
  await deleteBucketDeep(bucket);
});

function entryFor(id: string): IndexEntry {
  return {
    version: 1,
    key: `${PREFIX}${id}`,
    uploadId: id,
    size: FILE.length,
    sha256: SHA,
    createdAt: new Date().toISOString(),
  };
}

async function storeObject(key: string): Promise<void> {
  await ctx.client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: FILE }));
}

/** The I/O decideProof gets from the store, over RGW, with `challenge` as the upload's. */
function s3Io(challenge: StoredChallenge): ProofIo {
  let stored: StoredChallenge | undefined = challenge;
  return {
    consume: async () => {
      const c = stored;
      stored = undefined;
      return c;
    },
    lookup: (tenant, sha, size) => getEntry(ctx, tenant, sha, size),
    readRange: (entry, offset, length) => readEntryRange(ctx, entry, offset, length),
    forget: (tenant, entry) => deleteEntry(ctx, tenant, entry.sha256, entry.size),
    now: () => Date.now(),
  };
}

const localProof = (c: StoredChallenge) =>
  computeProof(
    Buffer.from(c.nonce, 'base64'),
    c.offsets.map((o) => FILE.subarray(o, o + c.length)),
  );

describe('instant-upload index on RGW', () => {
  it('the ranges read from S3 give the proof computed from the local bytes', async () => {
    const entry = entryFor('a1');
    await storeObject(entry.key);
    await putEntry(ctx, TENANT, entry);
    expect(await listKeys(bucket, `${PREFIX}.instant/`)).toEqual([
      indexKey(PREFIX, TENANT, SHA, FILE.length),
    ]);
    expect(await getEntry(ctx, TENANT, SHA, FILE.length)).toEqual(entry);
    expect(await getEntry(ctx, 'another tenant', SHA, FILE.length)).toBeUndefined();

    const challenge = makeChallenge(SHA, FILE.length, Date.now());
    const ranges = await Promise.all(
      challenge.offsets.map((o) => readEntryRange(ctx, entry, o, challenge.length)),
    );
    const fromS3 = computeProof(Buffer.from(challenge.nonce, 'base64'), ranges as Uint8Array[]);
    expect(fromS3).toEqual(localProof(challenge));
    // What a client computes from the header alone is that same proof.
    const parsed = parseChallengeHeader(challengeHeader(challenge), FILE.length);
    if (!parsed) throw new Error('the client could not read the challenge');
    const clientProof = await computeInstantProof(parsed, blobSource(new Blob([FILE])));
    expect(Buffer.from(clientProof)).toEqual(fromS3);

    expect(await decideProof(TENANT, localProof(challenge), s3Io(challenge))).toEqual({
      instant: true,
      source: entry,
    });
    const other = makeChallenge(SHA, FILE.length, Date.now());
    expect(await decideProof('another tenant', localProof(other), s3Io(other))).toMatchObject({
      instant: false,
      reason: 'no-entry',
    });
    const wrong = makeChallenge(SHA, FILE.length, Date.now());
    expect(await decideProof(TENANT, localProof(challenge), s3Io(wrong))).toMatchObject({
      instant: false,
      reason: 'mismatch',
    });
  });

  it('an entry whose object is gone reads as missing and is deleted', async () => {
    const entry = entryFor('b2');
    await storeObject(entry.key);
    await putEntry(ctx, 'stale-tenant', entry);
    await ctx.client.send(new DeleteObjectCommand({ Bucket: bucket, Key: entry.key }));
    expect(await readEntryRange(ctx, entry, 0, 4096)).toBeUndefined();

    const challenge = makeChallenge(SHA, FILE.length, Date.now());
    expect(await decideProof('stale-tenant', localProof(challenge), s3Io(challenge))).toMatchObject(
      { instant: false, reason: 'stale' },
    );
    expect(await getEntry(ctx, 'stale-tenant', SHA, FILE.length)).toBeUndefined();
    expect(await listKeys(bucket, indexKey(PREFIX, 'stale-tenant', SHA, FILE.length))).toEqual([]);
  });
});
