// Client must-show 2 (issue 4): `tus-upload --parallel 4` on 1 GiB against our server on
// RGW. The object is exact (SHA-256), and since the server advertises
// concatenation-unfinished the client creates the final before any byte: the partials
// write straight into the final's multipart upload, so the server's counters show no byte
// copied or assembled, and its S3 client (recording every request) sent no UploadPartCopy.
// The server runs in this process so the test can read its store's metrics; the client is
// the built CLI in a child process.
// Also: against a server without concatenation (stock @tus/server + @tus/file-store) the
// CLI says it falls back to one upload, and the bytes are exact.
import { access } from 'node:fs/promises';
import path from 'node:path';
import { uploadFile } from '@tus-s3/client/node';
import { clientCli, lastLine, runCli } from './helpers/client-cli.js';
import { startStockTusServer } from './helpers/client-tus.js';
import { makeRandomFile, removeDir, tmpDir } from './helpers/files.js';
import { recordingClient, type Sent } from './helpers/recording-client.js';
import {
  type Backend,
  idOf,
  type RunningServer,
  s3Backend,
  startCli,
  startInProcess,
  tus,
} from './helpers/server.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

interface Metrics {
  partsCopied: number;
  bytesCopied: number;
  partsAssembled: number;
  bytesAssembled: number;
  completed: number;
  partBytesUploaded: number;
  partialsAdopted: number;
}

let dir: string;

beforeAll(async () => {
  await access(clientCli); // built by `pnpm build` (scripts/test.sh)
  dir = await tmpDir('client-parallel-');
});

afterAll(async () => {
  await removeDir(dir);
});

describe('tus-upload --parallel 4, 1 GiB, our server on RGW', () => {
  let backend: Backend;
  let server: RunningServer;
  let log: Sent[];

  beforeAll(async () => {
    backend = await s3Backend('client/');
    const recording = recordingClient();
    log = recording.log;
    const s3 = backend.options.s3 as NonNullable<Backend['options']['s3']>;
    server = await startInProcess({ ...backend.options, s3: { ...s3, client: recording.client } });
  });

  afterAll(async () => {
    await server?.close();
    await backend?.cleanup().catch(() => {});
  });

  test('object exact; partials write into the final: nothing copied, no UploadPartCopy', async () => {
    const file = await makeRandomFile(dir, GiB, { name: 'one-gib.bin' });
    const options = await tus(server.url, 'OPTIONS');
    expect(options.headers.get('tus-extension')?.split(',')).toContain('concatenation-unfinished');
    const partSize = Number(options.headers.get('tus-s3-part-size'));
    expect(partSize).toBeGreaterThanOrEqual(5 * MiB);

    const metrics = (server.tus.datastore as unknown as { metrics: Metrics }).metrics;
    const before = { ...metrics };
    const mark = log.length;
    const store = path.join(dir, 'store-1g.json');
    const run = runCli([
      file.path,
      '--endpoint',
      server.url,
      '--parallel',
      '4',
      '--store',
      store,
      '--progress-interval',
      '2000',
    ]);
    const code = await run.exited;
    if (code !== 0) throw new Error(`tus-upload exited ${code}: ${run.stderr()}`);
    const err = run.stderr();
    expect(err).toContain(`parallel upload: 4 partial uploads aligned to ${partSize} bytes`);
    expect(err.match(/^partial \d\/4 created /gm)).toHaveLength(4);
    expect(err.match(/^partial \d\/4 done \(268435456 bytes\)/gm)).toHaveLength(4);
    expect(err).toContain('checksum: sha256');
    const url = lastLine(run.stdout());
    expect(await backend.sha256Of(idOf(url))).toBe(file.sha256);

    // The final object: completed from the partials' own parts, not one byte copied.
    expect(metrics.partialsAdopted - before.partialsAdopted).toBe(4);
    expect(metrics.bytesCopied - before.bytesCopied).toBe(0);
    expect(metrics.partsCopied - before.partsCopied).toBe(0);
    expect(metrics.bytesAssembled - before.bytesAssembled).toBe(0);
    expect(metrics.partBytesUploaded - before.partBytesUploaded).toBe(GiB);
    const commands = log.slice(mark).map((s) => s.command);
    expect(commands).not.toContain('UploadPartCopyCommand');
    expect(commands.filter((c) => c === 'CompleteMultipartUploadCommand')).toHaveLength(1);
    if (process.env.TUS_CLIENT_REPORT) {
      process.stderr.write(
        `[client-parallel] 1 GiB --parallel 4: ${commands.length} S3 requests\n${err}\n`,
      );
    }
    // HEAD on the final: Upload-Concat final, the full length.
    const head = await tus(url, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.headers.get('upload-length')).toBe(String(GiB));
    expect(head.headers.get('upload-concat')).toMatch(/^final;/);
  });
});

test('a server without concatenation: the CLI says it falls back to one upload; exact', async () => {
  const stock = await startStockTusServer();
  try {
    const file = await makeRandomFile(dir, 40 * MiB);
    const run = runCli([
      file.path,
      '-e',
      stock.endpoint,
      '--parallel',
      '4',
      '--store',
      path.join(dir, 'store-stock.json'),
    ]);
    expect(await run.exited).toBe(0);
    expect(run.stderr()).toContain(
      'parallel upload not possible: the server does not support the concatenation extension; uploading as one upload',
    );
    expect(run.stderr()).toContain('checksum: off');
    expect(await stock.sha256Of(lastLine(run.stdout()))).toBe(file.sha256);
  } finally {
    await stock.close();
  }
});

// The first full bench of issue 25's round 4 hung here: a look at a direct final removes its
// partials under the final's lock, and a removal that waited for the partial's own write
// (which needs that lock to finish) waited forever. As the bench sends it: our client in
// this process, one chunk per partial, a 64 MiB file in parallel 4, against the CLI.
test('parallel 4 against the CLI, several times over: every upload finishes exact', async () => {
  const backend = await s3Backend('client-p4/');
  const server = await startCli(backend.cliArgs);
  try {
    for (let round = 0; round < 6; round++) {
      const file = await makeRandomFile(dir, 64 * MiB, { seed: `p4-${round}` });
      let timer: NodeJS.Timeout | undefined;
      const result = await Promise.race([
        uploadFile(file.path, {
          endpoint: server.url,
          chunkSize: 64 * MiB,
          parallel: 4,
          store: null,
          checksum: false,
        }),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`round ${round} hung for 30 s`)), 30_000);
        }),
      ]).finally(() => clearTimeout(timer));
      expect(await backend.sha256Of(idOf(result.url))).toBe(file.sha256);
    }
  } finally {
    await server.stop('SIGKILL');
    await backend.cleanup();
  }
}, 240_000);
