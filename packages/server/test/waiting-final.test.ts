// Finals over partials in any state (concatenation-unfinished): which kind of final a POST
// makes (pure), and a waiting final on the fake S3: created at once, completed by its last
// partial's completion, resumed by the next look when that assembly failed.
import { Upload } from '@tus/utils';
import type { ConcatRequest } from '../src/extensions/concatenation.js';
import { type RequestContext, requestContext } from '../src/front/request-context.js';
import { finalKind } from '../src/s3/concat/final-kind.js';
import type { S3MultipartStore } from '../src/s3/store.js';
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

const facts = (id: string, size: number, offset = 0, finished = false, partSize = PART) => ({
  id,
  size,
  partSize,
  offset,
  adoptedBy: undefined,
  finished,
});

describe('finalKind', () => {
  it('copies finished partials', () => {
    expect(finalKind([facts('a', 10, 10, true), facts('b', 5, 5, true)])).toEqual({
      kind: 'copy',
    });
  });
  it('writes empty partials on one part size straight into the final', () => {
    const kind = finalKind([facts('a', 2 * PART), facts('b', 7)]);
    expect(kind).toEqual({
      kind: 'direct',
      layout: { partSize: PART, size: 2 * PART + 7, firstParts: [1, 3] },
    });
  });
  it('waits for any other mix: finished with unfinished, part-way, or unaligned', () => {
    const waits = (partials: Parameters<typeof finalKind>[0]) => finalKind(partials).kind;
    expect(waits([facts('a', 1024, 1024, true), facts('b', 1 << 20, 1 << 19)])).toBe('waiting');
    expect(waits([facts('a', PART, 3), facts('b', PART)])).toBe('waiting');
    expect(waits([facts('a', PART + 1), facts('b', PART)])).toBe('waiting');
    expect(waits([facts('a', PART), facts('b', PART, 0, false, 2 * PART)])).toBe('waiting');
    expect(finalKind([facts('a', PART, 0, true), facts('b', 0)])).toEqual({
      kind: 'waiting',
      why: 'some partials finished',
    });
  });
});

function as<T>(method: string, fn: () => Promise<T>, concat?: ConcatRequest): Promise<T> {
  const ctx: RequestContext = { baseUrl: '/files', method, reply: {}, concat };
  return requestContext.run(ctx, fn);
}

/** A request and what it told its response. */
async function inRequest<T>(
  method: string,
  fn: () => Promise<T>,
): Promise<{ out: T; reply: RequestContext['reply'] }> {
  const ctx: RequestContext = { baseUrl: '/files', method, reply: {} };
  const out = await requestContext.run(ctx, fn);
  return { out, reply: ctx.reply };
}

async function partial(store: S3MultipartStore, id: string, size: number): Promise<void> {
  await as('POST', () => store.create(new Upload({ id, size, offset: 0 })), { role: 'partial' });
}

async function finalOf(store: S3MultipartStore, id: string, partials: string[]): Promise<Upload> {
  return as(
    'POST',
    async () => {
      await store.sizeOfPartials(partials);
      return store.create(new Upload({ id, offset: 0 }));
    },
    { role: 'final', partials },
  );
}

