// The S3 full-object checksum option (--s3-full-object-checksum crc64nvme) against RGW,
// which accepts the multipart upload's checksum parameters and does not verify them (the
// server README says so): uploads still complete exact, across a restart, and the info
// record holds the CRC64NVME the server computed, the value AWS would check.
import { createHash } from 'node:crypto';
import { objectText } from './helpers/s3.js';
import {
  type Backend,
  type CliServer,
  createUpload,
  idOf,
  patch,
  s3Backend,
  startCli,
  tus,
} from './helpers/server.js';

const MiB = 1024 * 1024;
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

let backend: Backend;
const running = new Set<CliServer>();

async function instance(): Promise<CliServer> {
  const s = await startCli([
    ...backend.cliArgs,
    '--part-size',
    '5MiB',
    '--s3-full-object-checksum',
    'crc64nvme',
  ]);
  running.add(s);
  return s;
}

beforeAll(async () => {
  backend = await s3Backend('foc/');
});

afterAll(async () => {
  await Promise.all([...running].map((s) => s.stop('SIGKILL')));
  await backend?.cleanup().catch(() => {});
});

it('multipart and one-part uploads complete exact, with the CRC in the info record', async () => {
  const data = Buffer.alloc(12 * MiB + 321);
  for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761) >>> 24;
  let server = await instance();
  const url = await createUpload(server.url, data.length);
  // A PATCH ending mid-part, one ending on a boundary (after a restart), then the rest.
  expect((await patch(url, 0, data.subarray(0, 3 * MiB))).status).toBe(204);
  await server.stop('SIGKILL');
  running.delete(server);
  server = await instance();
  const moved = new URL(new URL(url).pathname, server.url).href;
  expect((await patch(moved, 3 * MiB, data.subarray(3 * MiB, 10 * MiB))).status).toBe(204);
  expect((await patch(moved, 10 * MiB, data.subarray(10 * MiB))).status).toBe(204);
  expect(await backend.sha256Of(idOf(url))).toBe(sha(data));
  const head = await tus(moved, 'HEAD');
  expect(head.headers.get('repr-digest')).toBe(
    `sha-256=:${createHash('sha256').update(data).digest('base64')}:`,
  );
  const info = JSON.parse(await objectText(backend.bucket as string, `foc/${idOf(url)}.info`));
  expect(info.digest.fullObjectCrc).toBe(true);
  expect(info.digest.crc64nvme).toMatch(/^[A-Za-z0-9+/]{11}=$/);

  const small = data.subarray(0, 3000);
  const one = await createUpload(server.url, small.length);
  expect((await patch(one, 0, small)).status).toBe(204);
  expect(await backend.sha256Of(idOf(one))).toBe(sha(small));
});
