// Client must-show 1: a 100 MiB upload with the tus-upload CLI is SIGKILLed at ~40%;
// rerunning the same command resumes from the server's offset (bytes re-sent <= one
// chunk, counted by a TCP proxy in front of the server) and the stored bytes are exact.
// Against stock @tus/server + @tus/file-store, and against our server (CLI) on RGW.
import { access, readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { clientCli, lastLine, runCli, waitFor } from './helpers/client-cli.js';
import { type FaultProxy, startProxy } from './helpers/client-proxy.js';
import { ourCliOnRgw, stockTarget, type Target } from './helpers/client-targets.js';
import { makeRandomFile, type RandomFile, removeDir, tmpDir } from './helpers/files.js';

const MiB = 1024 * 1024;
const SIZE = 100 * MiB;
const CHUNK = 8 * MiB;

const targets: Array<[string, () => Promise<Target>]> = [
  ['stock @tus/server + @tus/file-store', stockTarget],
  ['our server (CLI) on RGW', ourCliOnRgw],
];

let dir: string;
let file: RandomFile;

beforeAll(async () => {
  await access(clientCli); // built by `pnpm build` (scripts/test.sh)
  dir = await tmpDir('client-cli-');
  file = await makeRandomFile(dir, SIZE, { name: 'payload ü.bin' });
});

afterAll(async () => {
  await removeDir(dir);
});

describe.each(targets)('tus-upload CLI killed at ~40%% resumes: %s', (_name, start) => {
  let target: Target;
  let proxy: FaultProxy;

  beforeAll(async () => {
    target = await start();
    proxy = await startProxy({ targetPort: target.port, bytesPerSecond: 25 * MiB });
  });

  afterAll(async () => {
    await proxy?.close();
    await target?.close();
  });

  test('SIGKILL at ~40%, rerun resumes, bytes exact, re-sent <= one chunk', async () => {
    const store = path.join(dir, `store-${Date.now()}.json`);
    const args = [
      file.path,
      '--endpoint',
      `${proxy.origin}${target.path}`,
      '--chunk-size',
      '8M',
      '--store',
      store,
      '--progress-interval',
      '200',
      '--retry-delays',
      '0,200,500',
    ];

    const first = runCli(args);
    await waitFor(
      () => proxy.bytesUp >= 0.42 * SIZE || first.proc.exitCode !== null,
      60_000,
      'the first run to reach 40%',
    );
    expect(first.proc.exitCode).toBeNull(); // still uploading
    first.proc.kill('SIGKILL');
    expect(await first.exited).toBe('SIGKILL');
    const sentBeforeKill = proxy.bytesUp;
    expect(sentBeforeKill).toBeGreaterThanOrEqual(0.42 * SIZE); // ~40%, mid-chunk (42 MiB = 5.25 chunks)
    expect(sentBeforeKill).toBeLessThan(0.6 * SIZE);

    const stored = JSON.parse(await readFile(store, 'utf8')) as {
      uploads: Record<string, { uploadUrl: string }>;
    };
    const entries = Object.values(stored.uploads);
    expect(entries).toHaveLength(1);
    const url = entries[0]!.uploadUrl;

    proxy.set({ bytesPerSecond: 0 });
    const second = runCli(args);
    expect(await second.exited).toBe(0);
    expect(lastLine(second.stdout())).toBe(url);
    const m = /resuming \S+ from offset (\d+)/.exec(second.stderr());
    expect(m).not.toBeNull();
    const resumedFrom = Number(m![1]);
    expect(resumedFrom).toBeGreaterThan(0.3 * SIZE);

    // Everything that crossed the proxy (bodies + a few hundred header bytes per request)
    // minus the file itself = bytes sent twice.
    const resent = proxy.bytesUp - SIZE;
    if (process.env.TUS_CLIENT_REPORT) {
      process.stderr.write(
        `[client-cli-resume] ${_name}: killed after ${sentBeforeKill} bytes, resumed from ${resumedFrom}, re-sent ${resent} bytes\n`,
      );
    }
    expect(resent).toBeLessThanOrEqual(CHUNK);
    expect(await target.sha256Of(url)).toBe(file.sha256);
    // Finished uploads leave the store.
    const after = JSON.parse(await readFile(store, 'utf8')) as { uploads: object };
    expect(Object.keys(after.uploads)).toHaveLength(0);
  });

  test('`list` shows the unfinished upload with its offset; `abort` terminates and forgets it', async () => {
    const store = path.join(dir, `store-list-${Date.now()}.json`);
    proxy.set({ bytesPerSecond: 25 * MiB });
    const before = proxy.bytesUp;
    const run = runCli([
      file.path,
      '-e',
      `${proxy.origin}${target.path}`,
      '-c',
      '4M',
      '--store',
      store,
    ]);
    await waitFor(() => proxy.bytesUp - before >= 10 * MiB, 60_000, 'some progress');
    run.proc.kill('SIGKILL');
    await run.exited;
    proxy.set({ bytesPerSecond: 0 });

    const list = runCli(['list', '--store', store]);
    expect(await list.exited).toBe(0);
    const m = /^(http:\/\/\S+) size=(\d+) offset=(\d+) "payload ü.bin"/m.exec(list.stdout());
    expect(m).not.toBeNull();
    const [, url, size, offset] = m!;
    expect(Number(size)).toBe(SIZE);
    expect(Number(offset)).toBeGreaterThan(0);

    const abort = runCli(['abort', url!, '--store', store]);
    expect(await abort.exited).toBe(0);
    const head = await fetch(url!, { method: 'HEAD', headers: { 'Tus-Resumable': '1.0.0' } });
    expect([404, 410]).toContain(head.status);
    const after = runCli(['list', '--store', store]);
    expect(await after.exited).toBe(0);
    expect(after.stdout()).toContain('no unfinished uploads');
  });
});

test('failure: exit code 1 and a one-line reason with the HTTP status and server message', async () => {
  const deny = createServer((req, res) => {
    req.resume();
    res.writeHead(403).end('forbidden: bad token\n');
  });
  await new Promise<void>((r) => deny.listen(0, '127.0.0.1', r));
  try {
    const { port } = deny.address() as AddressInfo;
    const store = path.join(dir, 'x.json');
    const run = runCli([file.path, '-e', `http://127.0.0.1:${port}/files`, '--store', store]);
    expect(await run.exited).toBe(1);
    const lines = run.stderr().trim().split('\n');
    expect(lines.at(-1)).toBe(
      `tus-upload: POST http://127.0.0.1:${port}/files: creation failed (HTTP 403): forbidden: bad token`,
    );
    expect(run.stdout()).toBe('');
  } finally {
    deny.close();
  }
});
