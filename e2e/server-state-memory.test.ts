// The store remembers what the last request left of an upload, and an upload that fits in
// one part never opens a multipart upload. Both cut S3 requests (recorded on the wire
// against RGW here); neither may make the server believe something S3 contradicts: a
// second instance moving an upload on, or a crash between PutObject and the info rewrite.
// Under a locker shared by instances, memory is trusted only while no other request took
// the upload's lock in between (the lock generation RedisLocker counts).
import { randomBytes } from 'node:crypto';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { Lock, Locker } from '@tus/utils';
import { RedisLocker, S3_MIN_PART_SIZE, type S3MultipartStore } from '@tus-s3/server';
import { Redis } from 'ioredis';
import { recordedS3, type Sent } from './helpers/recording-client.js';
import { testRedisUrl } from './helpers/redis.js';
import { listKeys, listMultipartUploads, objectText, testS3Client } from './helpers/s3.js';
import {
  type Backend,
  createUpload,
  headOffset,
  idOf,
  patch,
  type RunningServer,
  rawPatch,
  s3Backend,
  sha256Hex,
  startInProcess,
  tus,
  uploadRest,
} from './helpers/server.js';

const PS = S3_MIN_PART_SIZE;
const commands = (log: Sent[]) => log.map((e) => e.command.replace(/Command$/, ''));

