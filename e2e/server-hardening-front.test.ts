// Must-show 4, 5 and 6 of the hardening issue, via the CLI and via the Express middleware:
// a query string never selects an upload (an app's route guard sees the upload that is
// written), objects of active types are not served inline, and bad Host values or a
// failing S3 get a one-line answer that names nothing of the S3 behind the server.
import type { Server as HttpServer } from 'node:http';
import { type AddressInfo, connect, createConnection, createServer, type Socket } from 'node:net';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { type TusS3Options, tusS3Middleware } from '@tus-s3/server';
import express, {
  type Response as ExpressResponse,
  type NextFunction,
  type Request,
} from 'express';
import { testS3Client, testS3Env } from './helpers/s3.js';
import {
  type Backend,
  type CliServer,
  createUpload,
  headOffset,
  idOf,
  patch,
  s3Backend,
  sha256Hex,
  startCli,
  tus,
} from './helpers/server.js';

const MiB = 1024 * 1024;
const b64 = (s: string) => Buffer.from(s).toString('base64');

/** Every error body the hostile requests below got, checked at the end. */
const hostileBodies: string[] = [];
/** Object keys the tests wrote; none may appear in an error body. */
const keysWritten: string[] = [];
/** S3 endpoints (host:port) the servers under test used besides RGW's. */
const endpointsSeen: string[] = [];

interface Target {
  url: string;
  port: number;
  close(): Promise<void>;
}

interface ExpressTarget extends Target {
  /** Errors the middleware passed to next(): the app's handler would print their stack. */
  nextErrors: unknown[];
  /** The ids the app's guard on /files/:id saw in PATCH and DELETE requests. */
  guarded: string[];
  /** Uploads of another user: the guard refuses their PATCH and DELETE. */
  foreign: Set<string>;
}

/**
 * An app that guards PATCH and DELETE on /files/:id (not on foreign uploads), mounts the
 * middleware at /files and ends with an error handler that prints the stack, as
 * Express's default one does outside production.
 */
