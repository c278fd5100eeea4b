// Starting our server for tests: in-process (Express + tusS3Middleware) or as the CLI
// process (for kill/restart tests), on either backend: S3 on the test RGW, or the file store.
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir } from 'node:fs/promises';
import http, { type Server as HttpServer } from 'node:http';
import { type AddressInfo, createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { type TusS3, type TusS3Options, tusS3Middleware } from '@tus-s3/server';
import express from 'express';
import { removeDir, tmpDir } from './files.js';
import {
  createTestBucket,
  deleteBucketDeep,
  sha256OfObject,
  testS3Client,
  testS3Env,
} from './s3.js';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const serverCli = path.join(repoRoot, 'packages/server/dist/cli.js');

/** Where a test's uploads go, and how to look at what got stored. */
export interface Backend {
  kind: 's3' | 'file';
  /** Options for createTusServer / tusS3Middleware. */
  options: Pick<TusS3Options, 's3' | 'dataDir'>;
  /** CLI flags selecting the same storage. */
  cliArgs: string[];
  sha256Of(id: string): Promise<string>;
  contentTypeOf(id: string): Promise<string | undefined>;
  cleanup(): Promise<void>;
  bucket?: string;
  prefix?: string;
}

export async function s3Backend(prefix = 'up/'): Promise<Backend> {
  const env = testS3Env();
  const bucket = await createTestBucket('tus');
  const s3 = testS3Client();
  return {
    kind: 's3',
    bucket,
    prefix,
    options: {
      s3: {
        bucket,
        prefix,
        endpoint: env.endpoint,
        region: env.region,
        credentials: { accessKeyId: env.accessKeyId, secretAccessKey: env.secretAccessKey },
      },
    },
    cliArgs: ['--s3-bucket', bucket, '--s3-endpoint', env.endpoint, '--s3-prefix', prefix],
    sha256Of: (id) => sha256OfObject(bucket, `${prefix}${id}`),
    contentTypeOf: async (id) =>
      (await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: `${prefix}${id}` }))).ContentType,
    cleanup: () => deleteBucketDeep(bucket),
  };
}

export async function fileBackend(): Promise<Backend> {
  const dir = await tmpDir('tus-file-store-');
  return {
    kind: 'file',
    options: { dataDir: dir },
    cliArgs: ['--data-dir', dir],
    sha256Of: async (id) => {
      const hash = createHash('sha256');
      for await (const chunk of createReadStream(path.join(dir, id))) hash.update(chunk as Buffer);
      return hash.digest('hex');
    },
    contentTypeOf: async () => undefined,
    cleanup: async () => {
      await readdir(dir).catch(() => []);
      await removeDir(dir);
    },
  };
}

export const backends: Array<[string, () => Promise<Backend>]> = [
  ['S3 (RGW)', () => s3Backend()],
  ['file store', () => fileBackend()],
];

export interface RunningServer {
  /** Upload collection URL, e.g. http://127.0.0.1:1234/files */
  url: string;
  tus: TusS3;
  http: HttpServer;
  close(): Promise<void>;
}

