// A final that declares Repr-Digest over unfinished partials (concatenation-unfinished) on the
// fake S3: always a waiting final, verified by reading its partials back before it completes.
// A mismatch publishes nothing, leaves a tombstone that answers 460 and is never rebuilt,
// releases the partials for a final with the right digest, and survives a crash mid-way.
import { Upload } from '@tus/utils';
import type { ConcatRequest } from '../src/extensions/concatenation.js';
import { type RequestContext, requestContext } from '../src/front/request-context.js';
import { finalKind } from '../src/s3/concat/final-kind.js';
import { parseInfo } from '../src/s3/info.js';
import type { S3MultipartStore } from '../src/s3/store.js';
import type { FakeS3 } from './helpers/fake-s3.js';
import {
  BUCKET,
  digest,
  fakeS3,
  newStore,
  PART,
  PREFIX,
  patch,
  randomData,
} from './helpers/store-harness.js';

async function inRequest<T>(
  method: string,
  fn: () => Promise<T>,
  extra: Partial<RequestContext> = {},
): Promise<{ out: T; reply: RequestContext['reply'] }> {
  const ctx: RequestContext = { baseUrl: '/files', method, reply: {}, ...extra };
  const out = await requestContext.run(ctx, fn);
  return { out, reply: ctx.reply };
}

async function partial(store: S3MultipartStore, id: string, size: number): Promise<void> {
  const concat: ConcatRequest = { role: 'partial' };
  await inRequest('POST', () => store.create(new Upload({ id, size, offset: 0 })), { concat });
}

async function finalOf(
  store: S3MultipartStore,
  id: string,
  partials: string[],
  reprDigest: string,
): Promise<Upload> {
  const concat: ConcatRequest = { role: 'final', partials };
  const { out } = await inRequest(
    'POST',
    async () => {
      await store.sizeOfPartials(partials);
      return store.create(new Upload({ id, offset: 0 }));
    },
    { concat, reprDigest },
  );
  return out;
}

function infoOf(s3: FakeS3, id: string) {
  const bytes = s3.object(`${PREFIX}${id}.info`, BUCKET);
  return bytes && parseInfo(bytes.toString());
}

const head = (store: S3MultipartStore, id: string) => inRequest('HEAD', () => store.getUpload(id));

const flipBit = (hex: string) =>
  (Number.parseInt(hex[0] as string, 16) ^ 1).toString(16) + hex.slice(1);

describe('finalKind with a declared digest', () => {
  it('never makes a direct final: empty aligned partials wait too', () => {
    const empty = (id: string, size: number) => ({
      id,
      size,
      partSize: PART,
      offset: 0,
      adoptedBy: undefined,
      finished: false,
    });
    const partials = [empty('a', PART), empty('b', 7)];
    expect(finalKind(partials).kind).toBe('direct');
    expect(finalKind(partials, true)).toEqual({
      kind: 'waiting',
      why: 'a declared digest is read back',
    });
  });
});

