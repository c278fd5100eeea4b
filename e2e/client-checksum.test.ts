// Client must-show 3 (issue 4): a proxy flips one byte in one PATCH body on its way to
// our server on RGW. With Upload-Checksum the server answers 460, the client resends that
// chunk and the stored object is exact. Without a checksum the same flip lands: the
// object differs from the file at exactly that byte. That is what the checksum prevents.
import { readFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { type ChecksumOption, type TusError, uploadFile } from '@tus-s3/client/node';
import { type FlipProxy, startFlipProxy } from './helpers/client-flip-proxy.js';
import { makeRandomFile, type RandomFile, removeDir, sha256, tmpDir } from './helpers/files.js';
import { testS3Client } from './helpers/s3.js';
import {
  type Backend,
  idOf,
  type RunningServer,
  s3Backend,
  startInProcess,
} from './helpers/server.js';

const MiB = 1024 * 1024;
const SIZE = 24 * MiB;
const CHUNK = 8 * MiB;
/** Byte of the first PATCH body that the proxy flips (the POST carries bytes [0, 8 MiB)). */
const AT = 1_000_003;

interface Metrics {
  checksumMismatches?: number;
  checksumsVerified?: number;
}

let dir: string;
let file: RandomFile;
let backend: Backend;
let server: RunningServer;

beforeAll(async () => {
  dir = await tmpDir('client-checksum-');
  file = await makeRandomFile(dir, SIZE);
  backend = await s3Backend('client/');
  server = await startInProcess(backend.options);
});

afterAll(async () => {
  await server?.close();
  await backend?.cleanup().catch(() => {});
  await removeDir(dir);
});

async function objectBytes(url: string): Promise<Buffer> {
  const res = await testS3Client().send(
    new GetObjectCommand({ Bucket: backend.bucket!, Key: `${backend.prefix}${idOf(url)}` }),
  );
  const parts: Buffer[] = [];
  for await (const c of res.Body as Readable) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

function metrics(): Metrics {
  return (server.tus.datastore as unknown as { metrics: Metrics }).metrics;
}

async function upload(proxy: FlipProxy, checksum: ChecksumOption) {
  const retries: TusError[] = [];
  const algorithms: Array<string | null> = [];
  const result = await uploadFile(
    file.path,
    {
      endpoint: `${proxy.origin}/files`,
      chunkSize: CHUNK,
      checksum,
      retry: { delays: [0, 200, 500] },
    },
    (u) => {
      u.on('retry', (e) => retries.push(e.error));
      u.on('checksum', (e) => algorithms.push(e.algorithm));
    },
  );
  return { result, retries, algorithms };
}

test.each([
  ['auto (sha256)', 'auto', 'sha256'],
  ['md5', 'md5', 'md5'],
  ['crc32', 'crc32', 'crc32'],
] as const)(
  'checksum %s: one flipped byte -> 460, the chunk is resent, object exact',
  async (_n, option, alg) => {
    const proxy = await startFlipProxy({ targetPort: Number(new URL(server.url).port), at: AT });
    try {
      const before = metrics().checksumMismatches ?? 0;
      const { result, retries, algorithms } = await upload(proxy, option);
      expect(algorithms).toEqual([alg]);
      expect(proxy.flipped).not.toBeNull();
      expect(proxy.flipped!.uploadOffset).toBe(CHUNK);
      // Exactly one 460, for the flipped request, then the same chunk again.
      expect(retries.map((e) => e.status)).toEqual([460]);
      expect(retries[0]!.serverMessage).toMatch(/checksum/i);
      expect(metrics().checksumMismatches).toBe(before + 1);
      // [8, 16) MiB flipped (460), [8, 16) MiB again, [16, 24) MiB; the POST carried [0, 8).
      expect(proxy.seen.PATCH).toBe(3);
      expect(await backend.sha256Of(idOf(result.url))).toBe(file.sha256);
    } finally {
      await proxy.close();
    }
  },
);

test('checksum off: the same flip lands in the object, exactly one byte differs', async () => {
  const proxy = await startFlipProxy({ targetPort: Number(new URL(server.url).port), at: AT });
  try {
    const { result, retries, algorithms } = await upload(proxy, false);
    expect(algorithms).toEqual([null]);
    expect(retries).toEqual([]);
    expect(proxy.flipped).not.toBeNull();
    const stored = await objectBytes(result.url);
    const original = await readFile(file.path);
    expect(stored.length).toBe(original.length);
    expect(sha256(stored)).not.toBe(file.sha256);
    const diff: number[] = [];
    for (let i = 0; i < stored.length; i++) if (stored[i] !== original[i]) diff.push(i);
    const where = proxy.flipped!.uploadOffset! + AT;
    expect(diff).toEqual([where]);
    expect(stored[where]).toBe(original[where]! ^ 0xff);
  } finally {
    await proxy.close();
  }
});
