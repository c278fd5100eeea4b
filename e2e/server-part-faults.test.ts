// A part's buffer is reused as soon as the kernel has the part's bytes, before S3 answers
// (s3/parts/streamed.ts). So an S3 failure before the body left is resent from memory, and one
// after it fails the PATCH: the offset then covers only parts S3 confirmed, and the client
// resumes from it. Faults come from a proxy in front of the real RGW that cuts the
// connection of one UploadPart, before its body or after RGW has all of it.
import { randomBytes } from 'node:crypto';
import { S3_MIN_PART_SIZE, type S3MultipartStore } from '@tus-s3/server';
import { type S3FaultProxy, startS3FaultProxy } from './helpers/s3-fault-proxy.js';
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

describe.each([
  ['Content-MD5 (whole parts)', 'md5', false],
  ['no part checksum (parts stream while they arrive)', 'none', false],
  ['Content-MD5, with Expect: 100-continue', 'md5', true],
] as const)('an UploadPart cut by the network, %s', (_name, partChecksum, expectContinue) => {
  let backend: Backend;
  let proxy: S3FaultProxy;
  let server: RunningServer;
  let store: S3MultipartStore;
  beforeAll(async () => {
    backend = await s3Backend('faults/');
    const s3 = backend.options.s3;
    if (!s3?.endpoint) throw new Error('s3 backend expected');
    proxy = await startS3FaultProxy(s3.endpoint);
    server = await startInProcess({
      s3: { ...s3, endpoint: proxy.endpoint, partChecksum, expectContinue },
      partSize: PS,
    });
    store = server.tus.datastore as S3MultipartStore;
  });
  afterAll(async () => {
    await server?.close();
    await proxy?.close();
    await backend?.cleanup();
  });

  it('before its body left: the part is resent from memory and the PATCH succeeds', async () => {
    const data = randomBytes(3 * PS + 123);
    const url = await createUpload(server.url, data.length);
    const resent = store.metrics.partsResent;
    proxy.cutParts('before-body');
    const res = await patch(url, 0, data);
    expect(res.status).toBe(204);
    expect(proxy.cuts).toBeGreaterThanOrEqual(1);
    expect(store.metrics.partsResent).toBe(resent + 1);
    expect(await backend.sha256Of(idOf(url))).toBe(sha256Hex(data));
    expect(store.partBudget.held).toBe(0);
  });

  it('after RGW had its body: the PATCH fails, the offset holds only confirmed parts, and a resume completes', async () => {
    const data = randomBytes(4 * PS + 77);
    const url = await createUpload(server.url, data.length);
    const failed = store.metrics.partsFailedAfterSend;
    const cutsBefore = proxy.cuts;
    proxy.cutParts('after-body');
    const res = await patch(url, 0, data);
    expect(res.status).toBeGreaterThanOrEqual(500);
    expect(proxy.cuts).toBe(cutsBefore + 1);
    expect(store.metrics.partsFailedAfterSend).toBe(failed + 1);
    // The PATCH is answered only once its part uploads settled: nothing is still held.
    expect(store.partBudget.held).toBe(0);
    // The offset is what S3 holds: whole parts (the cut one too, since RGW had stored it
    // and only its answer was lost), or everything, the upload then completed on the look.
    const offset = await headOffset(url);
    expect(offset === data.length || offset % PS === 0).toBe(true);
    if (offset < data.length) expect(await uploadRest(url, data, offset)).toBe(data.length);
    expect(await backend.sha256Of(idOf(url))).toBe(sha256Hex(data));
  });

  it('after RGW had the body of a part that a PATCH brings alone (how mobile clients send)', async () => {
    const data = randomBytes(3 * PS);
    const url = await createUpload(server.url, data.length);
    expect((await patch(url, 0, data.subarray(0, PS))).status).toBe(204);
    const failed = store.metrics.partsFailedAfterSend;
    proxy.cutParts('after-body');
    const res = await patch(url, PS, data.subarray(PS, 2 * PS));
    expect(res.status).toBeGreaterThanOrEqual(500);
    expect(store.metrics.partsFailedAfterSend).toBe(failed + 1);
    expect(store.partBudget.held).toBe(0);
    // RGW stored the part and only its answer was lost: S3, read again, says so.
    const offset = await headOffset(url);
    expect([PS, 2 * PS]).toContain(offset);
    expect(await uploadRest(url, data, offset, PS)).toBe(data.length);
    expect(await backend.sha256Of(idOf(url))).toBe(sha256Hex(data));
  });
});
