// DirectBody / BodyReader against real node:http requests on 127.0.0.1: what the store
// gets, what @tus/server's placeholder shows, and that the connection survives.
import { randomBytes } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { BODY_HIGH_WATER_MARK, DirectBody, readsDirectBody } from '../src/body/direct-body.js';

const KiB = 1024;

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

async function withServer<T>(handler: Handler, run: (port: number) => Promise<T>): Promise<T> {
  const server = http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    return await run((server.address() as AddressInfo).port);
  } finally {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }
}

/** Sends `body` with a Content-Length (or `declared`); resolves with the status and body. */
function send(
  port: number,
  body: Buffer,
  opts: { declared?: number; agent?: http.Agent; slow?: boolean } = {},
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1',
      port,
      method: 'PATCH',
      agent: opts.agent,
      headers: { 'Content-Length': String(opts.declared ?? body.length) },
    });
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        text += d;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * The 2-byte follow-up request a test sends on the same keep-alive connection, to show the
 * body before it was drained: answered 'second'.
 */
function answersFollowUp(req: IncomingMessage, res: ServerResponse): boolean {
  if (req.headers['content-length'] !== '2') return false;
  req.resume();
  req.on('end', () => res.end('second'));
  return true;
}

async function expectFollowUpAnswered(port: number, agent: http.Agent): Promise<void> {
  expect(await send(port, Buffer.from('ok'), { agent })).toEqual({ status: 200, text: 'second' });
}

/** What a test sees of the placeholder: closed, or failed with which error. */
async function placeholderOutcome(direct: DirectBody): Promise<'closed' | Error> {
  const reader = direct.placeholder.getReader();
  try {
    const { done } = await reader.read();
    if (!done) throw new Error('the placeholder carried bytes');
    return 'closed';
  } catch (err) {
    return err as Error;
  }
}

async function drainToBuffer(it: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of it) parts.push(c);
  return Buffer.concat(parts);
}

