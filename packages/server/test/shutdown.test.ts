// Graceful shutdown: the in-flight tracker alone (refuses while closing, cuts at the
// deadline, waits for the cut ones to settle), and the middleware's close() on the fake S3:
// a slow PATCH is cut at the deadline with its bytes kept, a new request gets 503.
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CLOSING_REASON, InFlight } from '../src/front/in-flight.js';
import { tusS3Middleware } from '../src/middleware.js';
import { BUCKET, fakeS3 } from './helpers/store-harness.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('InFlight', () => {
  it('resolves at once with nothing in flight, then refuses', async () => {
    const f = new InFlight();
    expect(await f.close({ deadlineMs: 10_000 })).toBe(0);
    expect(f.closing).toBe(true);
    expect(f.enter()).toBeUndefined();
  });

  it('waits for requests that finish before the deadline, cutting none', async () => {
    const f = new InFlight();
    let cut = false;
    const leave = f.enter(() => {
      cut = true;
    });
    const closing = f.close({ deadlineMs: 5_000 });
    expect(f.enter()).toBeUndefined();
    await sleep(30);
    leave?.();
    expect(await closing).toBe(0);
    expect(cut).toBe(false);
  });

  it('cuts what is left at the deadline and waits for it to settle', async () => {
    const f = new InFlight();
    const settled: string[] = [];
    const leaveA = f.enter(() => setTimeout(() => leaveA?.(), 40));
    const leaveB = f.enter(() => {});
    const started = Date.now();
    const closing = f.close({ deadlineMs: 50 }).then((n) => {
      settled.push('closed');
      return n;
    });
    await sleep(120);
    // A was cut and settled; B was cut but has not settled: close still waits.
    expect(f.size).toBe(1);
    expect(settled).toEqual([]);
    leaveB?.();
    expect(await closing).toBe(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(50);
    // A second close is the first one.
    expect(await f.close()).toBe(2);
  });
});

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function send(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: (req: ReturnType<typeof httpRequest>) => void,
): Promise<Answer | 'cut'> {
  return new Promise((resolve) => {
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => {
        text += d.toString();
      });
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }),
      );
    });
    req.on('error', () => resolve('cut'));
    if (body) body(req);
    else req.end();
  });
}

describe("the middleware's close()", () => {
  let server: Server;
  let port: number;
  const s3 = fakeS3();
  const mw = tusS3Middleware({ s3: { bucket: BUCKET, client: s3.client }, path: '/files' });

  beforeAll(async () => {
    server = createServer((req, res) => mw(req, res));
    server.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise((r) => server.close(r)));

  it('cuts a slow PATCH at the deadline, keeps its bytes, and refuses new requests with 503', async () => {
    const tus = { 'Tus-Resumable': '1.0.0' };
    const created = await send(port, 'POST', '/files', { ...tus, 'Upload-Length': '1000' });
    if (created === 'cut') throw new Error('create cut');
    expect(created.status).toBe(201);
    const path = new URL(String(created.headers.location), 'http://x').pathname;
    // 300 of 1000 bytes, then silence: only the deadline ends this PATCH.
    const slow = send(
      port,
      'PATCH',
      path,
      {
        ...tus,
        'Upload-Offset': '0',
        'Content-Type': 'application/offset+octet-stream',
        'Content-Length': '1000',
      },
      (req) => req.write(Buffer.alloc(300, 7)),
    );
    await sleep(200);
    const started = Date.now();
    const closing = mw.tus.close({ deadlineMs: 300 });
    const refused = await send(port, 'HEAD', path, tus);
    if (refused === 'cut') throw new Error('HEAD cut');
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBe('1');
    const get = await send(port, 'POST', '/files', { ...tus, 'Upload-Length': '1' });
    expect(get !== 'cut' && get.body).toBe(`${CLOSING_REASON}\n`);
    await closing;
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(300);
    expect(took).toBeLessThan(5_000);
    expect(await slow).toBe('cut');
    // What arrived before the cut is staged: a fresh server on the same S3 reports it.
    const again = tusS3Middleware({ s3: { bucket: BUCKET, client: s3.client }, path: '/files' });
    const response = await again.tus.handle(
      new Request(`http://127.0.0.1${path}`, { method: 'HEAD', headers: tus }),
    );
    expect(response.status).toBe(200);
    expect(response.headers.get('upload-offset')).toBe('300');
  });
});