describe('what the store remembers between requests (RGW)', () => {
  let backend: Backend;
  let a: RunningServer;
  let b: RunningServer;
  let log: Sent[];
  beforeAll(async () => {
    backend = await s3Backend('mem/');
    const rec = recordedS3(backend);
    log = rec.log;
    // Every creation writes its info here (sealIds off): the one-part cases below are the
    // path of a server with Redis locks. Sealed ids: e2e/server-sealed-ids.test.ts.
    a = await startInProcess({ s3: { ...rec.s3, sealIds: false }, partSize: PS });
    // A second instance on the same bucket and prefix, with its own memory.
    const s3 = backend.options.s3 as NonNullable<Backend['options']['s3']>;
    b = await startInProcess({ s3: { ...s3, sealIds: false }, partSize: PS });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await backend?.cleanup();
  });

  it('a PATCH at the offset the last one acknowledged sends S3 only its part', async () => {
    const data = randomBytes(4 * PS);
    const url = await createUpload(a.url, data.length);
    log.length = 0;
    expect((await patch(url, 0, data.subarray(0, PS))).status).toBe(204);
    expect(commands(log)).toEqual(['UploadPart']);
    log.length = 0;
    expect((await patch(url, PS, data.subarray(PS, 2 * PS))).status).toBe(204);
    expect(commands(log)).toEqual(['UploadPart']);
    // A PATCH at another offset is not trusted to memory: S3 is asked, and says 409.
    log.length = 0;
    expect((await patch(url, PS, data.subarray(PS, 2 * PS))).status).toBe(409);
    expect(commands(log)).toEqual(expect.arrayContaining(['GetObject', 'ListParts']));
    log.length = 0;
    expect(await uploadRest(url, data, 2 * PS, PS)).toBe(data.length);
    expect(commands(log)).toEqual([
      'UploadPart',
      'UploadPart',
      'CompleteMultipartUpload',
      'HeadObject',
      'PutObject', // the info, marked complete; nothing was staged, so nothing is listed
    ]);
    expect(await backend.sha256Of(idOf(url))).toBe(sha256Hex(data));
  });

  it('two instances take turns on one upload: each sees what the other stored', async () => {
    const data = randomBytes(3 * PS + 1000);
    const onA = await createUpload(a.url, data.length);
    const onB = `${b.url}/${idOf(onA)}`;
    // A remembers offset PS after this; B then moves the upload on behind its back.
    expect(await uploadRest(onA, data.subarray(0, PS), 0)).toBe(PS);
    expect(await uploadRest(onB, data.subarray(0, 2 * PS + 500), PS)).toBe(2 * PS + 500);
    // A client that follows acknowledgements now claims 2 PS + 500 on A: A's memory says PS,
    // so A reads S3 (segment included) instead of refusing or trusting itself.
    expect(await headOffset(onA)).toBe(2 * PS + 500);
    expect(await uploadRest(onA, data, 2 * PS + 500, PS)).toBe(data.length);
    expect(await backend.sha256Of(idOf(onA))).toBe(sha256Hex(data));
    expect(await headOffset(onB)).toBe(data.length);
  });

  it('an upload that fits in one part is two S3 requests, with no multipart upload', async () => {
    const data = randomBytes(256 * 1024);
    log.length = 0;
    const url = await createUpload(a.url, data.length, 'filetype aW1hZ2UvcG5n');
    // The info. The open marker the expiration sweep finds it by waits (s3/pending-markers.ts).
    expect(commands(log)).toEqual(['PutObject']);
    expect(log.map((c) => c.input.Key)).toEqual([`mem/${idOf(url)}.info`]);
    log.length = 0;
    expect((await patch(url, 0, data)).status).toBe(204);
    // The object, whose existence records the completion; the waiting marker never comes.
    expect(commands(log)).toEqual(['PutObject']);
    const [object] = log;
    expect(object?.input.Key).toBe(`mem/${idOf(url)}`);
    expect(object?.headers['content-md5']).toBe(object?.md5OfBody);
    expect(await backend.contentTypeOf(idOf(url))).toBe('image/png');
    expect(await backend.sha256Of(idOf(url))).toBe(sha256Hex(data));
    const mpus = await listMultipartUploads(backend.bucket as string, 'mem/');
    expect(mpus.filter((m) => m.key.includes(idOf(url)))).toEqual([]);
    // The first look finds the object whole and writes the completion into the info,
    // which then says so to any instance: the next look is the info alone.
    const infoOf = async () =>
      JSON.parse(await objectText(backend.bucket as string, `mem/${idOf(url)}.info`));
    expect((await infoOf()).completedAt).toBeUndefined();
    log.length = 0;
    expect(await headOffset(url)).toBe(data.length);
    expect([...commands(log)].sort()).toEqual([
      'GetObject',
      'HeadObject',
      'ListObjectsV2',
      'PutObject',
    ]);
    expect((await infoOf()).completedAt).toEqual(expect.any(String));
    log.length = 0;
    expect(await headOffset(url)).toBe(data.length);
    expect(commands(log)).toEqual(['GetObject']);
    const onB = `${b.url}/${idOf(url)}`;
    expect(await headOffset(onB)).toBe(data.length);
    expect(await listKeys(backend.bucket as string, `mem/${idOf(url)}`)).toEqual([
      `mem/${idOf(url)}`,
      `mem/${idOf(url)}.info`,
    ]);
    // A PATCH with more bytes after it is refused, and the object stays as it was.
    expect((await patch(onB, data.length, Buffer.from('x'))).status).toBe(413);
    expect(await backend.sha256Of(idOf(url))).toBe(sha256Hex(data));
  });

  it('a one-part upload sent in pieces, and one whose PutObject landed before a crash', async () => {
    const data = randomBytes(3 * 1024 * 1024 + 17);
    const url = await createUpload(a.url, data.length);
    expect(await uploadRest(url, data.subarray(0, 2 * 1024 * 1024), 0, 1024 * 1024)).toBe(
      2 * 1024 * 1024,
    );
    expect(await uploadRest(url, data, 2 * 1024 * 1024)).toBe(data.length);
    expect(await backend.sha256Of(idOf(url))).toBe(sha256Hex(data));
    const left = await listKeys(backend.bucket as string, `mem/${idOf(url)}.`);
    expect(left).toEqual([`mem/${idOf(url)}.info`]);

    // The crash window: a segment staged, then the object written whole by PutObject, and
    // the process gone before the info said complete. Another instance (no memory of it)
    // sees the object on its first look and completes the upload; nothing is re-sent.
    const other = randomBytes(1024 * 1024 + 3);
    const url2 = await createUpload(a.url, other.length);
    expect((await patch(url2, 0, other.subarray(0, 1000))).status).toBe(204);
    await testS3Client().send(
      new PutObjectCommand({ Bucket: backend.bucket, Key: `mem/${idOf(url2)}`, Body: other }),
    );
    const onB = `${b.url}/${idOf(url2)}`;
    expect(await headOffset(onB)).toBe(other.length);
    expect(await listKeys(backend.bucket as string, `mem/${idOf(url2)}.`)).toEqual([
      `mem/${idOf(url2)}.info`,
    ]);
    expect(await backend.sha256Of(idOf(url2))).toBe(sha256Hex(other));
  });

  it('DELETE of a one-part upload removes everything it staged', async () => {
    const data = randomBytes(2 * 1024 * 1024);
    const url = await createUpload(a.url, data.length);
    expect((await patch(url, 0, data.subarray(0, 1024 * 1024))).status).toBe(204);
    expect((await tus(url, 'DELETE')).status).toBe(204);
    expect(await listKeys(backend.bucket as string, `mem/${idOf(url)}`)).toEqual([]);
    expect((await tus(url, 'HEAD')).status).toBe(404);
  });
});