describe('DirectBody', () => {
  it('tells the stores that read bodies themselves from the others', () => {
    expect(readsDirectBody({ readsDirectBody: true })).toBe(true);
    expect(readsDirectBody({})).toBe(false);
    expect(readsDirectBody(null)).toBe(false);
  });

  it('hands the store every byte in order, then closes the placeholder', async () => {
    const data = randomBytes(3 * 1024 * KiB + 17);
    let got: Buffer | undefined;
    let outcome: 'closed' | Error | undefined;
    const res = await withServer(
      (req, res) => {
        const direct = new DirectBody(req);
        const seen = placeholderOutcome(direct);
        void (async () => {
          got = await drainToBuffer(direct.claim(new PassThrough()));
          outcome = await seen;
          res.end('ok');
        })();
      },
      (port) => send(port, data),
    );
    expect(res).toEqual({ status: 200, text: 'ok' });
    expect(got?.equals(data)).toBe(true);
    expect(outcome).toBe('closed');
  });

  it('pauses the socket once a high-water mark of bytes waits unread', async () => {
    const data = randomBytes(8 * BODY_HIGH_WATER_MARK);
    let pausedWith = -1;
    let got: Buffer | undefined;
    await withServer(
      (req, res) => {
        // Counts each chunk before the reader sees it (listeners run in order).
        let received = 0;
        req.on('data', (c: Buffer) => {
          received += c.length;
        });
        const direct = new DirectBody(req);
        const reader = direct.claim(new PassThrough());
        req.on('pause', () => {
          if (pausedWith < 0) pausedWith = received;
        });
        // Nothing is read before the first next(); then the consumer stops until the socket
        // had to stop.
        void reader.next().then((first) => {
          const wait = setInterval(() => {
            if (pausedWith < 0) return;
            clearInterval(wait);
            void drainToBuffer(reader).then((b) => {
              got = Buffer.concat([first.value as Buffer, b]);
              res.end('ok');
            });
          }, 20);
        });
      },
      (port) => send(port, data),
    );
    expect(pausedWith).toBeGreaterThanOrEqual(BODY_HIGH_WATER_MARK);
    expect(pausedWith).toBeLessThan(BODY_HIGH_WATER_MARK + 256 * KiB);
    expect(got?.equals(data)).toBe(true);
  });

  it('ends after what it queued when @tus/server ends its stream, and drains the rest', async () => {
    const first = randomBytes(64 * KiB);
    let got: Buffer | undefined;
    let outcome: 'closed' | Error | 'pending' = 'pending';
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      await withServer(
        (req, res) => {
          if (answersFollowUp(req, res)) return;
          const direct = new DirectBody(req);
          const handed = new PassThrough();
          const reader = direct.claim(handed);
          void placeholderOutcome(direct).then((o) => {
            outcome = o;
          });
          void (async () => {
            const parts: Buffer[] = [];
            for await (const c of reader) {
              parts.push(c);
              // @tus/server stops the request (its lock was asked for) mid-body.
              if (Buffer.concat(parts).length >= first.length) handed.end();
            }
            got = Buffer.concat(parts);
            res.end('stopped');
          })();
        },
        async (port) => {
          const body = Buffer.concat([first, randomBytes(4 * 1024 * KiB)]);
          expect(await send(port, body, { agent })).toEqual({ status: 200, text: 'stopped' });
          // The rest of the body was drained: the same connection takes the next request.
          await expectFollowUpAnswered(port, agent);
        },
      );
    } finally {
      agent.destroy();
    }
    expect(got?.length).toBeGreaterThanOrEqual(first.length);
    expect(got?.subarray(0, first.length).equals(first)).toBe(true);
    // Not the real end: the placeholder neither closed nor failed on its own.
    expect(outcome).toBe('pending');
  });

  it('hands out what arrived before the client cut the connection, then fails both sides', async () => {
    const sent = randomBytes(256 * KiB);
    let got = 0;
    let thrown: unknown;
    let outcome: 'closed' | Error | undefined;
    const done = new Promise<void>((resolve) => {
      void withServer(
        (req) => {
          const direct = new DirectBody(req);
          const seen = placeholderOutcome(direct);
          void (async () => {
            try {
              for await (const c of direct.claim(new PassThrough())) got += c.length;
            } catch (err) {
              thrown = err;
            }
            outcome = await seen;
            resolve();
          })();
        },
        async (port) => {
          const req = http.request({
            host: '127.0.0.1',
            port,
            method: 'PATCH',
            headers: { 'Content-Length': String(4 * sent.length) },
          });
          req.on('error', () => {});
          req.write(sent, () => setTimeout(() => req.destroy(), 100));
          await done;
        },
      );
    });
    await done;
    expect(got).toBe(sent.length);
    // (An Error of node's realm, not Jest's: no instanceof here.)
    expect((thrown as Error | undefined)?.message).toBeTruthy();
    // @tus/server sees the same error (so it maps it to its own ABORTED).
    expect(outcome).toBe(thrown);
  });

  it('drains the body when the store leaves its loop early, so the answer goes out', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    let outcome: 'closed' | Error | 'pending' = 'pending';
    let drainingAfterBreak = false;
    try {
      await withServer(
        (req, res) => {
          if (answersFollowUp(req, res)) return;
          const direct = new DirectBody(req);
          void placeholderOutcome(direct).then((o) => {
            outcome = o;
          });
          void (async () => {
            for await (const _ of direct.claim(new PassThrough())) {
              // Long enough for the queue to fill and the socket to pause.
              await new Promise((r) => setTimeout(r, 150));
              break;
            }
            drainingAfterBreak = !req.isPaused();
            res.statusCode = 413;
            res.end('too big');
          })();
        },
        async (port) => {
          const res = await send(port, randomBytes(6 * 1024 * KiB), { agent });
          expect(res).toEqual({ status: 413, text: 'too big' });
          await expectFollowUpAnswered(port, agent);
        },
      );
    } finally {
      agent.destroy();
    }
    // The paused socket was resumed to drain the rest.
    expect(drainingAfterBreak).toBe(true);
    expect(outcome).toBe('pending');
  });

  it('refuses a second claim', async () => {
    let second: unknown;
    await withServer(
      (req, res) => {
        const direct = new DirectBody(req);
        const reader = direct.claim(new PassThrough());
        try {
          direct.claim(new PassThrough());
        } catch (err) {
          second = err;
        }
        void drainToBuffer(reader).then(() => res.end('ok'));
      },
      (port) => send(port, Buffer.from('abc')),
    );
    expect(String(second)).toMatch(/claimed twice/);
  });
});
