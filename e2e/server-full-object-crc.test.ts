// The S3 full-object checksum option (--s3-full-object-checksum crc64nvme) against RGW,
// which accepts the multipart upload's checksum parameters and does not verify them (the
// server README says so): uploads still complete exact, across a restart, and the info
// record holds the CRC64NVME the server computed, the value AWS would check. The last test
// pins what the README says of RGW: a wrong full-object CRC64NVME is not refused.
import { createHash } from 'node:crypto';
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { objectText, sha256OfObject, testS3Client } from './helpers/s3.js';
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

it('RGW accepts a wrong full-object CRC64NVME on completion and on PutObject', async () => {
  // A client of its own that notes the checksum headers it sends: the test only means
  // something if the wrong CRC really went out.
  const s3 = testS3Client({});
  const sent: string[] = [];
  s3.middlewareStack.add(
    (next) => async (args) => {
      const headers = (args.request as { headers?: Record<string, string> }).headers ?? {};
      const crc = headers['x-amz-checksum-crc64nvme'];
      if (crc !== undefined) sent.push(crc);
      return next(args);
    },
    { step: 'finalizeRequest' },
  );
  const Bucket = backend.bucket as string;
  const body = Buffer.alloc(1000, 7);
  // Eight bytes that are not this body's CRC64NVME (that of 1000 bytes of 7 is not zero).
  const wrong = Buffer.alloc(8).toString('base64');
  const Key = 'foc/rgw-wrong-multipart';
  const { UploadId } = await s3.send(
    new CreateMultipartUploadCommand({
      Bucket,
      Key,
      ChecksumAlgorithm: 'CRC64NVME',
      ChecksumType: 'FULL_OBJECT',
    }),
  );
  const part = await s3.send(
    new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 1, Body: body }),
  );
  await s3.send(
    new CompleteMultipartUploadCommand({
      Bucket,
      Key,
      UploadId,
      ChecksumCRC64NVME: wrong,
      ChecksumType: 'FULL_OBJECT',
      MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
    }),
  );
  expect(await sha256OfObject(Bucket, Key)).toBe(sha(body));
  // The same for a one-part upload: AWS would answer BadDigest; RGW stores it.
  await s3.send(
    new PutObjectCommand({
      Bucket,
      Key: 'foc/rgw-wrong-put',
      Body: body,
      ChecksumCRC64NVME: wrong,
    }),
  );
  expect(await sha256OfObject(Bucket, 'foc/rgw-wrong-put')).toBe(sha(body));
  expect(sent).toEqual([wrong, wrong]);
});