describe('a waiting final with a declared digest on the fake S3', () => {
  const small = randomData(1024);
  const big = randomData(1 << 20);
  const whole = digest(Buffer.concat([small, big])) as string;
  const size = small.length + big.length;

  /** p1 finished, p2 part-way, then the final `f` declaring `declared`. */
  async function setUp(declared: string) {
    const s3 = fakeS3();
    const store = newStore(s3);
    await partial(store, 'p1', small.length);
    await inRequest('PATCH', () => patch(store, 'p1', small, 0, small.length));
    await partial(store, 'p2', big.length);
    await inRequest('PATCH', () => patch(store, 'p2', big, 0, 1 << 19));
    const created = await finalOf(store, 'f', ['p1', 'p2'], declared);
    expect([created.offset, created.size]).toEqual([0, size]);
    return { s3, store };
  }

  const lastPatch = (store: S3MultipartStore) =>
    inRequest('PATCH', () => patch(store, 'p2', big, 1 << 19, big.length));

  it('the right digest: completed by the last partial, its digest recorded', async () => {
    const { s3, store } = await setUp(whole);
    const last = await lastPatch(store);
    expect(last.reply.finishedFinal).toBe('f');
    expect(digest(s3.object(`${PREFIX}f`, BUCKET))).toBe(whole);
    expect(infoOf(s3, 'f')?.digest?.sha256).toBe(whole);
    expect((await head(store, 'f')).out.offset).toBe(size);
  });

  it('one bit wrong: 204 for the partial, nothing published, 460 on every look', async () => {
    const { s3, store } = await setUp(flipBit(whole));
    const last = await lastPatch(store);
    // The partial's own bytes are fine: its PATCH succeeds, and completes no final.
    expect(last.out).toBe(big.length);
    expect(last.reply.finishedFinal).toBeUndefined();
    expect(s3.object(`${PREFIX}f`, BUCKET)).toBeUndefined();
    expect(s3.uploads().filter((u) => u.key === `${PREFIX}f`)).toEqual([]);
    const info = infoOf(s3, 'f');
    expect(info?.concat).toMatchObject({ digestFailed: true, partialsReleased: true });
    expect(info?.completedAt).toBeUndefined();

    for (const fresh of [store, newStore(s3)]) {
      const since = s3.commands().length;
      await expect(head(fresh, 'f')).rejects.toMatchObject({
        status_code: 460,
        body: expect.stringMatching(/^Repr-Digest does not match the partial uploads/),
      });
      // Never rebuilt: no copy, no read-back, no write.
      const cmds = s3.commands(since);
      expect(cmds.filter((c) => /Part|Complete|Put/.test(c))).toEqual([]);
      const reads = s3.sent('GetObject', since).map((r) => String(r.input.Key));
      expect(reads.filter((k) => !k.endsWith('.info'))).toEqual([]);
    }
    // @tus/server asks for the upload before any PATCH: a final takes none.
    await expect(inRequest('PATCH', () => store.getUpload('f'))).rejects.toMatchObject({
      status_code: 403,
    });

    // The partials stay, finished and free: a final with the right digest takes them.
    for (const id of ['p1', 'p2']) {
      const p = infoOf(s3, id);
      expect(p?.completedAt).toBeDefined();
      expect(p?.concat).toEqual({ role: 'partial' });
    }
    const g = await finalOf(store, 'g', ['p1', 'p2'], whole);
    expect(g.offset).toBe(size);
    expect(digest(s3.object(`${PREFIX}g`, BUCKET))).toBe(whole);

    await inRequest('DELETE', () => store.remove('f'));
    expect(infoOf(s3, 'f')).toBeUndefined();
    expect(digest(s3.object(`${PREFIX}g`, BUCKET))).toBe(whole);
  });

  it('a crash after the tombstone: the next instance releases the partials', async () => {
    const { s3, store } = await setUp(flipBit(whole));
    // The release never happens here: the first partial's info cannot be rewritten.
    s3.failOn('PutObject', { match: (input) => input.Key === `${PREFIX}p1.info` });
    const last = await lastPatch(store);
    expect(last.out).toBe(big.length);
    expect(s3.object(`${PREFIX}f`, BUCKET)).toBeUndefined();
    expect(infoOf(s3, 'f')?.concat).toMatchObject({ digestFailed: true });
    expect(infoOf(s3, 'f')?.concat).not.toHaveProperty('partialsReleased');
    expect(infoOf(s3, 'p1')?.concat).toEqual({ role: 'partial', awaitedBy: 'f' });

    // Another instance looks at a partial: it finishes the release, and the partial is free.
    const fresh = newStore(s3);
    const seen = await head(fresh, 'p1');
    expect(seen.out.offset).toBe(small.length);
    expect(infoOf(s3, 'p1')?.concat).toEqual({ role: 'partial' });
    expect(infoOf(s3, 'f')?.concat).toMatchObject({ partialsReleased: true });
    await expect(head(fresh, 'f')).rejects.toMatchObject({ status_code: 460 });
    expect(s3.object(`${PREFIX}f`, BUCKET)).toBeUndefined();
  });

  it('a build cut short in the last PATCH: the next look verifies, and fails', async () => {
    const { s3, store } = await setUp(flipBit(whole));
    s3.failOn('UploadPart', { match: (input) => input.Key === `${PREFIX}f` });
    await lastPatch(store);
    expect(infoOf(s3, 'f')?.concat).not.toHaveProperty('digestFailed');
    const fresh = newStore(s3);
    await expect(head(fresh, 'f')).rejects.toMatchObject({ status_code: 460 });
    expect(s3.object(`${PREFIX}f`, BUCKET)).toBeUndefined();
    expect(infoOf(s3, 'p2')?.concat).toEqual({ role: 'partial' });
  });
});
