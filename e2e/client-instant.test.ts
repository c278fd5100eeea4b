// The client's instant upload (option `dedupe`, CLI --dedupe; issue 22) against our server
// with --instant-upload on RGW. The first upload of a file is an ordinary one (reported
// 'uploaded'); the same content again, as the same tenant, is reported 'instant', sends
// less than 1 MiB through a counting proxy (headers and proof only) and the object at its
// key is the file exactly; another tenant with the same file uploads it normally; with
// `parallel` the attempt comes first and makes way for the partials. The CLI prints its
// one line either way.
import path from 'node:path';
import {
  type InstantReport,
  nodeFileSource,
  Upload,
  type UploadOptions,
} from '@tus-s3/client/node';
import { runCli } from './helpers/client-cli.js';
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

let dir: string;
let backend: Backend;
let server: RunningServer;
let proxy: FaultProxy;

beforeAll(async () => {
  dir = await tmpDir('client-instant-');
  backend = await s3Backend('client-instant/');
  server = await startInProcess({
    ...backend.options,
    digest: 'sha256',
    instantUpload: true,
    // The tenant comes from a header here: enough to tell two tenants apart.
    authenticate: (req) => {
      const tenant = req.headers.get('x-tenant') ?? 'default';
      return { owner: `${tenant}-user`, tenant };
    },
  });
  proxy = await startProxy({ targetPort: Number(new URL(server.url).port) });
});

afterAll(async () => {
  await proxy?.close();
  await server?.close();
  await backend?.cleanup().catch(() => {});
  await removeDir(dir);
});

/** The endpoint through the counting proxy. */
const endpoint = () => `${proxy.origin}${new URL(server.url).pathname}`;

/** One upload of `file` with dedupe; the client-to-server bytes it cost on the wire. */
async function upload(file: string, o: Partial<UploadOptions> = {}, hook?: (u: Upload) => void) {
  const source = await nodeFileSource(file);
  const u = new Upload(source, { endpoint: endpoint(), dedupe: true, chunkSize: 16 * MiB, ...o });
  hook?.(u);
  const reports: InstantReport[] = [];
  u.on('instant', (r) => reports.push(r));
  const before = proxy.bytesUp;
  try {
    const result = await u.start();
    return { result, reports, wire: proxy.bytesUp - before, sent: u.progress.bytesSent };
  } finally {
    await source.close();
  }
}

test('64 MiB: uploaded the first time, instant the second (< 1 MiB sent), object exact', async () => {
  const file = await makeRandomFile(dir, 64 * MiB);
  const first = await upload(file.path);
  expect(first.reports).toEqual([
    expect.objectContaining({ outcome: 'uploaded', reason: 'not-proven' }),
  ]);
  expect(first.result.instant?.outcome).toBe('uploaded');
  expect(first.wire).toBeGreaterThan(64 * MiB);
  expect(await backend.sha256Of(idOf(first.result.url))).toBe(file.sha256);

  const second = await upload(file.path);
  expect(second.reports).toEqual([
    { outcome: 'instant', message: 'the server already had this content' },
  ]);
  expect(second.result.instant?.outcome).toBe('instant');
  expect(second.result.size).toBe(64 * MiB);
  expect(second.sent).toBe(0);
  expect(second.wire).toBeLessThan(1 * MiB);
  expect(second.result.url).not.toBe(first.result.url);
  expect(await backend.sha256Of(idOf(second.result.url))).toBe(file.sha256);
  const head = await fetch(second.result.url, {
    method: 'HEAD',
    headers: { 'Tus-Resumable': '1.0.0', 'X-Tenant': 'default' },
  });
  expect(head.headers.get('Upload-Offset')).toBe(String(64 * MiB));
  process.stderr.write(
    `client-instant: first upload ${first.wire} bytes on the wire, second (instant) ${second.wire}\n`,
  );
});

test('another tenant with the same content uploads it normally', async () => {
  const file = await makeRandomFile(dir, 8 * MiB);
  const mine = await upload(file.path, { headers: { 'X-Tenant': 'acme' } });
  expect(mine.result.instant?.outcome).toBe('uploaded');
  const theirs = await upload(file.path, { headers: { 'X-Tenant': 'globex' } });
  expect(theirs.reports[0]).toMatchObject({ outcome: 'uploaded', reason: 'not-proven' });
  expect(theirs.sent).toBe(8 * MiB);
  expect(await backend.sha256Of(idOf(theirs.result.url))).toBe(file.sha256);
  const again = await upload(file.path, { headers: { 'X-Tenant': 'acme' } });
  expect(again.result.instant?.outcome).toBe('instant');
});

test('parallel 3: the attempt first (then deleted), partials; the second time instant', async () => {
  const file = await makeRandomFile(dir, 24 * MiB);
  const created: string[] = [];
  let partials = 0;
  const first = await upload(file.path, { parallel: 3, chunkSize: 8 * MiB }, (u) => {
    u.on('created', (e) => created.push(e.url));
    u.on('parallel', (e) => {
      partials = e.partials.length;
    });
  });
  expect(first.result.instant).toMatchObject({ outcome: 'uploaded', reason: 'not-proven' });
  expect(partials).toBe(3);
  expect(await backend.sha256Of(idOf(first.result.url))).toBe(file.sha256);
  // The attempt's upload (created first, no byte in it) was terminated.
  const attempt = await fetch(created[0]!, {
    method: 'HEAD',
    headers: { 'Tus-Resumable': '1.0.0', 'X-Tenant': 'default' },
  });
  expect(attempt.status).toBe(404);

  const second = await upload(file.path, { parallel: 3 }, (u) =>
    u.on('parallel', () => {
      partials = -1;
    }),
  );
  expect(second.result.instant?.outcome).toBe('instant');
  expect(partials).toBe(3); // no partials this time
  expect(second.sent).toBe(0);
  expect(await backend.sha256Of(idOf(second.result.url))).toBe(file.sha256);
});

test('tus-upload --dedupe prints what happened', async () => {
  const file = await makeRandomFile(dir, 4 * MiB);
  const store = path.join(dir, 'cli-store.json');
  const args = [file.path, '-e', server.url, '--dedupe', '--store', store];
  const first = runCli(args);
  expect(await first.exited).toBe(0);
  expect(first.stderr()).toContain(
    'uploaded normally: the server does not have this content for this tenant (or the challenge failed) (4194304 bytes sent)',
  );
  const second = runCli(args);
  expect(await second.exited).toBe(0);
  expect(second.stderr()).toContain(
    'instant upload: the server already had this content (0 bytes sent)',
  );
  const url = second.stdout().trim().split('\n').pop()!;
  expect(await backend.sha256Of(idOf(url))).toBe(file.sha256);
});
