// Client must-show 2 and 3, through a TCP proxy on 127.0.0.1:
//  2. the proxy cuts the connection every few MiB: the upload completes, bytes exact;
//  3. the proxy stops reading mid-request and never answers (a server that accepted the
//     request and hung): the client notices within its idle time, aborts that request,
//     and the upload completes once the server answers again.
import { nodeFileSource, type TusError, Upload } from '@tus-s3/client/node';
import { type FaultProxy, startProxy } from './helpers/client-proxy.js';
import { type Target, targets } from './helpers/client-targets.js';
import { makeRandomFile, type RandomFile, removeDir, tmpDir } from './helpers/files.js';

const MiB = 1024 * 1024;
const IDLE_MS = 2000;

let dir: string;
let file: RandomFile;

beforeAll(async () => {
  dir = await tmpDir('client-faults-');
  file = await makeRandomFile(dir, 48 * MiB);
});
afterAll(async () => {
  await removeDir(dir);
});

describe.each(targets)('client through a faulty network: %s', (_name, start) => {
  let target: Target;
  let proxy: FaultProxy | undefined;

  beforeAll(async () => {
    target = await start();
  });
  afterEach(async () => {
    await proxy?.close();
    proxy = undefined;
  });
  afterAll(async () => {
    await target?.close();
  });

  test('connection cut every 3 MiB: completes, exact bytes', async () => {
    proxy = await startProxy({ targetPort: target.port, cutEveryBytes: 3 * MiB });
    const source = await nodeFileSource(file.path);
    const upload = new Upload(source, {
      endpoint: `${proxy.origin}${target.path}`,
      chunkSize: 'auto',
      retry: { baseDelayMs: 50, maxDelayMs: 500, maxRetries: 8 },
      stallTimeoutMs: 10_000,
    });
    const retries: TusError[] = [];
    upload.on('retry', (e) => retries.push(e.error));
    try {
      const r = await upload.start();
      expect(r.size).toBe(file.size);
      expect(await target.sha256Of(r.url)).toBe(file.sha256);
    } finally {
      await source.close();
    }
    expect(proxy.cuts).toBeGreaterThanOrEqual(10);
    expect(retries.length).toBeGreaterThanOrEqual(proxy.cuts / 2);
    expect(retries.every((e) => e.kind === 'network' || e.kind === 'http')).toBe(true);
  });

  test('server stops reading mid-request: stall detected within the idle time, then completes', async () => {
    proxy = await startProxy({ targetPort: target.port, stallAfterBytes: 12 * MiB });
    const source = await nodeFileSource(file.path);
    const upload = new Upload(source, {
      endpoint: `${proxy.origin}${target.path}`,
      chunkSize: 16 * MiB,
      retry: { baseDelayMs: 50, maxRetries: 5 },
      stallTimeoutMs: IDLE_MS,
    });
    let lastMove = Date.now();
    upload.on('progress', () => {
      lastMove = Date.now();
    });
    const stalls: number[] = [];
    let detectedAfterStall = -1;
    upload.on('retry', (e) => {
      if (e.error.kind !== 'stall') return;
      stalls.push(Date.now() - lastMove);
      detectedAfterStall = Date.now() - (proxy?.stalledAt ?? Number.NaN);
    });
    try {
      const r = await upload.start();
      expect(await target.sha256Of(r.url)).toBe(file.sha256);
    } finally {
      await source.close();
    }
    // Exactly one stall, noticed after about IDLE_MS without any byte moving.
    expect(stalls).toHaveLength(1);
    expect(stalls[0]).toBeGreaterThanOrEqual(IDLE_MS - 100);
    expect(stalls[0]).toBeLessThan(IDLE_MS + 2000);
    // ...and within a little more than IDLE_MS of the server going silent (the gap is the
    // time the client's socket buffers took to fill). The proxy shares this process's event
    // loop, so its clock for "went silent" can lag: only the upper bound is meaningful.
    expect(detectedAfterStall).toBeGreaterThan(0);
    expect(detectedAfterStall).toBeLessThan(IDLE_MS + 3000);
  });
});
