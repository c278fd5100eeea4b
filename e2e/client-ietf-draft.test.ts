// Our client in IETF draft mode (`protocol: 'ietf-draft'`, interop 8) against our server
// on RGW: a run aborted mid-way resumes from the server's offset through the store; a
// connection cut mid-append is retried from the HEAD offset; the tus-upload CLI with
// `--protocol ietf-draft` SIGKILLed at ~40% resumes on rerun. Bytes exact every time, and
// every request the server saw spoke the draft (no Tus-Resumable).
import { readFile } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import path from 'node:path';
import { JsonFileStore, nodeFileSource, Upload, type UploadOptions } from '@tus-s3/client/node';
import { lastLine, runCli, waitFor } from './helpers/client-cli.js';
import { type FaultProxy, startProxy } from './helpers/client-proxy.js';
import { makeRandomFile, removeDir, tmpDir } from './helpers/files.js';
import {
  type Backend,
  idOf,
  type RunningServer,
  s3Backend,
  startInProcess,
} from './helpers/server.js';

const MiB = 1024 * 1024;

interface Heard {
  methods: string[];
  tus: number;
  interop: Set<string>;
}

let dir: string;
let backend: Backend;
let server: RunningServer;
let proxy: FaultProxy;
const heard: Heard = { methods: [], tus: 0, interop: new Set() };

beforeAll(async () => {
  dir = await tmpDir('client-draft-');
  backend = await s3Backend('client-draft/');
  const note = (req: IncomingMessage) => {
    heard.methods.push(req.method ?? '');
    if (req.headers['tus-resumable'] !== undefined) heard.tus++;
    heard.interop.add(String(req.headers['upload-draft-interop-version']));
  };
  server = await startInProcess(
    { ...backend.options, partSize: 5 * MiB },
    {
      before: (app) =>
        app.use((req, _res, next) => {
          note(req);
          next();
        }),
    },
  );
  proxy = await startProxy({ targetPort: Number(new URL(server.url).port) });
});

afterAll(async () => {
  await proxy?.close();
  await server?.close();
  await backend?.cleanup();
  await removeDir(dir);
});

const endpoint = () => `${proxy.origin}${new URL(server.url).pathname}`;

function expectOnlyDraft() {
  expect(heard.tus).toBe(0);
  expect(heard.interop).toEqual(new Set(['8']));
}

test('library: aborted at 6 MiB, a new Upload resumes from the server offset; exact', async () => {
  const f = await makeRandomFile(dir, 16 * MiB + 333);
  const store = new JsonFileStore(path.join(dir, 'lib-store.json'));
  const o: UploadOptions = {
    endpoint: endpoint(),
    protocol: 'ietf-draft',
    chunkSize: 3 * MiB,
    store,
  };
  const source = await nodeFileSource(f.path);
  const first = new Upload(source, o);
  first.on('chunk', (c) => {
    if (c.bytesAcknowledged >= 6 * MiB) first.abort();
  });
  await expect(first.start()).rejects.toMatchObject({ kind: 'aborted' });
  await source.close();

  const again = await nodeFileSource(f.path);
  const second = new Upload(again, o);
  let resumedAt = -1;
  second.on('resumed', (e) => {
    resumedAt = e.offset;
  });
  const r = await second.start();
  await again.close();
  expect(r.url).toBe(first.url);
  expect(resumedAt).toBeGreaterThanOrEqual(6 * MiB);
  expect(await backend.sha256Of(idOf(r.url))).toBe(f.sha256);
  expectOnlyDraft();
  process.stdout.write(`library: aborted, resumed from ${resumedAt}, ${f.size} bytes exact\n`);
});

test('library: connections cut every 5 MiB, each append retried from the HEAD offset; exact', async () => {
  const f = await makeRandomFile(dir, 12 * MiB + 77);
  const source = await nodeFileSource(f.path);
  const up = new Upload(source, {
    endpoint: endpoint(),
    protocol: 'ietf-draft',
    chunkSize: 4 * MiB,
    retry: { delays: [0, 100, 200, 400, 800, 800, 800, 800] },
  });
  let retries = 0;
  up.on('retry', () => {
    retries++;
  });
  proxy.set({ cutEveryBytes: 5 * MiB });
  try {
    const r = await up.start();
    expect(await backend.sha256Of(idOf(r.url))).toBe(f.sha256);
  } finally {
    proxy.set({ cutEveryBytes: Number.POSITIVE_INFINITY });
    await source.close();
  }
  expect(proxy.cuts).toBeGreaterThanOrEqual(2);
  expect(retries).toBeGreaterThanOrEqual(2);
  expectOnlyDraft();
  process.stdout.write(`library: ${proxy.cuts} cuts, ${retries} retries, ${f.size} bytes exact\n`);
});

test('CLI --protocol ietf-draft: SIGKILL at ~40%, the rerun resumes; exact', async () => {
  const size = 40 * MiB;
  const f = await makeRandomFile(dir, size, { name: 'draft ü.bin' });
  const store = path.join(dir, 'cli-store.json');
  const args = [
    f.path,
    '--protocol',
    'ietf-draft',
    '-e',
    endpoint(),
    '-c',
    '4M',
    '--store',
    store,
    '--retry-delays',
    '0,200,500',
  ];
  proxy.set({ bytesPerSecond: 20 * MiB });
  const before = proxy.bytesUp;
  const run = runCli(args);
  await waitFor(
    () => proxy.bytesUp - before >= 0.42 * size || run.proc.exitCode !== null,
    60_000,
    '40%',
  );
  expect(run.proc.exitCode).toBeNull();
  run.proc.kill('SIGKILL');
  await run.exited;
  const killedAt = proxy.bytesUp - before;
  proxy.set({ bytesPerSecond: 0 });
  const stored = JSON.parse(await readFile(store, 'utf8')) as {
    uploads: Record<string, { uploadUrl: string }>;
  };
  const url = Object.values(stored.uploads)[0]?.uploadUrl as string;
  const rerun = runCli(args);
  expect(await rerun.exited).toBe(0);
  expect(lastLine(rerun.stdout())).toBe(url);
  const m = /resuming \S+ from offset (\d+)/.exec(rerun.stderr());
  const resumedFrom = Number(m?.[1]);
  expect(resumedFrom).toBeGreaterThan(0.3 * size);
  expect(await backend.sha256Of(idOf(url))).toBe(f.sha256);
  // Everything that crossed the proxy (bodies and headers) minus the file: sent twice.
  const resent = proxy.bytesUp - before - size;
  expectOnlyDraft();
  process.stdout.write(
    `CLI: killed when ${killedAt} bytes had passed the proxy, resumed from ${resumedFrom}, re-sent ${resent}, ${size} bytes exact\n`,
  );
  expect(resent).toBeLessThanOrEqual(4 * MiB + 64 * 1024);
});
