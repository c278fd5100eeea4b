// Client must-show 5 (issue 4): `tus-upload --parallel 4` SIGKILLed mid-way (~40%), then
// the same command again: every partial resumes from the offset the server has (read by
// HEAD between the runs), no partial is created anew, bytes sent twice are bounded by one
// chunk per partial (counted by a TCP proxy), and the final object is exact. The final was
// created before the partials' bytes (concatenation-unfinished) and stored with them: the
// rerun completes that same final.
// Our server runs in this process on RGW; the client is the built CLI.
import { access, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { StoredUpload } from '@tus-s3/client';
import { clientCli, lastLine, runCli, waitFor } from './helpers/client-cli.js';
import { type FaultProxy, startProxy } from './helpers/client-proxy.js';
import { makeRandomFile, type RandomFile, removeDir, tmpDir } from './helpers/files.js';
import {
  type Backend,
  headOffset,
  idOf,
  type RunningServer,
  s3Backend,
  startInProcess,
  tus,
} from './helpers/server.js';

const MiB = 1024 * 1024;
const SIZE = 256 * MiB;
const CHUNK = 8 * MiB;

let dir: string;
let file: RandomFile;
let backend: Backend;
let server: RunningServer;
let proxy: FaultProxy;

beforeAll(async () => {
  await access(clientCli); // built by `pnpm build` (scripts/test.sh)
  dir = await tmpDir('client-parallel-resume-');
  file = await makeRandomFile(dir, SIZE, { name: 'parallel.bin' });
  backend = await s3Backend('client/');
  server = await startInProcess(backend.options);
  proxy = await startProxy({
    targetPort: Number(new URL(server.url).port),
    bytesPerSecond: 32 * MiB,
  });
});

afterAll(async () => {
  await proxy?.close();
  await server?.close();
  await backend?.cleanup().catch(() => {});
  await removeDir(dir);
});

async function storedEntry(store: string): Promise<StoredUpload> {
  const d = JSON.parse(await readFile(store, 'utf8')) as { uploads: Record<string, StoredUpload> };
  const entries = Object.values(d.uploads);
  expect(entries).toHaveLength(1);
  return entries[0]!;
}

/** Server offsets of the partials, once they stop moving (a killed request may still be settling). */
async function settledOffsets(urls: string[]): Promise<number[]> {
  let last = await Promise.all(urls.map(headOffset));
  for (;;) {
    await new Promise((r) => setTimeout(r, 300));
    const now = await Promise.all(urls.map(headOffset));
    if (now.every((x, i) => x === last[i])) return now;
    last = now;
  }
}

test('SIGKILL at ~40%, rerun: all partials resume from their offsets, re-sent bounded, exact', async () => {
  const store = path.join(dir, 'store.json');
  const args = [
    file.path,
    '--endpoint',
    `${proxy.origin}${new URL(server.url).pathname}`,
    '--parallel',
    '4',
    '--chunk-size',
    '8M',
    '--store',
    store,
    '--progress-interval',
    '500',
    '--retry-delays',
    '0,200,500,1000',
  ];

  const first = runCli(args);
  await waitFor(
    () => proxy.bytesUp >= 0.4 * SIZE || first.proc.exitCode !== null,
    120_000,
    'the first run to reach 40%',
  );
  expect(first.proc.exitCode).toBeNull(); // still uploading
  first.proc.kill('SIGKILL');
  expect(await first.exited).toBe('SIGKILL');
  const sentBeforeKill = proxy.bytesUp;
  expect(sentBeforeKill).toBeLessThan(0.7 * SIZE);

  // The store has every partial, each with its URL, under the file's fingerprint.
  const entry = await storedEntry(store);
  expect(entry.size).toBe(SIZE);
  expect(entry.partials).toHaveLength(4);
  const urls = entry.partials!.map((p) => p.uploadUrl);
  // The final was created before any byte (the server takes unfinished partials): it is
  // stored too, and not complete yet (no Upload-Offset).
  expect(typeof entry.finalUrl).toBe('string');
  expect((await tus(entry.finalUrl as string, 'HEAD')).headers.get('upload-offset')).toBeNull();
  expect(urls.every((u) => typeof u === 'string')).toBe(true);
  expect(entry.partials!.map((p) => p.end - p.start)).toEqual([
    64 * MiB,
    64 * MiB,
    64 * MiB,
    64 * MiB,
  ]);
  const offsets = await settledOffsets(urls as string[]);
  expect(offsets.every((o) => o > 0 && o < 64 * MiB)).toBe(true); // each partial mid-way

  // `tus-upload list` shows the parallel upload, each partial with its range and offset.
  const list = runCli(['list', '--store', store]);
  expect(await list.exited).toBe(0);
  expect(list.stdout()).toMatch(/^parallel size=268435456 "parallel.bin" partials=4 /m);
  for (let i = 0; i < 4; i++) {
    const range = `${i * 64 * MiB}-${(i + 1) * 64 * MiB}`;
    expect(list.stdout()).toContain(`  ${urls[i]} range=${range} offset=${offsets[i]}\n`);
  }

  proxy.set({ bytesPerSecond: 0 });
  const upBefore = proxy.bytesUp;
  const second = runCli(args);
  const code = await second.exited;
  if (code !== 0) throw new Error(`rerun exited ${code}: ${second.stderr()}`);
  const err = second.stderr();
  expect(err).toContain('resuming parallel upload: 4 partial uploads');
  expect(err).not.toMatch(/^partial \d\/4 created/m);
  for (let i = 0; i < 4; i++) {
    const m = new RegExp(`^partial ${i + 1}/4 resuming (\\S+) from offset (\\d+)$`, 'm').exec(err);
    expect(m).not.toBeNull();
    expect(m![1]).toBe(urls[i]);
    expect(Number(m![2])).toBe(offsets[i]);
  }

  // Re-sent = everything that crossed the proxy minus the file; each partial can lose at
  // most the chunk it had in flight (plus request headers).
  const resent = proxy.bytesUp - SIZE;
  const secondRun = proxy.bytesUp - upBefore;
  if (process.env.TUS_CLIENT_REPORT) {
    process.stderr.write(
      `[client-parallel-resume] killed after ${sentBeforeKill} bytes; partial offsets ${offsets.join(',')}; second run sent ${secondRun}; re-sent ${resent} (bound ${4 * CHUNK})\n`,
    );
  }
  expect(secondRun).toBeLessThanOrEqual(SIZE - offsets.reduce((a, b) => a + b, 0) + 64 * 1024);
  expect(resent).toBeLessThanOrEqual(4 * CHUNK);

  const url = lastLine(second.stdout());
  expect(url).toBe(entry.finalUrl);
  expect(await backend.sha256Of(idOf(url))).toBe(file.sha256);
  const after = JSON.parse(await readFile(store, 'utf8')) as { uploads: object };
  expect(Object.keys(after.uploads)).toHaveLength(0);
});
