// Instant upload (秒传, issue 22) must-show a: a 1 GiB file that tenant "acme" stored
// (alice's ordinary upload with its digest declared) is uploaded again by carol, of the
// same tenant, with under 1 MiB sent: creation, challenge, proof, server-side copy. The
// bytes carol sends are counted by a TCP proxy in front of the CLI (headers included).
// The new object is read back whole (a streaming GetObject) and is exact. RGW runs on
// memstore here: the first upload holds 1 GiB of RAM once; both uploads are deleted.
import { as, bearerToken, TEST_JWT_SECRET } from './helpers/bearer.js';
import { startProxy } from './helpers/client-proxy.js';
import { DetBytes } from './helpers/det-bytes.js';
import { createInstant, locationOf, proofFor, provePatch, reprDigest } from './helpers/instant.js';
import { listKeys, sha256OfObject } from './helpers/s3.js';
import {
  type Backend,
  type CliServer,
  idOf,
  rawPatch,
  s3Backend,
  startCli,
} from './helpers/server.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

let backend: Backend;
let server: CliServer;

beforeAll(async () => {
  backend = await s3Backend('big/');
  server = await startCli([
    ...backend.cliArgs,
    '--jwt-secret',
    TEST_JWT_SECRET,
    '--instant-upload',
  ]);
});

afterAll(async () => {
  await server?.stop();
  await backend?.cleanup();
});

/** One PATCH streaming all of `data` from offset 0, 1 MiB at a time. */
function streamAll(url: string, data: DetBytes, bearer: string): Promise<number> {
  return rawPatch(
    url,
    0,
    data.size,
    (req) => {
      let at = 0;
      const pump = () => {
        while (at < data.size) {
          const to = Math.min(at + MiB, data.size);
          const chunk = data.range(at, to);
          at = to;
          if (!req.write(chunk)) {
            req.once('drain', pump);
            return;
          }
        }
        req.end();
      };
      pump();
    },
    { Authorization: `Bearer ${bearer}` },
  );
}

test('a: 1 GiB the tenant stored before is uploaded again with under 1 MiB sent', async () => {
  const size = GiB;
  const data = new DetBytes(size, 'issue-22-instant-1gib');
  const hex = data.sha256();
  const alice = await bearerToken('alice', { tenant: 'acme' });
  const carol = await bearerToken('carol', { tenant: 'acme' });

  const first = await as(alice, server.url, 'POST', {
    'Upload-Length': String(size),
    'Repr-Digest': reprDigest(hex),
  });
  const stored = locationOf(first, server.url);
  let t = performance.now();
  expect(await streamAll(stored, data, alice)).toBe(204);
  const firstMs = performance.now() - t;

  const proxy = await startProxy({ targetPort: Number(new URL(server.url).port) });
  try {
    const collection = new URL(new URL(server.url).pathname, proxy.origin).href;
    t = performance.now();
    const created = await createInstant(carol, collection, size, hex);
    const url = locationOf(created, collection);
    const proof = await proofFor(created.headers.get('upload-instant-challenge'), size, (f, to) =>
      data.range(f, to),
    );
    const answer = await provePatch(carol, url, proof);
    const instantMs = performance.now() - t;
    expect(answer.status).toBe(204);
    expect(answer.headers.get('upload-offset')).toBe(String(size));
    expect(proxy.bytesUp).toBeLessThan(MiB);
    console.log(
      `instant upload of 1 GiB: ${instantMs.toFixed(0)} ms, ${proxy.bytesUp} bytes sent ` +
        `(the ordinary upload of it: ${(firstMs / 1000).toFixed(1)} s)`,
    );

    const head = await as(carol, url, 'HEAD');
    expect(head.headers.get('upload-offset')).toBe(String(size));
    expect(head.headers.get('repr-digest')).toBe(reprDigest(hex));
    const bucket = backend.bucket as string;
    expect(await sha256OfObject(bucket, `${backend.prefix}${idOf(url)}`)).toBe(hex);

    // Both go; so does the index entry (it names carol's copy, the newest).
    expect((await as(carol, url, 'DELETE')).status).toBe(204);
    expect((await as(alice, stored, 'DELETE')).status).toBe(204);
    expect(await listKeys(bucket, `${backend.prefix}.instant/`)).toEqual([]);
  } finally {
    await proxy.close();
  }
}, 900_000);
