// Metrics and health (issue 21, must-show 4 and 7): the CLI's --metrics-port listener
// counts exactly what a scripted run did, S3 requests included (compared with a recording
// client's log of the same script run in-process), and /readyz follows RGW's reachability
// (through a proxy that black-holes it; the shared RGW is never stopped).
import { type BlackHoleProxy, startBlackHoleProxy } from './helpers/black-hole-proxy.js';
import { recordedS3 } from './helpers/recording-client.js';
import { testRedisUrl } from './helpers/redis.js';
import { testS3Env } from './helpers/s3.js';
import {
  type Backend,
  type CliServer,
  createUpload,
  patch,
  s3Backend,
  startCli,
  startInProcess,
  tus,
} from './helpers/server.js';

const MiB = 1024 * 1024;

type Sample = { name: string; labels: Record<string, string>; value: number };

function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m?.[1] || m[3] === undefined) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)) labels[l[1] ?? ''] = l[2] ?? '';
    samples.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return samples;
}

/** Sums of `name` by the label `by` (zero samples left out). */
function byLabel(samples: Sample[], name: string, by: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of samples) {
    if (s.name !== name || s.value === 0) continue;
    const key = by.map((b) => s.labels[b]).join(' ');
    out[key] = (out[key] ?? 0) + s.value;
  }
  return out;
}

function single(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  const s = samples.find(
    (x) => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v),
  );
  return s?.value ?? Number.NaN;
}

/** Scrapes until two scrapes agree: S3 work a request started after its answer settles. */
async function stableScrape(read: () => Promise<string>): Promise<Sample[]> {
  let last = await read();
  for (let i = 0; i < 20; i++) {
    await new Promise((r) => setTimeout(r, 300));
    const now = await read();
    if (now === last) return parseMetrics(now);
    last = now;
  }
  throw new Error('metrics never settled');
}

const bytes = (n: number, seed: number) => Buffer.alloc(n, seed);

/**
 * The script: multi-part and one-part uploads, a creation-with-upload, refusals (409
 * wrong offset, 404 unknown upload on HEAD and PATCH, 413 too large) and deletes of an
 * unfinished and a finished upload. Returns the statuses seen, in order.
 */
async function script(collection: string): Promise<string[]> {
  const seen: string[] = [];
  const note = (method: string, res: Response) => seen.push(`${method} ${res.status}`);
  const big = bytes(11 * MiB, 1);
  const a = await createUpload(collection, big.length);
  seen.push('POST 201');
  note('PATCH', await patch(a, 0, big.subarray(0, 6 * MiB)));
  note('PATCH', await patch(a, 0, bytes(10, 9))); // wrong offset: 409
  note('PATCH', await patch(a, 6 * MiB, big.subarray(6 * MiB)));
  const b = await createUpload(collection, 1000);
  seen.push('POST 201');
  note('PATCH', await patch(b, 0, bytes(1000, 2)));
  note(
    'POST',
    await tus(
      collection,
      'POST',
      { 'Upload-Length': '500', 'Content-Type': 'application/offset+octet-stream' },
      bytes(500, 3),
    ),
  );
  const d = await createUpload(collection, 3000);
  seen.push('POST 201');
  note('PATCH', await patch(d, 0, bytes(1000, 4)));
  note('DELETE', await tus(d, 'DELETE'));
  const missing = `${collection}/0123456789abcdef0123456789abcdef`;
  note('HEAD', await tus(missing, 'HEAD'));
  note('PATCH', await patch(missing, 0, bytes(10, 5)));
  note('POST', await tus(collection, 'POST', { 'Upload-Length': String(100 * MiB) }));
  note('HEAD', await tus(a, 'HEAD'));
  note('DELETE', await tus(b, 'DELETE'));
  return seen;
}

const EXPECTED_STATUSES = {
  'POST 201': 4,
  'POST 413': 1,
  'PATCH 204': 4,
  'PATCH 409': 1,
  'PATCH 404': 1,
  'HEAD 404': 1,
  'HEAD 200': 1,
  'DELETE 204': 2,
};
// Bytes the server acknowledged: A's 11 MiB, B's 1000, C's 500, D's 1000 before its DELETE.
const ACKNOWLEDGED = 11 * MiB + 1000 + 500 + 1000;

