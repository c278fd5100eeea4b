// Client digest: 'sha256' against our server on RGW. A declared upload interrupted and
// resumed (the digest from the resume store, not hashed again) completes with the server's
// HEAD Repr-Digest and the object's sha256 metadata equal to the file's SHA-256. A file
// changed after it was hashed fails on its last byte with a 'digest' error, never retried,
// and no object appears at the key. The same for a parallel upload of 4 partials, whose final
// comes first (concatenation-unfinished): its HEAD answers 460 once the partials are in.
import { open } from 'node:fs/promises';
import path from 'node:path';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import {
  JsonFileStore,
  nodeFileSource,
  type TusError,
  Upload,
  type UploadOptions,
} from '@tus-s3/client/node';
import { lastLine, runCli } from './helpers/client-cli.js';
import { makeRandomFile, removeDir, tmpDir } from './helpers/files.js';
import { testS3Client } from './helpers/s3.js';
import {
  type Backend,
  idOf,
  type RunningServer,
  s3Backend,
  startInProcess,
} from './helpers/server.js';

const MiB = 1024 * 1024;

let dir: string;
let backend: Backend;
let server: RunningServer;

beforeAll(async () => {
  dir = await tmpDir('client-digest-');
  backend = await s3Backend('client-digest/');
  server = await startInProcess(backend.options);
});

afterAll(async () => {
  await server?.close();
  await backend?.cleanup().catch(() => {});
  await removeDir(dir);
});

const endpoint = () => `${server.url}/files`;
const b64 = (hex: string) => Buffer.from(hex, 'hex').toString('base64');

async function headObject(url: string) {
  const key = `${backend.prefix}${idOf(url)}`;
  return testS3Client()
    .send(new HeadObjectCommand({ Bucket: backend.bucket!, Key: key }))
    .catch((e: { name?: string }) => ({ missing: e.name }));
}

interface Run {
  upload: Upload;
  digests: Array<{ sha256: string; reused: boolean }>;
  retries: TusError[];
}

async function run(
  file: string,
  o: Partial<UploadOptions>,
  hook: (r: Run) => void = () => {},
): Promise<Run & { outcome: Promise<unknown> }> {
  const source = await nodeFileSource(file);
  const upload = new Upload(source, {
    endpoint: endpoint(),
    chunkSize: 8 * MiB,
    retry: { delays: [0, 200, 500] },
    digest: 'sha256',
    ...o,
  });
  const r: Run = { upload, digests: [], retries: [] };
  upload.on('digest', (e) =>
    r.digests.push({ sha256: e.reprDigest.replace(/^sha-256=:(.*):$/, '$1'), reused: e.fromStore }),
  );
  upload.on('retry', (e) => r.retries.push(e.error));
  hook(r);
  const outcome = upload.start().finally(() => source.close());
  outcome.catch(() => {});
  return { ...r, outcome };
}

/** Flips one byte of the file on disk. */
async function flipByte(file: string, at: number): Promise<void> {
  const fh = await open(file, 'r+');
  try {
    const b = Buffer.alloc(1);
    await fh.read(b, 0, 1, at);
    b[0] = b[0]! ^ 0x01;
    await fh.write(b, 0, 1, at);
  } finally {
    await fh.close();
  }
}

test('declared, interrupted and resumed: HEAD Repr-Digest is the file SHA-256', async () => {
  const file = await makeRandomFile(dir, 20 * MiB);
  const store = new JsonFileStore(path.join(dir, 'store.json'));
  const first = await run(file.path, { store }, ({ upload }) => {
    upload.on('chunk', (c) => {
      if (c.bytesAcknowledged >= 8 * MiB) upload.abort();
    });
  });
  await expect(first.outcome).rejects.toMatchObject({ kind: 'aborted' });
  expect(first.digests).toEqual([{ sha256: b64(file.sha256), reused: false }]);

  const second = await run(file.path, { store });
  const result = (await second.outcome) as { url: string; size: number };
  expect(second.digests).toEqual([{ sha256: b64(file.sha256), reused: true }]);
  expect(result.url).toBe(first.upload.url);

  const head = await fetch(result.url, { method: 'HEAD', headers: { 'Tus-Resumable': '1.0.0' } });
  expect(head.headers.get('Upload-Offset')).toBe(String(file.size));
  expect(head.headers.get('Repr-Digest')).toBe(`sha-256=:${b64(file.sha256)}:`);
  const obj = await headObject(result.url);
  expect((obj as { Metadata?: Record<string, string> }).Metadata?.sha256).toBe(file.sha256);
  expect(await store.list()).toEqual([]);
});