describe('memory under a shared locker (RGW, redis)', () => {
  let backend: Backend;
  let log: Sent[];
  const servers: RunningServer[] = [];
  const connections: Redis[] = [];
  const lockers: RedisLocker[] = [];
  let a: RunningServer;
  let b: RunningServer;
  /** Any locker but @tus/server's own and RedisLocker: one that tells no generation. */
  let plain: RunningServer;
  const redisLocker = () => {
    const redis = new Redis(testRedisUrl());
    connections.push(redis);
    const locker = new RedisLocker({ redis, prefix: `mem-${process.pid}:` });
    lockers.push(locker);
    return locker;
  };
  beforeAll(async () => {
    backend = await s3Backend('shared/');
    const rec = recordedS3(backend);
    log = rec.log;
    a = await startInProcess({ s3: rec.s3, partSize: PS, locker: redisLocker() });
    b = await startInProcess({ ...backend.options, partSize: PS, locker: redisLocker() });
    plain = await startInProcess({ s3: rec.s3, partSize: PS, locker: new NoWaitLocker() });
    servers.push(a, b, plain);
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
    await Promise.all(lockers.map((l) => l.close()));
    await Promise.all(connections.map((c) => c.quit()));
    await backend?.cleanup();
  });

  it("trusts memory across one instance's consecutive locks, not across another's", async () => {
    const data = randomBytes(4 * PS);
    const url = await createUpload(a.url, data.length);
    const onB = `${b.url}/${idOf(url)}`;
    expect((await patch(url, 0, data.subarray(0, PS))).status).toBe(204);
    log.length = 0;
    expect((await patch(url, PS, data.subarray(PS, 2 * PS))).status).toBe(204);
    expect(commands(log)).toEqual(['UploadPart']);
    // B only looks (HEAD takes the lock too): A can no longer know nothing changed.
    expect(await headOffset(onB)).toBe(2 * PS);
    log.length = 0;
    expect((await patch(url, 2 * PS, data.subarray(2 * PS, 3 * PS))).status).toBe(204);
    expect(commands(log)).toEqual(expect.arrayContaining(['GetObject', 'ListParts']));
    log.length = 0;
    expect((await patch(url, 3 * PS, data.subarray(3 * PS))).status).toBe(204);
    // Consecutive again: neither the PATCH nor the completion it ends in reads S3.
    expect(commands(log)).toEqual([
      'UploadPart',
      'CompleteMultipartUpload',
      'HeadObject',
      'PutObject',
    ]);
    expect(await backend.sha256Of(idOf(url))).toBe(sha256Hex(data));
  });

  it('a locker that tells no generation: every PATCH reads S3', async () => {
    const data = randomBytes(3 * PS);
    const url = await createUpload(plain.url, data.length);
    expect((await patch(url, 0, data.subarray(0, PS))).status).toBe(204);
    log.length = 0;
    expect((await patch(url, PS, data.subarray(PS, 2 * PS))).status).toBe(204);
    expect(commands(log)).toEqual(expect.arrayContaining(['GetObject', 'ListParts']));
    expect(await uploadRest(url, data, 2 * PS)).toBe(data.length);
    expect(await backend.sha256Of(idOf(url))).toBe(sha256Hex(data));
  });
});

