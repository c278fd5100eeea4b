// Direct finals (tus concatenation-unfinished) on S3: a final created before its partials
// have bytes adopts them, their PATCHes land as parts of the final's multipart upload, and
// the final is completed by the last partial's PATCH with no byte copied (no UploadPartCopy
// on the wire, recorded by the S3 client). HEAD on an unfinished final has no Upload-Offset.
// Refusals leave every upload as it was; interrupted adoption or completion is repaired by
// the next look.
import { randomBytes } from 'node:crypto';
import {
  CreateMultipartUploadCommand,
  GetObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import type { S3MultipartStore } from '@tus-s3/server';
import { recordingClient, type Sent } from './helpers/recording-client.js';
import { listKeys, listMultipartUploads, testS3Client } from './helpers/s3.js';
import {
  type Backend,
  headOffset,
  idOf,
  patch,
  type RunningServer,
  s3Backend,
  sha256Hex,
  startInProcess,
  tus,
  uploadRest,
} from './helpers/server.js';
import { stalledPatch } from './helpers/stalled-patch.js';

const MiB = 1024 * 1024;
const PS = 5 * MiB;

async function createPartial(collection: string, length: number): Promise<string> {
  const res = await tus(collection, 'POST', {
    'Upload-Length': String(length),
    'Upload-Concat': 'partial',
  });
  expect(res.status).toBe(201);
  return new URL(res.headers.get('location') as string, collection).toString();
}

const finalPost = (collection: string, urls: string[], headers: Record<string, string> = {}) =>
  tus(collection, 'POST', { 'Upload-Concat': `final;${urls.join(' ')}`, ...headers });

const locationOf = (res: Response, collection: string) =>
  new URL(res.headers.get('location') as string, collection).toString();

describe('direct finals on S3', () => {
  let backend: Backend;
  let server: RunningServer;
  let store: S3MultipartStore;
  let log: Sent[];
  beforeAll(async () => {
    backend = await s3Backend('cd/');
    const recording = recordingClient();
    log = recording.log;
    server = await startInProcess({
      ...backend.options,
      s3: {
        ...(backend.options.s3 as NonNullable<Backend['options']['s3']>),
        client: recording.client,
      },
      partSize: PS,
      // The info reads counted below are without expiration: with it, @tus/server's
      // PostHandler loads the new final again to decide on Upload-Expires.
      expiration: 0,
    });
    store = server.tus.datastore as S3MultipartStore;
  });
  afterAll(async () => {
    await server?.close();
    await backend?.cleanup();
  });
  const bucket = () => backend.bucket as string;
  const keysOf = (id: string) => listKeys(bucket(), `cd/${id}`);

  it('OPTIONS advertises concatenation-unfinished', async () => {
    const res = await tus(server.url, 'OPTIONS');
    expect(res.headers.get('tus-extension')?.split(',')).toEqual(
      expect.arrayContaining(['concatenation', 'concatenation-unfinished']),
    );
  });

  it('partials write into the final; the last PATCH completes it; nothing copied', async () => {
    const pieces = [randomBytes(2 * PS), randomBytes(3 * PS), randomBytes(PS + 12345)];
    const all = Buffer.concat(pieces);
    const urls: string[] = [];
    for (const p of pieces) urls.push(await createPartial(server.url, p.length));
    const before = { ...store.metrics };
    const mark = log.length;
    const res = await finalPost(server.url, urls, {
      'Upload-Metadata': `filetype ${Buffer.from('application/x-direct').toString('base64')}`,
    });
    expect(res.status).toBe(201);
    // Each partial is read once: the length check and the creation share what was read.
    const infoReads = log
      .slice(mark)
      .filter((s) => s.command === 'GetObjectCommand')
      .map((s) => String(s.input.Key).replace(/^cd\//, ''));
    expect(infoReads.sort()).toEqual(urls.map((u) => `${idOf(u)}.info`).sort());
    const url = locationOf(res, server.url);
    expect(res.headers.get('upload-concat')).toBe(
      `final;${urls.map((u) => new URL(u).pathname).join(' ')}`,
    );
    expect(store.metrics.partialsAdopted - before.partialsAdopted).toBe(3);

    // Unfinished: Upload-Length the sum, no Upload-Offset (the spec).
    const h0 = await tus(url, 'HEAD');
    expect(h0.status).toBe(200);
    expect(h0.headers.get('upload-length')).toBe(String(all.length));
    expect(h0.headers.get('upload-offset')).toBeNull();
    expect(h0.headers.get('upload-concat')).toMatch(/^final;/);
    // The partials are ordinary resumable uploads, their own multipart uploads gone.
    for (const u of urls) {
      expect(await headOffset(u)).toBe(0);
      expect(await listMultipartUploads(bucket(), `cd/${idOf(u)}`)).toEqual([]);
    }

    // Out of order, in chunks that leave staged tails (segments) between parts.
    const [p0, p1, p2] = pieces as [Buffer, Buffer, Buffer];
    const [u0, u1, u2] = urls as [string, string, string];
    await Promise.all([
      uploadRest(u2, p2, 0, 3 * MiB),
      uploadRest(u1, p1, 0, 7 * MiB),
      uploadRest(u0, p0.subarray(0, PS + 100), 0, 4 * MiB),
    ]);
    const h1 = await tus(url, 'HEAD');
    expect(h1.headers.get('upload-offset')).toBeNull();
    expect(await uploadRest(u0, p0, PS + 100)).toBe(p0.length);

    // Complete once the last partial's PATCH answered.
    const h2 = await tus(url, 'HEAD');
    expect(h2.headers.get('upload-offset')).toBe(String(all.length));
    expect(h2.headers.get('upload-length')).toBe(String(all.length));
    expect(await backend.sha256Of(idOf(url))).toBe(sha256Hex(all));
    expect(await backend.contentTypeOf(idOf(url))).toBe('application/x-direct');
    const m = store.metrics;
    expect(m.bytesCopied - before.bytesCopied).toBe(0);
    expect(m.bytesAssembled - before.bytesAssembled).toBe(0);
    expect(m.partBytesUploaded - before.partBytesUploaded).toBe(all.length);
    const commands = log.slice(mark).map((s) => s.command);
    expect(commands).not.toContain('UploadPartCopyCommand');
    expect(commands.filter((c) => c === 'CompleteMultipartUploadCommand')).toHaveLength(1);

    // Partials gone (infos, staging); only the final's object and info remain.
    for (const u of urls) {
      expect(await keysOf(idOf(u))).toEqual([]);
      expect((await tus(u, 'HEAD')).status).toBe(404);
    }
    expect(await keysOf(idOf(url))).toEqual([`cd/${idOf(url)}`, `cd/${idOf(url)}.info`]);
    expect(await listMultipartUploads(bucket(), 'cd/')).toEqual([]);
  });

  it('refusals leave every upload intact, and the right request then succeeds', async () => {
    const full = randomBytes(2 * PS);
    const tail = randomBytes(PS + 7);
    const ua = await createPartial(server.url, full.length);
    const ub = await createPartial(server.url, tail.length);
    const status = async (res: Response, want: number, says?: string) => {
      const body = (await res.text()).trim();
      expect({ status: res.status, body }).toEqual({ status: want, body: expect.any(String) });
      if (says) expect(body).toContain(says);
      for (const u of [ua, ub]) {
        expect(await headOffset(u)).toBe(0);
        expect((await tus(u, 'HEAD')).headers.get('upload-concat')).toBe('partial');
      }
    };
    // A wrong Upload-Length.
    await status(await finalPost(server.url, [ua, ub], { 'Upload-Length': '1' }), 400);

    const res = await finalPost(server.url, [ua, ub]);
    expect(res.status).toBe(201);
    const url = locationOf(res, server.url);
    // A partial of another final.
    const other = await createPartial(server.url, PS);
    const again = await finalPost(server.url, [ua, other]);
    expect(again.status).toBe(400);
    expect((await again.text()).trim()).toContain(`belongs to final upload ${idOf(url)}`);
    expect(await headOffset(other)).toBe(0);
    // PATCH on the final, at any offset.
    for (const at of [0, full.length + tail.length]) {
      const p = await patch(url, at, Buffer.from('x'));
      expect(p.status).toBe(403);
    }
    // A partial with bytes cannot be adopted: its final waits for it instead
    // (e2e/server-concat-unfinished.test.ts).
    await uploadRest(other, randomBytes(PS).subarray(0, MiB), 0);
    const withBytes = await createPartial(server.url, PS);
    const late = await finalPost(server.url, [other, withBytes]);
    expect(late.status).toBe(201);
    expect((await tus(locationOf(late, server.url), 'HEAD')).headers.has('upload-offset')).toBe(
      false,
    );
    expect(await headOffset(other)).toBe(MiB);

    expect(await uploadRest(ub, tail, 0)).toBe(tail.length);
    expect((await tus(url, 'HEAD')).headers.get('upload-offset')).toBeNull();
    expect(await uploadRest(ua, full, 0, 3 * MiB)).toBe(full.length);
    expect(await headOffset(url)).toBe(full.length + tail.length);
    expect(await backend.sha256Of(idOf(url))).toBe(sha256Hex(Buffer.concat([full, tail])));
  });

  it('a final cut short before adopting its partials adopts them on its next HEAD', async () => {
    const pieces = [randomBytes(PS), randomBytes(PS)];
    const urls: string[] = [];
    for (const p of pieces) urls.push(await createPartial(server.url, p.length));
    // What a crash right after the final's info was written leaves: partials not adopted.
    const s3 = testS3Client();
    const id = `crashdirect${Date.now()}`;
    const mpu = await s3.send(
      new CreateMultipartUploadCommand({ Bucket: bucket(), Key: `cd/${id}` }),
    );
    const info = {
      version: 1,
      id,
      size: 2 * PS,
      uploadId: mpu.UploadId,
      partSize: PS,
      createdAt: new Date().toISOString(),
      concat: {
        role: 'final',
        direct: true,
        partials: urls.map((u) => ({ id: idOf(u), size: PS })),
      },
    };
    await s3.send(
      new PutObjectCommand({ Bucket: bucket(), Key: `cd/${id}.info`, Body: JSON.stringify(info) }),
    );
    const url = `${server.url}/${id}`;
    const head = await tus(url, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.headers.get('upload-offset')).toBeNull();
    for (const u of urls) {
      expect(await listMultipartUploads(bucket(), `cd/${idOf(u)}`)).toEqual([]);
    }
    for (const [i, u] of urls.entries()) await uploadRest(u, pieces[i] as Buffer, 0);
    expect(await headOffset(url)).toBe(2 * PS);
    expect(await backend.sha256Of(id)).toBe(sha256Hex(Buffer.concat(pieces)));
  });

  it('the same final POST again (its 201 lost, or a crash mid-adoption) gets the same final', async () => {
    const pieces = [randomBytes(2 * PS), randomBytes(PS + 7)];
    const urls: string[] = [];
    for (const p of pieces) urls.push(await createPartial(server.url, p.length));
    const first = await finalPost(server.url, urls);
    expect(first.status).toBe(201);
    const url = locationOf(first, server.url);
    const uploadsBefore = (await listMultipartUploads(bucket(), 'cd/')).length;
    const mark = log.length;

    // A 201 lost on the way: the repeat is answered with the same final, nothing new made.
    const again = await finalPost(server.url, urls);
    expect(again.status).toBe(201);
    expect(locationOf(again, server.url)).toBe(url);
    expect(again.headers.get('upload-concat')).toMatch(/^final;/);
    const made = log.slice(mark).map((s) => s.command);
    expect(made).not.toContain('CreateMultipartUploadCommand');
    expect(made).not.toContain('PutObjectCommand');
    expect((await listMultipartUploads(bucket(), 'cd/')).length).toBe(uploadsBefore);

    // A crash after the first partial was adopted, before the second: the second is a plain
    // partial again, with a multipart upload of its own.
    const s3 = testS3Client();
    const second = idOf(urls[1] as string);
    const infoKey = `cd/${second}.info`;
    const adopted = JSON.parse(
      await (
        await s3.send(new GetObjectCommand({ Bucket: bucket(), Key: infoKey }))
      ).Body!.transformToString(),
    );
    expect(adopted.concat.adopted.finalId).toBe(idOf(url));
    const own = await s3.send(
      new CreateMultipartUploadCommand({ Bucket: bucket(), Key: `cd/${second}` }),
    );
    const plain = { ...adopted, uploadId: own.UploadId, concat: { role: 'partial' } };
    await s3.send(
      new PutObjectCommand({ Bucket: bucket(), Key: infoKey, Body: JSON.stringify(plain) }),
    );
    const repaired = await finalPost(server.url, urls);
    expect(repaired.status).toBe(201);
    expect(locationOf(repaired, server.url)).toBe(url);
    const now = JSON.parse(
      await (
        await s3.send(new GetObjectCommand({ Bucket: bucket(), Key: infoKey }))
      ).Body!.transformToString(),
    );
    expect(now.concat.adopted).toEqual(adopted.concat.adopted);
    expect(await listMultipartUploads(bucket(), `cd/${second}`)).toEqual([]);

    // Not a repeat: another order, or only some of the partials.
    for (const other of [[urls[1], urls[0]], [urls[0]]] as string[][]) {
      const res = await finalPost(server.url, other);
      expect(res.status).toBe(400);
      expect((await res.text()).trim()).toContain(`belongs to final upload ${idOf(url)}`);
    }

    for (const [i, u] of urls.entries()) await uploadRest(u, pieces[i] as Buffer, 0);
    expect(await headOffset(url)).toBe(2 * PS + PS + 7);
    expect(await backend.sha256Of(idOf(url))).toBe(sha256Hex(Buffer.concat(pieces)));
    // Once complete, its partials are gone: the same POST now names missing uploads.
    expect((await finalPost(server.url, urls)).status).toBe(404);
  });

  it('final POSTs racing over the same partials: one final, every one answered with it', async () => {
    const pieces = [randomBytes(PS), randomBytes(PS), randomBytes(99)];
    const urls: string[] = [];
    for (const p of pieces) urls.push(await createPartial(server.url, p.length));
    const before = store.metrics.partialsAdopted;
    const answers = await Promise.all([1, 2, 3].map(() => finalPost(server.url, urls)));
    expect(answers.map((r) => r.status)).toEqual([201, 201, 201]);
    const [url, ...others] = answers.map((r) => locationOf(r, server.url));
    expect(others).toEqual([url, url]);
    expect(store.metrics.partialsAdopted - before).toBe(urls.length);
    await Promise.all(urls.map((u, i) => uploadRest(u, pieces[i] as Buffer, 0)));
    expect(await headOffset(url as string)).toBe(2 * PS + 99);
    expect(await backend.sha256Of(idOf(url as string))).toBe(sha256Hex(Buffer.concat(pieces)));
  });

  it('a crash between the last part of a partial and its completion: any HEAD repairs it', async () => {
    for (const lookAt of ['final', 'partial'] as const) {
      const pieces = [randomBytes(PS), randomBytes(PS - 3)];
      const urls: string[] = [];
      for (const p of pieces) urls.push(await createPartial(server.url, p.length));
      const url = locationOf(await finalPost(server.url, urls), server.url);
      await uploadRest(urls[0] as string, pieces[0] as Buffer, 0);
      // The last partial's bytes made durable as its PATCH would, but its info not marked
      // complete and the final not completed: what a crash at that moment leaves.
      const s3 = testS3Client();
      const raw = await s3.send(
        new GetObjectCommand({ Bucket: bucket(), Key: `cd/${idOf(urls[1] as string)}.info` }),
      );
      const info = JSON.parse((await raw.Body?.transformToString()) ?? '') as {
        concat: { adopted: { uploadId: string; firstPart: number } };
      };
      await s3.send(
        new UploadPartCommand({
          Bucket: bucket(),
          Key: `cd/${idOf(url)}`,
          UploadId: info.concat.adopted.uploadId,
          PartNumber: info.concat.adopted.firstPart,
          Body: pieces[1],
        }),
      );
      if (lookAt === 'partial') expect(await headOffset(urls[1] as string)).toBe(PS - 3);
      expect(await headOffset(url)).toBe(2 * PS - 3);
      expect(await backend.sha256Of(idOf(url))).toBe(sha256Hex(Buffer.concat(pieces)));
      for (const u of urls) expect(await keysOf(idOf(u))).toEqual([]);
    }
  });

  it('a finished direct final can be terminated like any upload', async () => {
    const pieces = [randomBytes(PS), randomBytes(10)];
    const urls: string[] = [];
    for (const p of pieces) urls.push(await createPartial(server.url, p.length));
    const url = locationOf(await finalPost(server.url, urls), server.url);
    for (const [i, u] of urls.entries()) await uploadRest(u, pieces[i] as Buffer, 0);
    expect(await headOffset(url)).toBe(PS + 10);
    expect((await tus(url, 'DELETE')).status).toBe(204);
    expect((await tus(url, 'HEAD')).status).toBe(404);
    expect(await keysOf(idOf(url))).toEqual([]);
  });

  /** A partial per piece (no bytes yet) and the direct final over them. */
  async function directGroup(pieces: Buffer[]): Promise<{ url: string; urls: string[] }> {
    const urls: string[] = [];
    for (const p of pieces) urls.push(await createPartial(server.url, p.length));
    const created = await finalPost(server.url, urls);
    expect(created.status).toBe(201);
    return { url: locationOf(created, server.url), urls };
  }

  it.each([
    ['the final', -1],
    ['a partial with bytes', 0],
    ['a partial without bytes', 1],
  ])(
    'DELETE of %s before the final is complete terminates the final and all its partials',
    async (_, which) => {
      const pieces = [randomBytes(2 * PS), randomBytes(2 * MiB)];
      const { url, urls } = await directGroup(pieces);
      // Part 1 of the first partial and a staged tail of 1 MiB.
      expect(
        await uploadRest(urls[0] as string, (pieces[0] as Buffer).subarray(0, PS + MiB), 0),
      ).toBe(PS + MiB);
      const target = which < 0 ? url : (urls[which] as string);
      expect((await tus(target, 'DELETE')).status).toBe(204);
      for (const u of [url, ...urls]) {
        expect((await tus(u, 'HEAD')).status).toBe(404);
        expect(await keysOf(idOf(u))).toEqual([]);
      }
      const res = await patch(urls[1] as string, 0, pieces[1] as Buffer);
      expect(res.status).toBe(404);
      expect(await listMultipartUploads(bucket(), `cd/${idOf(url)}`)).toEqual([]);
    },
  );

  it.each([
    ['the final and a partial', -1, 0],
    ['two partials', 0, 1],
  ])(
    'DELETEs of %s of one group at once: no deadlock, the group goes, a loser retries to 404',
    async (_, a, b) => {
      const pieces = [randomBytes(2 * PS), randomBytes(2 * MiB)];
      const { url, urls } = await directGroup(pieces);
      const pick = (i: number) => (i < 0 ? url : (urls[i] as string));
      const t0 = Date.now();
      // Each DELETE holds its own upload's lock and needs the other's: before, both
      // waited out the lock timeout (30 s), the locker spinning a core meanwhile.
      const answers = await Promise.all([tus(pick(a), 'DELETE'), tus(pick(b), 'DELETE')]);
      expect(Date.now() - t0).toBeLessThan(5000);
      const statuses = answers.map((r) => r.status).sort();
      // One terminates the group; the other either found it gone (204, 404) or was told
      // the group is being terminated (423) and gets 404 when it tries again.
      expect(statuses).toContain(204);
      for (const [i, res] of answers.entries()) {
        expect([204, 404, 423]).toContain(res.status);
        if (res.status === 423) {
          expect(await res.text()).toMatch(/terminat/);
          expect((await tus(pick(i === 0 ? a : b), 'DELETE')).status).toBe(404);
        }
      }
      for (const u of [url, ...urls]) {
        expect((await tus(u, 'HEAD')).status).toBe(404);
        expect(await keysOf(idOf(u))).toEqual([]);
      }
      expect(await listMultipartUploads(bucket(), `cd/${idOf(url)}`)).toEqual([]);
    },
  );

  it("DELETE of a partial while its sibling's PATCH hangs: that PATCH is stopped first, nothing is left", async () => {
    const pieces = [randomBytes(2 * PS), randomBytes(2 * PS)];
    const { url, urls } = await directGroup(pieces);
    // The sibling's client sent a part and a MiB more, then lost its network.
    const sent = (pieces[1] as Buffer).subarray(0, PS + MiB);
    const stalled = await stalledPatch(urls[1] as string, 0, 2 * PS, sent);
    try {
      await new Promise((r) => setTimeout(r, 500));
      expect((await tus(urls[0] as string, 'DELETE')).status).toBe(204);
      // The hanging PATCH was answered (its lock asked back) before the group went.
      expect(stalled.answer()).toMatch(/^HTTP\/1.1 \d{3}/);
      for (const u of [url, ...urls]) {
        expect((await tus(u, 'HEAD')).status).toBe(404);
        expect(await keysOf(idOf(u))).toEqual([]);
      }
      expect(await listMultipartUploads(bucket(), `cd/${idOf(url)}`)).toEqual([]);
    } finally {
      stalled.socket.destroy();
    }
  });
});