async function startExpress(options: TusS3Options): Promise<ExpressTarget> {
  const app = express();
  const nextErrors: unknown[] = [];
  const guarded: string[] = [];
  const foreign = new Set<string>();
  app.all('/files/:id', (req: Request, res: ExpressResponse, next: NextFunction) => {
    const id = String(req.params.id);
    if (req.method !== 'PATCH' && req.method !== 'DELETE') return next();
    guarded.push(id);
    if (foreign.has(id)) {
      res.status(403).end('not yours\n');
      return;
    }
    next();
  });
  app.use('/files', tusS3Middleware(options));
  app.use((err: unknown, _req: Request, res: ExpressResponse, _next: NextFunction) => {
    nextErrors.push(err);
    res.status(500).end(String((err as Error).stack));
  });
  const server: HttpServer = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/files`,
    port,
    nextErrors,
    guarded,
    foreign,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function cliTarget(args: string[]): Promise<Target & { cli: CliServer }> {
  const cli = await startCli(args);
  return {
    cli,
    url: cli.url,
    port: Number(new URL(cli.url).port),
    close: async () => {
      await cli.stop();
    },
  };
}

interface RawAnswer {
  status: number;
  headers: string;
  body: string;
}

/** One request written byte for byte on a socket (node's client would refuse these). */
function rawRequest(port: number, head: string, body = ''): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const cut = text.indexOf('\r\n\r\n');
      const headers = cut === -1 ? text : text.slice(0, cut);
      let rest = cut === -1 ? '' : text.slice(cut + 4);
      if (/^transfer-encoding: chunked/im.test(headers)) rest = dechunk(rest);
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0), headers, body: rest });
    });
    socket.end(Buffer.from(`${head}Connection: close\r\n\r\n${body}`, 'utf8'));
  });
}

function dechunk(text: string): string {
  let out = '';
  let rest = text;
  for (;;) {
    const eol = rest.indexOf('\r\n');
    const size = Number.parseInt(rest.slice(0, eol), 16);
    if (eol === -1 || !(size > 0)) return out;
    out += rest.slice(eol + 2, eol + 2 + size);
    rest = rest.slice(eol + 4 + size);
  }
}

/** A hostile request's error answer: kept for the final check, status returned. */
async function hostile(answer: Promise<RawAnswer> | Response): Promise<number> {
  const a = await answer;
  if (a instanceof Response) {
    hostileBodies.push(await a.text());
    return a.status;
  }
  hostileBodies.push(a.body);
  return a.status;
}

function metadata(filetype: string, filename?: string): string {
  return [`filetype ${b64(filetype)}`, ...(filename ? [`filename ${b64(filename)}`] : [])].join(
    ',',
  );
}

async function objectHeaders(backend: Backend, id: string) {
  const key = `${backend.prefix}${id}`;
  keysWritten.push(key);
  const head = await testS3Client().send(
    new HeadObjectCommand({ Bucket: backend.bucket, Key: key }),
  );
  return { type: head.ContentType, disposition: head.ContentDisposition ?? '' };
}

/** An upload of `data` with `meta`, sent whole: its id. */
async function uploadWhole(collection: string, data: Buffer, meta: string): Promise<string> {
  const url = await createUpload(collection, data.length, meta);
  let at = 0;
  while (at < data.length) {
    const res = await patch(url, at, data.subarray(at, at + 4 * MiB));
    expect(res.status).toBe(204);
    at = Number(res.headers.get('upload-offset'));
  }
  return idOf(url);
}

let backend: Backend;
let cli: Target & { cli: CliServer };
let app: ExpressTarget;

beforeAll(async () => {
  backend = await s3Backend('hard/');
  cli = await cliTarget([...backend.cliArgs, '--part-size', '5MiB']);
  app = await startExpress({ ...backend.options, partSize: 5 * MiB });
});
afterAll(async () => {
  await cli?.close();
  await app?.close();
  await backend?.cleanup();
});

const targets = (): Array<[string, Target]> => [
  ['the CLI', cli],
  ['the Express middleware', app],
];

describe('must-show 4: a query string never selects an upload', () => {
  for (const via of ['the CLI', 'the Express middleware']) {
    it(`PATCH <A>?/<B> and DELETE <A>?x=/<B> leave B unchanged (${via})`, async () => {
      const target = targets().find(([name]) => name === via)?.[1] as Target;
      const a = await createUpload(target.url, 8);
      const idA = idOf(a);
      // B got 3 bytes with its creation (no guarded route) and belongs to someone else.
      const created = await tus(
        target.url,
        'POST',
        { 'Upload-Length': '8', 'Content-Type': 'application/offset+octet-stream' },
        Buffer.from('bbb'),
      );
      expect(created.status).toBe(201);
      const b = new URL(created.headers.get('location') ?? '', target.url).toString();
      const idB = idOf(b);
      if (target === app) app.foreign.add(idB);

      // At B's offset: written into B it would succeed; A is at 0, so A answers 409.
      const evil = await patch(`${a}?/${idB}`, 3, Buffer.from('EVIL!'));
      expect(await hostile(evil)).toBe(409);
      expect(await headOffset(b)).toBe(3);
      expect(await headOffset(a)).toBe(0);
      // The same at A's offset writes A, the upload the path (and the guard) names.
      expect((await patch(`${a}?/${idB}`, 0, Buffer.from('aa'))).status).toBe(204);
      expect(await headOffset(a)).toBe(2);
      expect(await headOffset(b)).toBe(3);

      const del = await tus(`${a}?x=/${idB}`, 'DELETE');
      expect(del.status).toBe(204);
      expect((await tus(a, 'HEAD')).status).toBe(404);
      expect(await headOffset(b)).toBe(3);

      // A path the URL parser would rewrite to B's is refused, not resolved.
      const port = target.port;
      const dotted = await rawRequest(
        port,
        `PATCH /files/${idA}/../${idB} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nTus-Resumable: 1.0.0\r\n` +
          'Upload-Offset: 3\r\nContent-Type: application/offset+octet-stream\r\nContent-Length: 5\r\n',
        'EVIL!',
      );
      expect(await hostile(Promise.resolve(dotted))).toBe(400);
      expect(await headOffset(b)).toBe(3);
      if (target === app) {
        // The guard saw A every time, never B.
        expect(app.guarded).not.toContain(idB);
        expect(app.guarded).toContain(idA);
        app.foreign.delete(idB);
      }

      expect((await patch(b, 3, Buffer.from('bbbbb'))).status).toBe(204);
      expect(await backend.sha256Of(idB)).toBe(sha256Hex(Buffer.from('bbbbbbbb')));
      keysWritten.push(`${backend.prefix}${idB}`);
    });
  }
});

describe('must-show 5: active types are not served inline', () => {
  it.each(targets().map(([n]) => n))('stores HTML and SVG as attachments (%s)', async (via) => {
    const target = targets().find(([name]) => name === via)?.[1] as Target;
    for (const type of ['text/html', 'text/html; charset=utf-8', 'image/svg+xml']) {
      const id = await uploadWhole(
        target.url,
        Buffer.from('<svg onload="alert(1)"/>'),
        metadata(type, 'x.html'),
      );
      const h = await objectHeaders(backend, id);
      expect(h.type).toBe(type);
      expect(h.disposition).toMatch(/^attachment; filename="x\.html"; filename\*=UTF-8''x\.html$/);
    }
    // Without a filename too; and a passive type stays inline.
    const bare = await uploadWhole(target.url, Buffer.from('<p>'), metadata('text/html'));
    expect((await objectHeaders(backend, bare)).disposition).toBe('attachment');
    const png = await uploadWhole(target.url, Buffer.from('png'), metadata('image/png', 'a.png'));
    expect((await objectHeaders(backend, png)).disposition).toMatch(/^inline; filename="a\.png"/);
  });

  it('stores a multipart upload of text/html as an attachment (the CLI)', async () => {
    const data = Buffer.alloc(6 * MiB, 0x3c);
    const id = await uploadWhole(cli.url, data, metadata('text/html', 'big.html'));
    const h = await objectHeaders(backend, id);
    expect(h.disposition).toMatch(/^attachment; filename="big\.html"/);
    expect(await backend.sha256Of(id)).toBe(sha256Hex(data));
  });

  it('serves inline what --inline-types / inlineTypes allow', async () => {
    const allowing = await cliTarget([...backend.cliArgs, '--inline-types', 'text/html']);
    const inApp = await startExpress({ ...backend.options, inlineTypes: ['image/*'] });
    try {
      const html = await uploadWhole(
        allowing.url,
        Buffer.from('<p>'),
        metadata('text/html', 'p.html'),
      );
      expect((await objectHeaders(backend, html)).disposition).toMatch(
        /^inline; filename="p\.html"/,
      );
      const svg = await uploadWhole(allowing.url, Buffer.from('<svg/>'), metadata('image/svg+xml'));
      expect((await objectHeaders(backend, svg)).disposition).toBe('attachment');
      const svg2 = await uploadWhole(
        inApp.url,
        Buffer.from('<svg/>'),
        metadata('image/svg+xml', 's.svg'),
      );
      expect((await objectHeaders(backend, svg2)).disposition).toMatch(
        /^inline; filename="s\.svg"/,
      );
    } finally {
      await allowing.close();
      await inApp.close();
    }
  });
});

const BAD_HOSTS: Array<[string, string]> = [
  ['with a space', 'a b'],
  ['empty', ''],
  ['an unclosed IP literal', '[::1'],
  ['very long', `${'a'.repeat(60)}.`.repeat(40)],
  ['non-ASCII', 'häst.example'],
  ['with a path', 'example.com/files'],
  ['with a bad port', 'example.com:99999'],
];

describe('must-show 6: bad Host values and unparsable requests answer 400', () => {
  it.each(targets().map(([n]) => n))('answers 400 with one line, no stack (%s)', async (via) => {
    const target = targets().find(([name]) => name === via)?.[1] as Target;
    const upload = new URL(await createUpload(target.url, 10)).pathname;
    const requests = (host: string): string[] => [
      `POST /files HTTP/1.1\r\nHost: ${host}\r\nTus-Resumable: 1.0.0\r\nUpload-Length: 10\r\n`,
      `PATCH ${upload} HTTP/1.1\r\nHost: ${host}\r\nTus-Resumable: 1.0.0\r\nUpload-Offset: 0\r\n` +
        'Content-Type: application/offset+octet-stream\r\nContent-Length: 0\r\n',
      `HEAD ${upload} HTTP/1.1\r\nHost: ${host}\r\nTus-Resumable: 1.0.0\r\n`,
      `OPTIONS /files HTTP/1.1\r\nHost: ${host}\r\n`,
      `DELETE ${upload} HTTP/1.1\r\nHost: ${host}\r\nTus-Resumable: 1.0.0\r\n`,
    ];
    for (const [what, host] of BAD_HOSTS) {
      for (const head of requests(host)) {
        const answer = await rawRequest(target.port, head);
        expect({ what, head: head.split(' ')[0], status: answer.status }).toEqual({
          what,
          head: head.split(' ')[0],
          status: 400,
        });
        hostileBodies.push(answer.body);
        if (!head.startsWith('HEAD')) {
          expect(answer.body).toMatch(/^bad Host header: [^\n]+\n$/);
        }
      }
    }
    const good = `127.0.0.1:${target.port}`;
    const unparsable = [
      // A malformed percent-escape in the id; a path URL parsing would change.
      `PATCH /files/%zz HTTP/1.1\r\nHost: ${good}\r\nTus-Resumable: 1.0.0\r\nUpload-Offset: 0\r\n` +
        'Content-Type: application/offset+octet-stream\r\nContent-Length: 0\r\n',
      `HEAD /files/a\\b HTTP/1.1\r\nHost: ${good}\r\nTus-Resumable: 1.0.0\r\n`,
      `DELETE /files/%2e%2e/x HTTP/1.1\r\nHost: ${good}\r\nTus-Resumable: 1.0.0\r\n`,
      // Absurd header values.
      `POST /files HTTP/1.1\r\nHost: ${good}\r\nTus-Resumable: 1.0.0\r\nUpload-Length: ${'9'.repeat(400)}\r\n`,
      `PATCH ${upload} HTTP/1.1\r\nHost: ${good}\r\nTus-Resumable: 1.0.0\r\nUpload-Offset: -${'1'.repeat(300)}\r\n` +
        'Content-Type: application/offset+octet-stream\r\nContent-Length: 0\r\n',
      `POST /files HTTP/1.1\r\nHost: ${good}\r\nTus-Resumable: 1.0.0\r\nUpload-Length: 5\r\n` +
        `Upload-Metadata: filetype ${'%'.repeat(3000)}\r\n`,
    ];
    for (const head of unparsable) {
      // Under Express the app's own router decodes /files/:id first and hands its URIError
      // to the app's error handler: the middleware never sees that request.
      if (target === app && head.includes('%zz')) continue;
      const answer = await rawRequest(target.port, head);
      expect({ head: head.split('\r\n')[0], status: answer.status }).toEqual({
        head: head.split('\r\n')[0],
        status: 400,
      });
      hostileBodies.push(answer.body);
      if (!head.startsWith('HEAD')) expect(answer.body).toMatch(/^[^\n]+\n$/);
    }
    // The upload is still there and untouched.
    expect(await headOffset(new URL(upload, target.url).toString())).toBe(0);
    if (target === app) expect(app.nextErrors).toEqual([]);
  });

  it('refuses a final naming more partials than --max-concat-partials', async () => {
    const capped = await cliTarget([...backend.cliArgs, '--max-concat-partials', '2']);
    try {
      const parts = [];
      for (let i = 0; i < 3; i++) {
        const res = await tus(capped.url, 'POST', {
          'Upload-Length': '1',
          'Upload-Concat': 'partial',
        });
        parts.push(new URL(res.headers.get('location') ?? '', capped.url).pathname);
      }
      const res = await tus(capped.url, 'POST', { 'Upload-Concat': `final;${parts.join(' ')}` });
      expect(await hostile(res)).toBe(400);
      expect(hostileBodies.at(-1)).toBe(
        'Upload-Concat: final names 3 partial uploads; this server takes at most 2\n',
      );
    } finally {
      await capped.close();
    }
  });

  it('answers an S3 failure "500 internal error" and never calls next() (Express)', async () => {
    const s3 = backend.options.s3 as NonNullable<TusS3Options['s3']>;
    const missing = await startExpress({ s3: { ...s3, bucket: `${backend.bucket}-missing` } });
    // A closed port: the SDK's ECONNREFUSED.
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', () => r()));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    endpointsSeen.push(`127.0.0.1:${closedPort}`);
    const refused = await startExpress({
      s3: { ...s3, endpoint: `http://127.0.0.1:${closedPort}` },
    });
    try {
      for (const target of [missing, refused]) {
        for (const size of [10, 6 * MiB]) {
          const res = await tus(target.url, 'POST', { 'Upload-Length': String(size) });
          expect(res.status).toBe(500);
          expect(res.headers.get('tus-resumable')).toBe('1.0.0');
          const body = await res.text();
          hostileBodies.push(body);
          expect(body).toBe('internal error\n');
        }
        // A HEAD and a PATCH reading the info: S3's "no such bucket" is a 404 like any
        // other "no such thing"; a refused connection is an internal error.
        const id = '0123456789abcdef0123456789abcdef';
        const expected = target === missing ? 404 : 500;
        expect((await tus(`${target.url}/${id}`, 'HEAD')).status).toBe(expected);
        const patched = await patch(`${target.url}/${id}`, 0, Buffer.from('x'));
        expect(await hostile(patched)).toBe(expected);
        expect(target.nextErrors).toEqual([]);
      }
    } finally {
      await missing.close();
      await refused.close();
    }
  });

  it('answers an unreachable S3 "503, try again" and logs why (the CLI)', async () => {
    // The CLI checks its bucket at start: give it a forwarder to RGW, then close it.
    const rgw = new URL(testS3Env().endpoint);
    const sockets = new Set<Socket>();
    const forwarder = createServer((client) => {
      const upstream = createConnection({ host: rgw.hostname, port: Number(rgw.port) });
      sockets.add(client).add(upstream);
      client.pipe(upstream).pipe(client);
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
    });
    await new Promise<void>((r) => forwarder.listen(0, '127.0.0.1', () => r()));
    const port = (forwarder.address() as AddressInfo).port;
    const args = ['--s3-bucket', backend.bucket as string, '--s3-prefix', 'hard/'];
    const srv = await cliTarget([...args, '--s3-endpoint', `http://127.0.0.1:${port}`]);
    try {
      const url = await createUpload(srv.url, 6 * MiB);
      keysWritten.push(`hard/${idOf(url)}`, `hard/${idOf(url)}.info`);
      await new Promise<void>((r) => {
        forwarder.close(() => r());
        for (const s of sockets) s.destroy();
      });
      // A refused connection is storage that may come back (s3/transport-errors.ts).
      const res = await patch(url, 0, Buffer.alloc(MiB));
      expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(await hostile(res)).toBe(503);
      expect(hostileBodies.at(-1)).toBe('storage is unavailable; try again\n');
      // A creation that needs S3 (a multipart upload) gets the same answer. A small one
      // without a body writes nothing (a sealed id): it is created, and its PATCH waits.
      const created = await tus(srv.url, 'POST', { 'Upload-Length': String(64 * MiB) });
      expect(await hostile(created)).toBe(503);
      const sealed = await tus(srv.url, 'POST', { 'Upload-Length': '10' });
      expect(sealed.status).toBe(201);
      const later = await patch(
        new URL(sealed.headers.get('location') as string, srv.url).href,
        0,
        Buffer.alloc(10),
      );
      expect(await hostile(later)).toBe(503);
      // The details went to the log, with the request's method and upload id.
      const log = srv.cli.output();
      expect(log).toContain('ECONNREFUSED');
      expect(log).toContain('"method":"PATCH"');
      expect(log).toContain(`"id":"${idOf(url)}"`);
      endpointsSeen.push(`127.0.0.1:${port}`);
    } finally {
      await srv.close();
    }
  });

  it('no error body of the hostile requests names S3, a key or a stack frame', () => {
    expect(hostileBodies.length).toBeGreaterThan(80);
    const rgw = new URL(testS3Env().endpoint).host;
    const forbidden = [
      backend.bucket as string,
      rgw,
      ...endpointsSeen,
      'AccessDenied',
      'NoSuchBucket',
      'ECONNREFUSED',
      '    at ',
      '.info',
      ...keysWritten,
    ];
    for (const body of hostileBodies) {
      for (const word of forbidden)
        expect({ body, has: body.includes(word) }).toEqual({ body, has: false });
      expect(body.split('\n').filter((l) => l !== '').length).toBeLessThanOrEqual(1);
    }
  });
});
