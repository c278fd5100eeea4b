// Under --part-checksum md5 (the default), every UploadPart carries the Content-MD5 of the
// bytes the client sent. A byte that changes between the server's hash and RGW (here a proxy
// in front of the real RGW flips one byte of one UploadPart body) makes RGW refuse the part
// (BadDigest), and that part never counts toward the offset: a resume from the offset ends
// with exactly the client's bytes. (Under 'none' the same flip is stored and counted.)
import { randomBytes } from 'node:crypto';
import { S3_MIN_PART_SIZE, type S3MultipartStore } from '@tus-s3/server';
import { type FlipProxy, startFlipProxy } from './helpers/client-flip-proxy.js';
import {
  type Backend,
  createUpload,
  headOffset,
  idOf,
  patch,
  type RunningServer,
  s3Backend,
  sha256Hex,
  startInProcess,
  uploadRest,
} from './helpers/server.js';

const PS = S3_MIN_PART_SIZE;

describe('a part corrupted on its way to RGW, under Content-MD5', () => {
  let backend: Backend;
  let proxy: FlipProxy;
  let server: RunningServer;
  let store: S3MultipartStore;
  beforeAll(async () => {
    backend = await s3Backend('md5-flip/');
    const s3 = backend.options.s3;
    if (!s3?.endpoint) throw new Error('s3 backend expected');
    // Only part bodies are over 1 MiB: the first to pass that byte is flipped.
    proxy = await startFlipProxy({
      targetPort: Number(new URL(s3.endpoint).port),
      method: 'PUT',
      at: 1024 * 1024 + 3,
    });
    server = await startInProcess({
      s3: { ...s3, endpoint: proxy.origin, partChecksum: 'md5' },
      partSize: PS,
    });
    store = server.tus.datastore as S3MultipartStore;
  });
  afterAll(async () => {
    await server?.close();
    await proxy?.close();
    await backend?.cleanup();
  });

  it('is refused by RGW and never counts; a resume from the offset completes exactly', async () => {
    const data = randomBytes(4 * PS + 77);
    const url = await createUpload(server.url, data.length);
    const res = await patch(url, 0, data);
    const flipped = proxy.flipped;
    if (!flipped) throw new Error('no part body was flipped');
    const partNumber = Number(new URL(flipped.path, 'http://x').searchParams.get('partNumber'));
    expect(partNumber).toBeGreaterThanOrEqual(1);
    const offset = await headOffset(url);
    if (res.status === 204) {
      // RGW answered BadDigest before the kernel had the whole part: it was resent from
      // memory, with the bytes the client sent.
      expect(store.metrics.partsResent).toBeGreaterThanOrEqual(1);
      expect(offset).toBe(data.length);
    } else {
      expect(res.status).toBeGreaterThanOrEqual(500);
      // The refused part and any after it are not in the offset.
      expect(offset % PS).toBe(0);
      expect(offset).toBeLessThanOrEqual((partNumber - 1) * PS);
      expect(await uploadRest(url, data, offset)).toBe(data.length);
    }
    expect(store.partBudget.held).toBe(0);
    // Had the flipped part counted, the object would hold the flipped byte.
    expect(await backend.sha256Of(idOf(url))).toBe(sha256Hex(data));
  });
});
