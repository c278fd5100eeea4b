// The instant-upload headers as the front reads them (front/instant.ts): what a creation
// or a proof PATCH asks, and the 400s that depend on the request's own headers only.
import type { TusError } from '../src/errors.js';
import { readInstantHeaders } from '../src/front/instant.js';
import type { RequestContext } from '../src/front/request-context.js';

const DIGEST = 'ab'.repeat(32);
const PROOF = `:${Buffer.alloc(32, 7).toString('base64')}:`;

function read(
  method: string,
  headers: Record<string, string>,
  extra: Partial<RequestContext> = {},
): RequestContext {
  const ctx: RequestContext = { baseUrl: '/files', method, reply: {}, ...extra };
  readInstantHeaders(new Request('http://h/files', { method, headers }), ctx);
  return ctx;
}

function refusal(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return `${(e as TusError).status_code} ${(e as TusError).body}`;
  }
  return undefined;
}

describe('readInstantHeaders', () => {
  const instant = { 'Upload-Instant': '?1', 'Upload-Length': '100' };

  it('marks a creation that asks for it, and only that', () => {
    expect(read('POST', instant, { reprDigest: DIGEST, contentLength: 0 }).instant).toBe(true);
    expect(
      read('POST', { ...instant, 'Upload-Instant': '?0' }, { reprDigest: DIGEST }).instant,
    ).toBe(undefined);
    expect(read('POST', { 'Upload-Length': '100' }, { reprDigest: DIGEST }).instant).toBe(
      undefined,
    );
  });

  it.each([
    [{ 'Upload-Instant': 'true' }, {}, /must be \?1 or \?0/],
    [{ 'Upload-Length': '0' }, {}, /Upload-Length greater than 0/],
    [{ 'Upload-Length': 'x' }, {}, /Upload-Length greater than 0/],
    [{}, { reprDigest: undefined }, /Repr-Digest/],
    [{}, { contentLength: 5 }, /no body/],
    [{ 'Transfer-Encoding': 'chunked' }, { contentLength: undefined }, /no body/],
    [{ 'Upload-Concat': 'partial' }, {}, /Upload-Concat/],
  ])('refuses a creation with %p %p: 400', (headers, extra, reason) => {
    const ctx = { reprDigest: DIGEST, contentLength: 0, ...extra };
    const got = refusal(() => read('POST', { ...instant, ...headers }, ctx));
    expect(got).toMatch(/^400 /);
    expect(got).toMatch(reason);
  });

  it('reads a proof of 32 bytes on a bodiless PATCH, with when it arrived', () => {
    const ctx = read('PATCH', { 'Upload-Instant-Proof': PROOF }, { contentLength: 0 });
    expect(Buffer.from(ctx.instantProof?.proof ?? []).equals(Buffer.alloc(32, 7))).toBe(true);
    expect(ctx.instantProof?.receivedAt).toBeGreaterThan(0);
    expect(read('PATCH', {}, { contentLength: 0 }).instantProof).toBeUndefined();
  });

  it('refuses a proof that is not 32 bytes, or that comes with a body: 400', () => {
    const short = `:${Buffer.alloc(16).toString('base64')}:`;
    expect(
      refusal(() => read('PATCH', { 'Upload-Instant-Proof': short }, { contentLength: 0 })),
    ).toMatch(/^400 Upload-Instant-Proof/);
    expect(
      refusal(() => read('PATCH', { 'Upload-Instant-Proof': PROOF }, { contentLength: 1 })),
    ).toMatch(/^400 .*no body/);
    expect(refusal(() => read('PATCH', { 'Upload-Instant-Proof': PROOF }))).toMatch(
      /^400 .*no body/,
    );
  });
});
