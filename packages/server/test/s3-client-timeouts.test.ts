// What the client createS3Client builds does with an S3 that does not answer, against
// local HTTP endpoints on 127.0.0.1 (the real @smithy/node-http-handler, not a fake): the
// request timeout is an idle timeout (a body that keeps moving is never cut), a silent
// endpoint fails each attempt, buffered bodies are retried and stream bodies are not, and
// what reaches the caller is a 503 TusError with Retry-After, not the SDK's message.
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import { Readable } from 'node:stream';
import { PutObjectCommand, type S3Client, UploadPartCommand } from '@aws-sdk/client-s3';
import { TusError } from '../src/errors.js';
import { createS3Client, type S3ConnectionOptions } from '../src/s3/client.js';
import { STORAGE_RETRY_AFTER_S } from '../src/s3/transport-errors.js';

const IDLE_MS = 300;
const credentials = { accessKeyId: 'k', secretAccessKey: 's' };

let closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(closers.map((c) => c()));
  closers = [];
});

async function listening(server: Server | HttpServer): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return `http://127.0.0.1:${address.port}`;
}

/** Accepts connections and reads what comes, never answering. Counts connections. */
async function silentEndpoint(): Promise<{ endpoint: string; connections: () => number }> {
  const sockets = new Set<Socket>();
  let connections = 0;
  const server = createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('error', () => {});
    socket.resume();
  });
  const endpoint = await listening(server);
  closers.push(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  });
  return { endpoint, connections: () => connections };
}

/** Reads each request's body whole, then answers 200 with an ETag. */
async function answeringEndpoint(): Promise<{ endpoint: string; bodies: number[] }> {
  const bodies: number[] = [];
  const server = createHttpServer((req, res) => {
    let n = 0;
    req.on('data', (d: Buffer) => {
      n += d.length;
    });
    req.on('end', () => {
      bodies.push(n);
      res.writeHead(200, { ETag: '"abc"', 'Content-Length': '0' }).end();
    });
  });
  const endpoint = await listening(server);
  closers.push(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });
  return { endpoint, bodies };
}

function client(endpoint: string, extra: Partial<S3ConnectionOptions> = {}): S3Client {
  const c = createS3Client({ endpoint, credentials, requestTimeout: IDLE_MS, ...extra });
  closers.push(async () => c.destroy());
  return c;
}

const put = (body: Buffer | Readable, length: number) =>
  new PutObjectCommand({ Bucket: 'b', Key: 'k', Body: body, ContentLength: length });

/** `n` chunks of `size` bytes, one every `everyMs`: a slow link that keeps moving. */
function trickle(n: number, size: number, everyMs: number): Readable {
  let sent = 0;
  return new Readable({
    read() {
      if (sent === n) {
        this.push(null);
        return;
      }
      sent++;
      setTimeout(() => this.push(Buffer.alloc(size, 1)), everyMs);
    },
  });
}

async function failure(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => {
      throw new Error('expected the request to fail');
    },
    (err: unknown) => err,
  );
}

test('a body that keeps moving is not cut, however long the request takes', async () => {
  const s3 = await answeringEndpoint();
  const started = Date.now();
  // 12 chunks a third of the idle timeout apart: the request lasts 4 idle timeouts.
  const res = await client(s3.endpoint).send(put(trickle(12, 1000, IDLE_MS / 3), 12_000));
  expect(res.ETag).toBe('"abc"');
  expect(s3.bodies).toEqual([12_000]);
  expect(Date.now() - started).toBeGreaterThan(3 * IDLE_MS);
});

test('a silent S3: a buffered body is tried maxAttempts times, then a 503 TusError', async () => {
  const s3 = await silentEndpoint();
  const started = Date.now();
  const err = await failure(
    client(s3.endpoint, { maxAttempts: 3 }).send(put(Buffer.alloc(10), 10)),
  );
  const took = Date.now() - started;
  expect(err).toBeInstanceOf(TusError);
  expect(err).toMatchObject({
    status_code: 503,
    body: 'storage is unavailable; try again\n',
    retryAfter: STORAGE_RETRY_AFTER_S,
  });
  expect(s3.connections()).toBe(3);
  // The SDK's own words stay with the error for the log.
  expect(String((err as Error).cause)).toMatch(/timed out after 300 ms of inactivity/);
  // Each attempt waits one idle timeout; the SDK's backoff between them is short.
  expect(took).toBeGreaterThanOrEqual(3 * IDLE_MS - 50);
  expect(took).toBeLessThan(3 * IDLE_MS + 2_000);
});

test('a silent S3: a stream body is sent once, never replayed empty', async () => {
  const s3 = await silentEndpoint();
  const command = new UploadPartCommand({
    Bucket: 'b',
    Key: 'k',
    UploadId: 'u',
    PartNumber: 1,
    Body: Readable.from([Buffer.alloc(1000, 7)]),
    ContentLength: 1000,
  });
  const err = await failure(client(s3.endpoint, { maxAttempts: 3 }).send(command));
  expect(err).toMatchObject({ status_code: 503 });
  expect(s3.connections()).toBe(1);
});

test('maxAttempts 1: no retry at all', async () => {
  const s3 = await silentEndpoint();
  const err = await failure(client(s3.endpoint, { maxAttempts: 1 }).send(put(Buffer.alloc(1), 1)));
  expect(err).toMatchObject({ status_code: 503 });
  expect(s3.connections()).toBe(1);
});

// (A refused or reset connection maps to the same 503; under Jest's VM realm Node's own errors
// reach the SDK as foreign objects it wraps into a bare message, so that is shown by the
// e2e tests (server-hardening-timeouts: the CLI is a plain process), not here.)
test('an answer of S3 keeps its own meaning', async () => {
  const denied = createHttpServer((req, res) => {
    req.resume();
    req.on('end', () =>
      res
        .writeHead(403, { 'Content-Type': 'application/xml' })
        .end('<Error><Code>AccessDenied</Code><Message>no</Message></Error>'),
    );
  });
  const endpoint = await listening(denied);
  closers.push(async () => {
    denied.closeAllConnections();
    await new Promise<void>((r) => denied.close(() => r()));
  });
  const err = await failure(client(endpoint).send(put(Buffer.alloc(1), 1)));
  expect(err).not.toBeInstanceOf(TusError);
  expect(err).toMatchObject({ name: 'AccessDenied' });
});

test('requests beyond 50 at once get their own sockets: none times out waiting for one', async () => {
  // Every request is answered only after a while, so with a pool of 50 sockets the rest
  // would wait in its queue past the connection timeout (the SDK's timer runs there too).
  const server = createHttpServer((req, res) => {
    req.resume();
    req.on('end', () => {
      setTimeout(() => res.writeHead(200, { ETag: '"abc"', 'Content-Length': '0' }).end(), 2_000);
    });
  });
  const endpoint = await listening(server);
  closers.push(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });
  const c = client(endpoint, { connectTimeout: 1_000, requestTimeout: 0, maxAttempts: 1 });
  const results = await Promise.allSettled(
    Array.from({ length: 80 }, () => c.send(put(Buffer.alloc(1), 1))),
  );
  expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
});
