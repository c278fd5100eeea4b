import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseChallengeHeader, proofHeader } from '../src/instant/challenge.js';
import { computeInstantProof } from '../src/instant/proof.js';
import { blobSource } from '../src/sources/blob.js';
import { nodeFileSource } from '../src/sources/node-file.js';

const FILE = randomBytes(30_000);
const NONCE = randomBytes(32);
const header = (offsets: number[], length = 4096, nonce = NONCE) =>
  `nonce=:${nonce.toString('base64')}:, length=${length}, offsets=(${offsets.join(' ')})`;

const expected = (offsets: number[], length = 4096) =>
  createHash('sha256')
    .update(Buffer.concat([NONCE, ...offsets.map((o) => FILE.subarray(o, o + length))]))
    .digest();

describe('parseChallengeHeader', () => {
  it('reads nonce, length and offsets, skipping members and parameters it does not know', () => {
    expect(parseChallengeHeader(header([0, 77, 25_000]), FILE.length)).toEqual({
      nonce: new Uint8Array(NONCE),
      length: 4096,
      offsets: [0, 77, 25_000],
    });
    const extended = `v=2;x=1, nonce=:${NONCE.toString('base64')}:;a=?1,length=10,  offsets=(5 6;p="q"), note="hi", t=tok`;
    expect(parseChallengeHeader(extended, FILE.length)).toMatchObject({
      length: 10,
      offsets: [5, 6],
    });
  });

  it.each([
    ['absent', undefined],
    ['empty', ''],
    ['no nonce', 'length=10, offsets=(1)'],
    ['a range past the end', header([FILE.length - 100])],
    ['a zero length', header([0], 0)],
    ['no offsets', header([])],
    ['a string offset', header(['"1"' as unknown as number])],
    ['a trailing comma', `${header([1])},`],
    ['garbage', 'nonce=:@@:, length=1'],
  ])('%s is no challenge (the client uploads normally)', (_, value) => {
    expect(parseChallengeHeader(value, FILE.length)).toBeUndefined();
  });
});

describe('computeInstantProof', () => {
  const offsets = [0, 100, 100, 25_904];
  const challenge = { nonce: new Uint8Array(NONCE), length: 4096, offsets };

  it('hashes nonce then ranges in order, from a Blob source', async () => {
    const proof = await computeInstantProof(challenge, blobSource(new Blob([FILE])));
    expect(Buffer.from(proof)).toEqual(expected(offsets));
    expect(proofHeader(proof)).toBe(`:${expected(offsets).toString('base64')}:`);
  });

  it('from a Node file source (streamed ranges)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tus-instant-'));
    try {
      const file = path.join(dir, 'f');
      writeFileSync(file, FILE);
      const source = await nodeFileSource(file);
      const proof = await computeInstantProof(challenge, source);
      await source.close();
      expect(Buffer.from(proof)).toEqual(expected(offsets));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a source shorter than the challenge fails instead of answering wrong', async () => {
    const short = blobSource(new Blob([FILE.subarray(0, 1000)]));
    await expect(computeInstantProof(challenge, short)).rejects.toThrow(RangeError);
  });
});