/** Stands for a distributed locker of the user's (these tests never overlap requests). */
class NoWaitLocker implements Locker {
  newLock(): Lock {
    return { lock: async () => {}, unlock: async () => {} };
  }
}

describe('partChecksum none (RGW)', () => {
  let backend: Backend;
  let server: RunningServer;
  let log: Sent[];
  beforeAll(async () => {
    backend = await s3Backend('nomd5/');
    const rec = recordedS3(backend);
    log = rec.log;
    server = await startInProcess({ s3: { ...rec.s3, partChecksum: 'none' }, partSize: PS });
  });
  afterAll(async () => {
    await server?.close();
    await backend?.cleanup();
  });

  it('sends parts, segments and one-part objects without Content-MD5, and stores them exactly', async () => {
    const big = randomBytes(2 * PS + 4321);
    const url = await createUpload(server.url, big.length);
    expect(await uploadRest(url, big, 0, PS + 1000)).toBe(big.length);
    const small = randomBytes(100_000);
    const url2 = await createUpload(server.url, small.length);
    expect(await uploadRest(url2, small, 0)).toBe(small.length);
    const bodies = log.filter((e) => ['UploadPartCommand', 'PutObjectCommand'].includes(e.command));
    // The info records and the key of sealed ids (made at the first creation) are not bodies.
    const parts = bodies.filter((e) => !/\.(info|seal-key)$/.test(String(e.input.Key)));
    expect(parts.map((e) => e.command)).toEqual(
      expect.arrayContaining(['UploadPartCommand', 'PutObjectCommand']),
    );
    expect(parts.some((e) => String(e.input.Key).includes('.seg.'))).toBe(true);
    for (const e of parts) expect(e.headers['content-md5']).toBeUndefined();
    expect(await backend.sha256Of(idOf(url))).toBe(sha256Hex(big));
    expect(await backend.sha256Of(idOf(url2))).toBe(sha256Hex(small));
  });

  it('streams a part a PATCH brings whole while it arrives; a cut inside it keeps what arrived', async () => {
    const metrics = (server.tus.datastore as S3MultipartStore).metrics;
    const before = metrics.partsStreamed;
    const data = randomBytes(3 * PS + 999);
    const url = await createUpload(server.url, data.length);
    // Part 1 in one PATCH of exactly a part: streamed.
    expect(await uploadRest(url, data.subarray(0, PS), 0)).toBe(PS);
    expect(metrics.partsStreamed).toBe(before + 1);
    // Part 2: the connection is cut 3 MiB into it, while that part streams to S3.
    const cutAt = 3 * 1024 * 1024;
    const status = await rawPatch(url, PS, PS, (req) => {
      req.write(data.subarray(PS, PS + cutAt), () => setTimeout(() => req.destroy(), 300));
    });
    expect(status).toBe(-1);
    // What arrived before the cut is kept (staged), not a byte more.
    let offset = 0;
    for (let i = 0; i < 50 && offset < PS + cutAt; i++) {
      offset = await headOffset(url);
      if (offset < PS + cutAt) await new Promise((r) => setTimeout(r, 100));
    }
    expect(offset).toBe(PS + cutAt);
    expect(await uploadRest(url, data, offset, PS)).toBe(data.length);
    expect(await backend.sha256Of(idOf(url))).toBe(sha256Hex(data));
    // The part after the staged bytes folds them in, so it is sent whole; the last streams.
    expect(metrics.partsStreamed).toBeGreaterThanOrEqual(before + 2);
  });
});