describe('metrics: /metrics counts exactly what a scripted run did (CLI --metrics-port)', () => {
  let backend: Backend;
  let server: CliServer | undefined;

  beforeAll(async () => {
    backend = await s3Backend();
  });
  afterAll(async () => {
    await server?.stop();
    await backend.cleanup();
  });

  it('requests by method and status, bytes, uploads and S3 requests by operation', async () => {
    const flags = ['--part-size', '5MiB', '--max-size', '64MiB'];
    server = await startCli([...backend.cliArgs, ...flags, '--metrics-port', '0']);
    const metricsUrl = /metrics on (http:\/\/\S+)/.exec(server.output())?.[1] ?? '';
    expect(metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const seen = await script(server.url);
    const counted = (list: string[]) =>
      list.reduce<Record<string, number>>((acc, k) => {
        acc[k] = (acc[k] ?? 0) + 1;
        return acc;
      }, {});
    expect(counted(seen)).toEqual(EXPECTED_STATUSES);

    const cli = await stableScrape(async () => (await fetch(metricsUrl)).text());
    expect(byLabel(cli, 'tus_requests_total', ['method', 'status'])).toEqual(EXPECTED_STATUSES);
    expect(single(cli, 'tus_bytes_acknowledged_total')).toBe(ACKNOWLEDGED);
    // Refused bodies (the 409 and 404 PATCHes) are never read: received = acknowledged here.
    expect(single(cli, 'tus_bytes_received_total')).toBe(ACKNOWLEDGED);
    expect(single(cli, 'tus_uploads_total', { event: 'created' })).toBe(4);
    expect(single(cli, 'tus_uploads_total', { event: 'finished' })).toBe(3);
    expect(single(cli, 'tus_uploads_total', { event: 'terminated' })).toBe(2);
    expect(single(cli, 'tus_uploads_total', { event: 'expired' })).toBe(0);
    expect(single(cli, 'tus_parts_in_flight')).toBe(0);
    expect(single(cli, 'tus_part_memory_bytes')).toBe(0);

    // The same script in-process, its S3 client recording every attempt it sends.
    const { s3, log } = recordedS3(backend);
    const inProcess = await startInProcess({ s3, partSize: 5 * MiB, maxSize: 64 * MiB });
    try {
      expect(counted(await script(inProcess.url))).toEqual(EXPECTED_STATUSES);
      const own = await stableScrape(() => inProcess.tus.metrics.metrics());
      const recorded: Record<string, number> = {};
      for (const sent of log) {
        const op = sent.command.replace(/Command$/, '');
        recorded[op] = (recorded[op] ?? 0) + 1;
      }
      expect(recorded.UploadPart).toBe(3); // A's three parts (5, 5, 1 MiB)
      // The CLI, first on the bucket, also made the key of sealed ids: one PutObject more.
      const cliSent = { ...recorded, PutObject: (recorded.PutObject ?? 0) + 1 };
      expect(byLabel(cli, 'tus_s3_requests_total', ['operation'])).toEqual(cliSent);
      expect(byLabel(own, 'tus_s3_requests_total', ['operation'])).toEqual(recorded);
      expect(byLabel(cli, 'tus_s3_request_duration_seconds_count', ['operation'])).toEqual(cliSent);
      // And looked for that key first: a GetObject answered 404.
      const ownErrors = byLabel(own, 'tus_s3_request_errors_total', ['operation']);
      expect(byLabel(cli, 'tus_s3_request_errors_total', ['operation'])).toEqual({
        ...ownErrors,
        GetObject: (ownErrors.GetObject ?? 0) + 1,
      });
    } finally {
      await inProcess.close();
    }
  }, 120_000);
});

describe('health: /healthz and /readyz', () => {
  let backend: Backend;
  let proxy: BlackHoleProxy | undefined;
  let server: CliServer | undefined;

  beforeAll(async () => {
    backend = await s3Backend();
  });
  afterAll(async () => {
    await server?.stop();
    await proxy?.close();
    await backend.cleanup();
  });

  const waitFor = async (url: string, status: number, withinMs: number) => {
    const start = Date.now();
    for (;;) {
      const res = await fetch(url);
      const body = await res.text();
      if (res.status === status) return { body, ms: Date.now() - start };
      if (Date.now() - start > withinMs) throw new Error(`still ${res.status} ${body}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };

  it('/readyz turns 503 within seconds when RGW goes silent, 200 when it returns', async () => {
    const rgw = testS3Env().endpoint;
    proxy = await startBlackHoleProxy(rgw);
    const viaProxy = proxy.endpoint;
    const args = backend.cliArgs.map((a) => (a === rgw ? viaProxy : a));
    server = await startCli([...args, '--redis-url', testRedisUrl(), '--metrics-port', '0']);
    const base = (/metrics on (http:\/\/\S+)\/metrics/.exec(server.output())?.[1] ?? '') as string;
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.text()).toBe('ready\n');

    proxy.blackHole();
    const down = await waitFor(`${base}/readyz`, 503, 10_000);
    expect(down.body).toMatch(/^s3: [^\n]+\n$/);
    expect((await fetch(`${base}/healthz`)).status).toBe(200); // the process is alive

    proxy.forward();
    const up = await waitFor(`${base}/readyz`, 200, 10_000);
    expect(up.body).toBe('ready\n');
    process.stdout.write(`readyz: 503 after ${down.ms} ms silent, 200 after ${up.ms} ms back\n`);
  }, 60_000);
});
