// An HTTP proxy on 127.0.0.1 in front of a tus server, for browser tests: another port,
// so the page's requests are cross-origin (CORS is exercised); it counts the request body
// bytes each upload received from the browser, and can slow all bodies down together so
// a test can pause or reload while uploads are mid-way.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Transform } from 'node:stream';
import { forward } from './forward.js';

export interface CountingProxy {
  origin: string;
  /**
   * Body bytes the proxy read from the browser for one upload id (a creation POST counts
   * for the id its Location names).
   */
  bytesFor(id: string): number;
  /** Body bytes read from the browser, all requests. */
  readonly bytesIn: number;
  /** Client->server body rate limit, all requests together; 0: none. */
  setRate(bytesPerSecond: number): void;
  close(): Promise<void>;
}

const idOfPath = (p: string) => p.split('?')[0]!.split('/').filter(Boolean).pop() ?? '';

export async function startCountingProxy(
  target: string,
  bytesPerSecond = 0,
): Promise<CountingProxy> {
  const to = new URL(target);
  let rate = bytesPerSecond;
  let nextFree = 0;
  let bytesIn = 0;
  const bodies: Array<{ id: string; bytes: number }> = [];

  /** Passes bytes on no faster than `rate`, shared by every request (one schedule). */
  const throttle = () =>
    new Transform({
      transform(chunk: Buffer, _enc, done) {
        if (rate <= 0) return done(null, chunk);
        const now = Date.now();
        const start = Math.max(now, nextFree);
        nextFree = start + (chunk.length * 1000) / rate;
        setTimeout(() => done(null, chunk), nextFree - now);
      },
    });

  const server: Server = createServer((req: IncomingMessage, res) => {
    const body = { id: req.method === 'POST' ? '' : idOfPath(req.url ?? ''), bytes: 0 };
    bodies.push(body);
    const up = forward(req, res, to);
    up.on('response', (r) => {
      const loc = r.headers.location;
      if (req.method === 'POST' && loc) body.id = idOfPath(new URL(loc, target).pathname);
    });
    up.on('error', () => res.destroy());
    req.on('data', (d: Buffer) => {
      body.bytes += d.length;
      bytesIn += d.length;
    });
    // The browser went away (pause, reload): the server sees the body cut, as it would.
    req.on('close', () => {
      if (!req.complete) up.destroy();
    });
    req.pipe(throttle()).pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    bytesFor: (id) => bodies.filter((b) => b.id === id).reduce((n, b) => n + b.bytes, 0),
    get bytesIn() {
      return bytesIn;
    },
    setRate(r) {
      rate = r;
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