describe('a waiting final on the fake S3', () => {
  const small = randomData(1024);
  const big = randomData(1 << 20);
  const whole = digest(Buffer.concat([small, big]));

  async function setUp() {
    const s3 = fakeS3();
    const store = newStore(s3);
    await partial(store, 'p1', small.length);
    await as('PATCH', () => patch(store, 'p1', small, 0, small.length));
    await partial(store, 'p2', big.length);
    await as('PATCH', () => patch(store, 'p2', big, 0, 1 << 19));
    const created = await finalOf(store, 'f', ['p1', 'p2']);
    return { s3, store, created };
  }

  it('is created at once, unfinished, and completed by its last partial', async () => {
    const { s3, store, created } = await setUp();
    expect([created.offset, created.size]).toEqual([0, small.length + big.length]);
    const head = await inRequest('HEAD', () => store.getUpload('f'));
    expect(head.out.offset).toBe(0);
    expect(head.reply.unfinishedFinal).toBe(true);
    expect(s3.object(`${PREFIX}f`, BUCKET)).toBeUndefined();

    const last = await inRequest('PATCH', () => patch(store, 'p2', big, 1 << 19, big.length));
    expect(last.out).toBe(big.length);
    expect(last.reply.finishedFinal).toBe('f');
    expect(digest(s3.object(`${PREFIX}f`, BUCKET))).toBe(whole);
    expect(s3.object(`${PREFIX}p1.info`, BUCKET)).toBeUndefined();
    expect(s3.object(`${PREFIX}p2.info`, BUCKET)).toBeUndefined();
    const after = await inRequest('HEAD', () => store.getUpload('f'));
    expect([after.out.offset, after.reply.unfinishedFinal]).toEqual([1024 + (1 << 20), false]);
  });

  it('an assembly that failed is resumed by the next look at the final', async () => {
    const { s3, store } = await setUp();
    // The final's one part straddles both partials: uploaded by the server, and lost here.
    s3.failOn('UploadPart', { match: (input) => input.Key === `${PREFIX}f` });
    const last = await inRequest('PATCH', () => patch(store, 'p2', big, 1 << 19, big.length));
    // The partial is complete whatever became of the assembly.
    expect(last.out).toBe(big.length);
    expect(last.reply.finishedFinal).toBeUndefined();
    expect(s3.object(`${PREFIX}f`, BUCKET)).toBeUndefined();
    expect(s3.object(`${PREFIX}p2.info`, BUCKET)?.toString()).toContain('completedAt');

    // A fresh store (another instance, or this one restarted) looks at the final.
    const fresh = newStore(s3);
    const head = await inRequest('HEAD', () => fresh.getUpload('f'));
    expect(head.out.offset).toBe(small.length + big.length);
    expect(head.reply.finishedFinal).toBe('f');
    expect(digest(s3.object(`${PREFIX}f`, BUCKET))).toBe(whole);
  });

  it('an assembly that failed is resumed by the next look at a partial', async () => {
    const { s3, store } = await setUp();
    s3.failOn('UploadPart', { match: (input) => input.Key === `${PREFIX}f` });
    await as('PATCH', () => patch(store, 'p2', big, 1 << 19, big.length));
    expect(s3.object(`${PREFIX}f`, BUCKET)).toBeUndefined();
    const head = await inRequest('HEAD', () => newStore(s3).getUpload('p1'));
    expect(head.reply.finishedFinal).toBe('f');
    expect(digest(s3.object(`${PREFIX}f`, BUCKET))).toBe(whole);
  });

  it('refuses an Upload-Length that is not the sum of its partials, and leaves them', async () => {
    const s3 = fakeS3();
    const store = newStore(s3);
    await partial(store, 'q1', small.length);
    await as('PATCH', () => patch(store, 'q1', small, 0, small.length));
    await partial(store, 'q2', big.length);
    await as('PATCH', () => patch(store, 'q2', big, 0, 1 << 19));
    const wrong = as(
      'POST',
      async () => {
        await store.sizeOfPartials(['q1', 'q2']);
        return store.create(
          new Upload({ id: 'h', size: small.length + big.length + 1, offset: 0 }),
        );
      },
      { role: 'final', partials: ['q1', 'q2'] },
    );
    await expect(wrong).rejects.toMatchObject({ status_code: 400 });
    expect(s3.keys(`${PREFIX}h`)).toEqual([]);
    // The partials are as they were: a right final over them still waits and completes.
    const created = await finalOf(store, 'h2', ['q1', 'q2']);
    expect(created.size).toBe(small.length + big.length);
    await as('PATCH', () => patch(store, 'q2', big, 1 << 19, big.length));
    expect(digest(s3.object(`${PREFIX}h2`, BUCKET))).toBe(whole);
  });

  it('refuses a second final over a partial it awaits', async () => {
    const { store } = await setUp();
    await partial(store, 'p3', 5);
    await expect(finalOf(store, 'g', ['p3', 'p1'])).rejects.toMatchObject({
      status_code: 400,
      body: 'partial upload p1 belongs to final upload f\n',
    });
  });
});
