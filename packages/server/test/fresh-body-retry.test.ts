import { Readable } from 'node:stream';
import { TusError } from '../src/errors.js';
import { FRESH_BODY_ATTEMPTS, isTransient, sendWithFreshBody } from '../src/s3/fresh-body-retry.js';

const s3Answer = (status: number) =>
  Object.assign(new Error('S3'), { $metadata: { httpStatusCode: status } });

describe('sendWithFreshBody', () => {
  it('tells transient failures from final ones', () => {
    expect(isTransient(s3Answer(500))).toBe(true);
    expect(isTransient(s3Answer(503))).toBe(true);
    expect(isTransient(s3Answer(429))).toBe(true);
    expect(isTransient(new TusError(503, 'storage is unavailable; try again', 5))).toBe(true);
    expect(isTransient(s3Answer(403))).toBe(false);
    expect(isTransient(s3Answer(400))).toBe(false);
    expect(isTransient(new TusError(423, 'lock lost'))).toBe(false);
    expect(isTransient(new Error('bug'))).toBe(false);
  });

  it('sends a stream body again, built anew, while S3 fails transiently', async () => {
    const built: Readable[] = [];
    let sent = 0;
    const out = await sendWithFreshBody(
      {},
      () => {
        const body = Readable.from([Buffer.from('ab'), Buffer.from('c')]);
        built.push(body);
        return body;
      },
      async (body) => {
        sent++;
        if (sent < FRESH_BODY_ATTEMPTS) throw s3Answer(500);
        return body;
      },
    );
    expect(sent).toBe(FRESH_BODY_ATTEMPTS);
    expect(new Set(built).size).toBe(FRESH_BODY_ATTEMPTS);
    expect(out).toBe(built.at(-1));
    // Every failed attempt's body was stopped.
    expect(built.slice(0, -1).every((b) => b.destroyed)).toBe(true);
  });

  it('fails and aborts the request when a stream body fails on its own, never leaving it unhandled', async () => {
    const cut = new TusError(503, 'storage is unavailable; try again', 5);
    const signals: AbortSignal[] = [];
    let built = 0;
    // Like the SDK: pipes the body into its request, listens to no error of the body, and
    // settles only when the request ends or its abort signal fires.
    const sdkLike = (body: Buffer | Readable, signal: AbortSignal) =>
      new Promise<string>((resolve, reject) => {
        signals.push(signal);
        signal.addEventListener('abort', () => reject(new Error('aborted')));
        const chunks: Buffer[] = [];
        (body as Readable).on('data', (c: Buffer) => chunks.push(c));
        (body as Readable).on('end', () => resolve(Buffer.concat(chunks).toString()));
      });
    const failingBody = () => {
      built++;
      return Readable.from(
        (async function* () {
          yield Buffer.from('head');
          throw cut;
        })(),
      );
    };
    await expect(sendWithFreshBody({}, failingBody, sdkLike)).rejects.toBe(cut);
    // Transient: tried as often as a request is, each attempt aborted.
    expect(built).toBe(FRESH_BODY_ATTEMPTS);
    expect(signals.every((s) => s.aborted)).toBe(true);
    const final = new Error('segment has more bytes than listed');
    const wrongBody = () =>
      Readable.from(
        (async function* () {
          yield Buffer.from('x');
          throw final;
        })(),
      );
    await expect(sendWithFreshBody({}, wrongBody, sdkLike)).rejects.toBe(final);
  });

  it('gives up after its attempts, at once on a final answer, and on a lost fence', async () => {
    let sent = 0;
    const stream = () => Readable.from([Buffer.from('x')]);
    const failing = async () => {
      sent++;
      throw s3Answer(500);
    };
    await expect(sendWithFreshBody({}, stream, failing)).rejects.toThrow('S3');
    expect(sent).toBe(FRESH_BODY_ATTEMPTS);
    sent = 0;
    const refused = async () => {
      sent++;
      throw s3Answer(403);
    };
    await expect(sendWithFreshBody({}, stream, refused)).rejects.toThrow('S3');
    expect(sent).toBe(1);
    sent = 0;
    let checks = 0;
    const fence = () => {
      if (++checks > 1) throw new TusError(423, 'lock lost');
    };
    await expect(sendWithFreshBody({}, stream, failing, fence)).rejects.toMatchObject({
      status_code: 423,
    });
    expect(sent).toBe(1);
  });

  it('leaves a buffer body to the SDK, which retries it itself', async () => {
    let sent = 0;
    await expect(
      sendWithFreshBody(
        {},
        () => Buffer.from('x'),
        async () => {
          sent++;
          throw s3Answer(500);
        },
      ),
    ).rejects.toThrow('S3');
    expect(sent).toBe(1);
  });

  it("takes the client's own number of attempts", async () => {
    let sent = 0;
    const client = { config: { maxAttempts: async () => 2 } };
    await expect(
      sendWithFreshBody(
        client,
        () => Readable.from([Buffer.from('x')]),
        async () => {
          sent++;
          throw s3Answer(500);
        },
      ),
    ).rejects.toThrow('S3');
    expect(sent).toBe(2);
  });
});