/** Our middleware in an Express app on 127.0.0.1, mounted at `mount`. */
export async function startInProcess(
  options: TusS3Options,
  { mount = '/files', before }: { mount?: string; before?: (app: express.Express) => void } = {},
): Promise<RunningServer> {
  const app = express();
  before?.(app);
  const mw = tusS3Middleware(options);
  app.use(mount, mw);
  const http = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => http.once('listening', () => resolve()));
  const { port } = http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${mount}`,
    tus: mw.tus,
    http,
    close: () =>
      new Promise<void>((resolve) => {
        http.closeAllConnections();
        http.close(() => resolve());
      }),
  };
}

export interface CliServer {
  url: string;
  proc: ChildProcess;
  output: () => string;
  /** Sends `signal` and waits for the exit; returns the exit code (null if killed). */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** The built CLI (packages/server/dist/cli.js) on a free port; resolves when it listens. */
export async function startCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliServer> {
  const proc = spawn(process.execPath, [serverCli, '--port', '0', ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const exited = new Promise<number | null>((resolve) =>
    proc.once('exit', (code) => resolve(code)),
  );
  const url = await new Promise<string>((resolve, reject) => {
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m?.[1]) resolve(m[1]);
    };
    proc.stdout?.on('data', onData);
    proc.stderr?.on('data', (d: Buffer) => {
      out += d.toString();
    });
    exited.then((code) => reject(new Error(`server exited with ${code}: ${out}`)));
    setTimeout(() => reject(new Error(`server did not start in 20 s: ${out}`)), 20_000).unref();
  });
  return {
    url,
    proc,
    output: () => out,
    stop: async (signal = 'SIGTERM') => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      return exited;
    },
  };
}

/** A tus request with Tus-Resumable set unless the test overrides it. */
export async function tus(
  url: string,
  method: string,
  headers: Record<string, string | undefined> = {},
  body?: Uint8Array,
): Promise<Response> {
  const h = new Headers();
  const all: Record<string, string | undefined> = { 'Tus-Resumable': '1.0.0', ...headers };
  for (const [k, v] of Object.entries(all)) if (v !== undefined) h.set(k, v);
  return fetch(url, { method, headers: h, body: body as BodyInit | undefined });
}

export async function createUpload(
  collection: string,
  length: number | 'deferred',
  metadata = '',
): Promise<string> {
  const res = await tus(collection, 'POST', {
    ...(length === 'deferred'
      ? { 'Upload-Defer-Length': '1' }
      : { 'Upload-Length': String(length) }),
    ...(metadata ? { 'Upload-Metadata': metadata } : {}),
  });
  if (res.status !== 201) throw new Error(`create: ${res.status} ${await res.text()}`);
  const loc = res.headers.get('location');
  if (!loc) throw new Error('create: no Location');
  return new URL(loc, collection).toString();
}

export async function patch(
  url: string,
  offset: number,
  bytes: Uint8Array,
  extra: Record<string, string> = {},
): Promise<Response> {
  return tus(
    url,
    'PATCH',
    {
      'Upload-Offset': String(offset),
      'Content-Type': 'application/offset+octet-stream',
      ...extra,
    },
    bytes,
  );
}

export async function headOffset(url: string): Promise<number> {
  const res = await tus(url, 'HEAD');
  if (res.status !== 200) throw new Error(`HEAD ${url}: ${res.status}`);
  return Number(res.headers.get('upload-offset'));
}

/** Sends `data` from `offset` in PATCHes of `chunk` bytes; returns the final offset. */
export async function uploadRest(url: string, data: Buffer, offset: number, chunk = data.length) {
  let at = offset;
  while (at < data.length) {
    const res = await patch(url, at, data.subarray(at, Math.min(at + chunk, data.length)));
    if (res.status !== 204) throw new Error(`PATCH at ${at}: ${res.status} ${await res.text()}`);
    at = Number(res.headers.get('upload-offset'));
  }
  return at;
}

export function idOf(url: string): string {
  return decodeURIComponent(new URL(url).pathname.split('/').pop() ?? '');
}

export function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * One PATCH over a raw HTTP connection whose body `drive` writes (slowly, partly, or not
 * at all): resolves with the status, or -1 when the connection died first.
 */
export function rawPatch(
  url: string,
  offset: number,
  contentLength: number,
  drive: (req: http.ClientRequest) => void,
  headers: Record<string, string> = {},
): Promise<number> {
  const { port, pathname } = new URL(url);
  return new Promise((resolve) => {
    const req = http.request({
      host: '127.0.0.1',
      port,
      path: pathname,
      method: 'PATCH',
      headers: {
        'Tus-Resumable': '1.0.0',
        'Upload-Offset': String(offset),
        'Content-Type': 'application/offset+octet-stream',
        'Content-Length': String(contentLength),
        ...headers,
      },
    });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve(-1));
    drive(req);
  });
}

/**
 * Status, headers and body of an answer: what must not tell two answers apart (another
 * owner's upload and a missing one). Date and the request id differ between any two
 * answers: only their names are compared.
 */
export async function comparableAnswer(
  res: Response,
): Promise<{ status: number; headers: string[]; body: string }> {
  const perRequest = new Set(['date', 'x-request-id']);
  const headers = [...res.headers.entries()]
    .map(([k, v]) => (perRequest.has(k) ? k : `${k}: ${v}`))
    .sort();
  return { status: res.status, headers, body: await res.text() };
}

/** A free port on 127.0.0.1 (for a server restarted where the client expects it). */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', () => resolve()));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}
