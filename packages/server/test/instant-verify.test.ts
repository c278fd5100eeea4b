import { createHash, randomBytes } from 'node:crypto';
import { type Clock, withAnswerFloor } from '../src/instant/answer-floor.js';
import { makeChallenge, type StoredChallenge } from '../src/instant/challenge.js';
import type { IndexEntry } from '../src/instant/index-keys.js';
import { computeProof } from '../src/instant/proof.js';
import { decideProof, type ProofIo } from '../src/instant/verify.js';

const FILE = randomBytes(50_000);
const SHA = createHash('sha256').update(FILE).digest('hex');
const NOW = 1_000_000;
const entry: IndexEntry = {
  version: 1,
  key: 'up/stored',
  uploadId: 'stored',
  size: FILE.length,
  sha256: SHA,
  createdAt: new Date(0).toISOString(),
};

/** The answer a holder of `bytes` gives to `c`. */
function answer(c: StoredChallenge, bytes: Buffer): Buffer {
  return computeProof(
    Buffer.from(c.nonce, 'base64'),
    c.offsets.map((o) => bytes.subarray(o, o + c.length)),
  );
}

/** One upload's challenge record and a tenant-keyed index over in-memory objects. */
function world(opts: { objects?: Map<string, Buffer>; index?: Map<string, IndexEntry> } = {}) {
  const objects = opts.objects ?? new Map([[entry.key, FILE]]);
  const index = opts.index ?? new Map([[`t1|${SHA}|${FILE.length}`, entry]]);
  let stored: StoredChallenge | undefined = makeChallenge(SHA, FILE.length, NOW);
  const challenge = stored;
  const calls: string[] = [];
  const io: ProofIo = {
    consume: async () => {
      calls.push('consume');
      const c = stored;
      stored = undefined;
      return c;
    },
    lookup: async (tenant, sha, size) => {
      calls.push(`lookup ${tenant}`);
      return index.get(`${tenant}|${sha}|${size}`);
    },
    readRange: async (e, offset, length) => {
      calls.push('read');
      return objects.get(e.key)?.subarray(offset, offset + length);
    },
    forget: async (tenant, e) => {
      calls.push(`forget ${tenant}`);
      index.delete(`${tenant}|${e.sha256}|${e.size}`);
    },
    now: () => NOW + 1000,
  };
  return { io, challenge, calls, index };
}

describe('decideProof', () => {
  it('the right answer for the tenant’s content is instant, with the indexed source', async () => {
    const w = world();
    const outcome = await decideProof('t1', answer(w.challenge, FILE), w.io);
    expect(outcome).toEqual({ instant: true, source: entry });
    expect(w.calls.filter((c) => c === 'read')).toHaveLength(w.challenge.offsets.length);
    expect(w.calls[0]).toBe('consume');
  });

  it('a wrong answer is no; a client with the digest but other bytes cannot answer', async () => {
    const w = world();
    const forged = Buffer.from(FILE);
    const at = w.challenge.offsets[3] as number;
    forged[at] = (forged[at] as number) ^ 1;
    expect(await decideProof('t1', answer(w.challenge, forged), w.io)).toEqual({
      instant: false,
      reason: 'mismatch',
    });
    // Knowing the whole-file digest is no answer either.
    const w2 = world();
    const outcome = await decideProof('t1', Buffer.from(SHA, 'hex'), w2.io);
    expect(outcome).toMatchObject({ instant: false, reason: 'mismatch' });
  });

  it('a challenge answers once: a second proof, even the right one, is no', async () => {
    const w = world();
    const right = answer(w.challenge, FILE);
    await decideProof('t1', Buffer.alloc(32), w.io);
    expect(await decideProof('t1', right, w.io)).toEqual({
      instant: false,
      reason: 'no-challenge',
    });
  });

  it('an expired challenge is no, and is consumed without a lookup', async () => {
    const w = world();
    w.io.now = () => w.challenge.expiresAt + 1;
    expect(await decideProof('t1', answer(w.challenge, FILE), w.io)).toMatchObject({
      reason: 'expired',
    });
    expect(w.calls).toEqual(['consume']);
  });

  it('content the tenant does not have is no, without reading anything', async () => {
    const w = world({ index: new Map() });
    expect(await decideProof('t1', answer(w.challenge, FILE), w.io)).toMatchObject({
      reason: 'no-entry',
    });
    expect(w.calls).toEqual(['consume', 'lookup t1']);
  });

  it('another tenant’s entry is never used', async () => {
    const w = world();
    expect(await decideProof('t2', answer(w.challenge, FILE), w.io)).toMatchObject({
      instant: false,
      reason: 'no-entry',
    });
    expect(w.calls).toEqual(['consume', 'lookup t2']);
  });

  it('an entry whose object is gone is stale: no, and the entry is deleted', async () => {
    const w = world({ objects: new Map() });
    expect(await decideProof('t1', answer(w.challenge, FILE), w.io)).toMatchObject({
      reason: 'stale',
    });
    expect(w.calls).toContain('forget t1');
    expect(w.index.size).toBe(0);
  });

  it('an object shorter than its entry is stale', async () => {
    const w = world({ objects: new Map([[entry.key, FILE.subarray(0, 100)]]) });
    expect(await decideProof('t1', answer(w.challenge, FILE), w.io)).toMatchObject({
      reason: 'stale',
    });
  });

  it('an S3 failure after the challenge is consumed is a no like any other', async () => {
    const w = world();
    const boom = new Error('S3 down');
    w.io.readRange = async () => {
      throw boom;
    };
    expect(await decideProof('t1', answer(w.challenge, FILE), w.io)).toEqual({
      instant: false,
      reason: 'error',
      error: boom,
    });
  });

  it('a failure to consume the challenge throws (nothing stored was looked at)', async () => {
    const w = world();
    w.io.consume = async () => {
      throw new Error('info write failed');
    };
    await expect(decideProof('t1', Buffer.alloc(32), w.io)).rejects.toThrow('info write failed');
  });
});

/** A clock that only moves when work advances it or sleep() is called. */
function fakeClock(): Clock & { t: number; slept: number[] } {
  return {
    t: 0,
    slept: [],
    now() {
      return this.t;
    },
    async sleep(ms) {
      this.slept.push(ms);
      this.t += ms;
    },
  };
}

describe('withAnswerFloor', () => {
  it('holds a quick answer until the floor, a slow one not at all', async () => {
    const clock = fakeClock();
    expect(await withAnswerFloor(0, 250, async () => 'quick', clock)).toBe('quick');
    expect(clock.slept).toEqual([250]);
    const slow = fakeClock();
    await withAnswerFloor(
      0,
      250,
      async () => {
        slow.t = 300;
      },
      slow,
    );
    expect(slow.slept).toEqual([]);
  });

  it('counts from when the proof arrived, and holds errors too', async () => {
    const clock = fakeClock();
    clock.t = 100;
    await expect(
      withAnswerFloor(
        40,
        250,
        async () => {
          clock.t = 120;
          throw new Error('late');
        },
        clock,
      ),
    ).rejects.toThrow('late');
    expect(clock.slept).toEqual([170]);
    expect(clock.t).toBe(290);
  });
});
