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