test('bytes changed after hashing: a digest error on the last byte, no retry, no object', async () => {
  const file = await makeRandomFile(dir, 12 * MiB);
  const store = new JsonFileStore(path.join(dir, 'store-bad.json'));
  let flipped: Promise<void> | null = null;
  const r = await run(file.path, { store }, ({ upload }) => {
    upload.on('digest', () => {
      flipped = flipByte(file.path, 11 * MiB);
    });
  });
  const err = (await r.outcome.catch((e: unknown) => e)) as TusError;
  await flipped;
  expect(err.kind).toBe('digest');
  expect(err.status).toBe(460);
  expect(err.message).toMatch(/Repr-Digest/);
  expect(r.retries).toEqual([]);
  const url = r.upload.url!;
  const head = await fetch(url, { method: 'HEAD', headers: { 'Tus-Resumable': '1.0.0' } });
  expect(Number(head.headers.get('Upload-Offset'))).toBeLessThan(file.size);
  expect(await headObject(url)).toEqual({ missing: 'NotFound' });
  expect(await store.list()).toEqual([]);
});

/** What a parallel upload did in order: its final's creation, and its first chunk. */
function finalFirstTrace(upload: Upload): { events: string[]; finalUrl: () => string } {
  const events: string[] = [];
  let url = '';
  upload.on('created', (e) => {
    url = e.url;
    events.push('final');
  });
  upload.on('chunk', () => {
    if (!events.includes('chunk')) events.push('chunk');
  });
  return { events, finalUrl: () => url };
}

test('parallel (4 partials), final first with a digest: complete, HEAD Repr-Digest right', async () => {
  const file = await makeRandomFile(dir, 32 * MiB);
  const store = new JsonFileStore(path.join(dir, 'store-parallel-ok.json'));
  let trace: ReturnType<typeof finalFirstTrace> | undefined;
  const r = await run(file.path, { parallel: 4, chunkSize: 6 * MiB, store }, ({ upload }) => {
    trace = finalFirstTrace(upload);
  });
  const result = (await r.outcome) as { url: string };
  // The final was created before any byte went (final first), and is the result.
  expect(trace?.events).toEqual(['final', 'chunk']);
  expect(result.url).toBe(trace?.finalUrl());
  const head = await fetch(result.url, { method: 'HEAD', headers: { 'Tus-Resumable': '1.0.0' } });
  expect(head.headers.get('Upload-Offset')).toBe(String(file.size));
  expect(head.headers.get('Repr-Digest')).toBe(`sha-256=:${b64(file.sha256)}:`);
  expect(await store.list()).toEqual([]);
});

test('parallel (4 partials), bytes changed after hashing: the final fails with a digest error', async () => {
  const file = await makeRandomFile(dir, 32 * MiB);
  const store = new JsonFileStore(path.join(dir, 'store-parallel-bad.json'));
  let flipped: Promise<void> | null = null;
  const partials: number[] = [];
  let trace: ReturnType<typeof finalFirstTrace> | undefined;
  const r = await run(file.path, { parallel: 4, chunkSize: 6 * MiB, store }, ({ upload }) => {
    trace = finalFirstTrace(upload);
    upload.on('parallel', (e) => partials.push(e.partials.length));
    upload.on('digest', () => {
      flipped = flipByte(file.path, 21 * MiB + 5);
    });
  });
  const err = (await r.outcome.catch((e: unknown) => e)) as TusError;
  await flipped;
  expect(err.kind).toBe('digest');
  expect(err.status).toBe(460);
  expect(r.retries).toEqual([]);
  expect(partials).toEqual([4]);
  // Final first: the server accepted the digest up front and checked it when the last
  // partial finished; the client learnt it from the final's HEAD.
  expect(trace?.events).toEqual(['final', 'chunk']);
  expect(err.method).toBe('HEAD');
  const finalUrl = trace?.finalUrl() as string;
  const head = await fetch(finalUrl, { method: 'HEAD', headers: { 'Tus-Resumable': '1.0.0' } });
  expect(head.status).toBe(460);
  expect(await headObject(finalUrl)).toEqual({ missing: 'NotFound' });
  expect(await store.list()).toEqual([]);
});

test('CLI --digest sha256 declares it and says so', async () => {
  const file = await makeRandomFile(dir, 3 * MiB);
  const cli = runCli([
    'upload',
    file.path,
    '--endpoint',
    endpoint(),
    '--digest',
    'sha256',
    '--store',
    path.join(dir, 'cli-store.json'),
  ]);
  expect(await cli.exited).toBe(0);
  expect(cli.stderr()).toContain(`digest: sha-256=:${b64(file.sha256)}:`);
  const head = await fetch(lastLine(cli.stdout()), {
    method: 'HEAD',
    headers: { 'Tus-Resumable': '1.0.0' },
  });
  expect(head.headers.get('Repr-Digest')).toBe(`sha-256=:${b64(file.sha256)}:`);
});
