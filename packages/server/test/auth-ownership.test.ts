import { Readable } from 'node:stream';
import { Upload } from '@tus/utils';
import { mayUse, type Principal } from '../src/auth/principal.js';
import { ERRORS, TusError } from '../src/errors.js';
import { type RequestContext, requestContext } from '../src/front/request-context.js';
import type { StoreContext } from '../src/s3/context.js';
import { readInfo } from '../src/s3/info-io.js';
import type { S3MultipartStore } from '../src/s3/store.js';
import {
  BUCKET,
  fakeS3,
  newStore,
  PREFIX,
  randomData,
  writesSince,
} from './helpers/store-harness.js';

const alice: Principal = { owner: 'alice', tenant: 'acme' };
const bob: Principal = { owner: 'bob', tenant: 'acme' };

function as<T>(
  principal: Principal | undefined,
  method: string,
  fn: () => Promise<T>,
  extra: Partial<RequestContext> = {},
): Promise<T> {
  const ctx: RequestContext = { baseUrl: '/files', method, reply: {}, principal, ...extra };
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

describe('mayUse', () => {
  it('an open upload is anyone’s; an owned one only its owner’s, in its tenant', () => {
    expect(mayUse({}, alice)).toBe(true);
    expect(mayUse({ owner: 'alice', tenant: 'acme' }, alice)).toBe(true);
    expect(mayUse({ owner: 'alice', tenant: 'acme' }, bob)).toBe(false);
    expect(mayUse({ owner: 'alice', tenant: 'other' }, alice)).toBe(false);
    expect(mayUse({ owner: 'alice' }, { owner: 'alice' })).toBe(true);
    // No principal: an open server or the sweep.
    expect(mayUse({ owner: 'alice', tenant: 'acme' }, undefined)).toBe(true);
  });
});

describe('the store checks the owner', () => {
  async function setup(): Promise<{ store: S3MultipartStore; s3: ReturnType<typeof fakeS3> }> {
    const s3 = fakeS3();
    const store = newStore(s3);
    await as(alice, 'POST', () => store.create(new Upload({ id: 'a1', size: 100, offset: 0 })));
    return { store, s3 };
  }

  it('records owner and tenant at creation', async () => {
    const { s3 } = await setup();
    const ctx = { client: s3.client, bucket: BUCKET, prefix: PREFIX } as StoreContext;
    const info = await readInfo(ctx, 'a1');
    expect([info.owner, info.tenant]).toEqual(['alice', 'acme']);
  });

  it('answers another owner exactly what a missing upload answers, writing nothing', async () => {
    const { store, s3 } = await setup();
    const before = s3.requests.length;
    const data = randomData(10);
    const attempts: Array<[string, () => Promise<unknown>]> = [
      ['HEAD', () => store.getUpload('a1')],
      ['PATCH', () => store.write(Readable.from([data]), 'a1', 0)],
      ['PATCH', () => store.declareUploadLength('a1', 100)],
      ['DELETE', () => store.remove('a1')],
    ];
    for (const [method, attempt] of attempts) {
      expect(await thrown(as(bob, method, attempt))).toBe(ERRORS.FILE_NOT_FOUND);
    }
    expect(writesSince(s3, before)).toEqual([]);
    // The owner still has it, untouched; so does a request with no principal.
    expect((await as(alice, 'HEAD', () => store.getUpload('a1'))).offset).toBe(0);
    expect((await as(undefined, 'HEAD', () => store.getUpload('a1'))).size).toBe(100);
  });

  it('leaves an upload created open to anyone', async () => {
    const s3 = fakeS3();
    const store = newStore(s3);
    await as(undefined, 'POST', () => store.create(new Upload({ id: 'o1', size: 5, offset: 0 })));
    expect((await as(bob, 'HEAD', () => store.getUpload('o1'))).size).toBe(5);
  });

  it("refuses a final naming another owner's partial with the partial's 404, before any write", async () => {
    const s3 = fakeS3();
    const store = newStore(s3);
    await as(bob, 'POST', () => store.create(new Upload({ id: 'p1', size: 5, offset: 0 })), {
      concat: { role: 'partial' },
    });
    const before = s3.requests.length;
    const err = await thrown(as(alice, 'POST', () => store.sizeOfPartials(['p1'])));
    expect(err).toBeInstanceOf(TusError);
    expect([(err as TusError).status_code, (err as TusError).body]).toEqual([
      404,
      'partial upload p1 not found\n',
    ]);
    const missing = await thrown(as(alice, 'POST', () => store.sizeOfPartials(['p2'])));
    expect((missing as TusError).body).toBe('partial upload p2 not found\n');
    expect(writesSince(s3, before)).toEqual([]);
    expect(await as(bob, 'POST', () => store.sizeOfPartials(['p1']))).toEqual([5]);
  });
});
