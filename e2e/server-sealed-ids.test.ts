// Sealed ids (s3/sealed/): a POST without a body (tus-js-client's) for an upload that fits
// in one part writes nothing to S3, and its PATCH writes the object and the info with one
// PutObject. Against RGW: another instance and a restart open the id, owners hold, a cut
// PATCH writes the .info before it answers, termination leaves a tombstone the sweep removes
// once expired, a made-up or altered id is a 404, and a SIGKILL between a cut PATCH's staged
// bytes and its .info loses nothing acknowledged and leaves nothing counted.
import { DetBytes } from './helpers/det-bytes.js';
import { recordedS3, type Sent } from './helpers/recording-client.js';
import { listKeys, objectText, testS3Env } from './helpers/s3.js';
import { startS3FaultProxy } from './helpers/s3-fault-proxy.js';
import {
  type Backend,
  type CliServer,
  freePort,
  idOf,
  patch,
  type RunningServer,
  s3Backend,
  sha256Hex,
  startCli,
  startInProcess,
  tus,
} from './helpers/server.js';
import { stalledPatch } from './helpers/stalled-patch.js';

const SIZE = 256 * 1024;
const SEALED_ID = /^t[A-Za-z0-9_-]{40,}$/;
const b64 = (s: string) => Buffer.from(s, 'utf-8').toString('base64');
const METADATA = `filename ${b64('été plan.bin')},filetype ${b64('application/pdf')}`;
const commands = (log: Sent[]) => log.map((e) => e.command);
const owner = (name: string) => ({ 'X-Owner': name });

/** A POST with no body, as tus-js-client sends; the upload's URL. */
async function create(collection: string, who = 'alice', size = SIZE): Promise<string> {
  const res = await tus(collection, 'POST', {
    ...owner(who),
    'Upload-Length': String(size),
    'Upload-Metadata': METADATA,
  });
  expect(res.status).toBe(201);
  return new URL(res.headers.get('location') as string, collection).href;
}

/** The same upload's URL on another server. */
const on = (server: RunningServer, url: string) => `${server.url}/${idOf(url)}`;

describe('sealed ids: one S3 request per small file created by an empty POST', () => {
  let backend: Backend;
  let server: RunningServer;
  let other: RunningServer;
  let log: Sent[];
  const common = {
    expiration: 60 * 60 * 1000,
    authenticate: (req: Request) => ({ owner: req.headers.get('x-owner') ?? 'nobody' }),
  };
  beforeAll(async () => {
    backend = await s3Backend('sealed/');
    const rec = recordedS3(backend);
    log = rec.log;
    server = await startInProcess({ s3: rec.s3, ...common });
    other = await startInProcess({ ...backend.options, ...common });
    // The first sealed creation makes the key, in the bucket.
    log.length = 0;
    await create(server.url);
    expect(commands(log)).toEqual(['GetObjectCommand', 'PutObjectCommand']);
  });
  afterAll(async () => {
    await server?.close();
    await other?.close();
    await backend?.cleanup();
  });

  it('the POST writes nothing, the PATCH one PutObject; any instance finds it whole', async () => {
    const data = new DetBytes(SIZE, 'sealed-one').range(0, SIZE);
    log.length = 0;
    const url = await create(server.url);
    expect(idOf(url)).toMatch(SEALED_ID);
    expect(commands(log)).toEqual([]);
    const res = await patch(url, 0, data, owner('alice'));
    expect(res.status).toBe(204);
    expect(res.headers.get('upload-offset')).toBe(String(SIZE));
    expect(commands(log)).toEqual(['PutObjectCommand']);
    const id = idOf(url);
    expect(await backend.sha256Of(id)).toBe(sha256Hex(data));
    const keys = await listKeys(backend.bucket as string, backend.prefix);
    expect(keys.filter((k) => k.includes(id))).toEqual([`${backend.prefix}${id}`]);
    for (const at of [url, on(other, url)]) {
      const h = await tus(at, 'HEAD', owner('alice'));
      expect(h.status).toBe(200);
      expect(h.headers.get('upload-offset')).toBe(String(SIZE));
      expect(h.headers.get('upload-metadata')).toBe(METADATA);
      expect((await tus(at, 'HEAD', owner('mallory'))).status).toBe(404);
    }
  });

  it('another instance opens an id nothing was written for; a cut PATCH writes the .info', async () => {
    const data = new DetBytes(SIZE, 'sealed-two').range(0, SIZE);
    const url = await create(server.url);
    const id = idOf(url);
    const there = on(other, url);
    const h = await tus(there, 'HEAD', owner('alice'));
    expect(h.status).toBe(200);
    expect(h.headers.get('upload-offset')).toBe('0');
    expect(h.headers.get('upload-length')).toBe(String(SIZE));
    expect(h.headers.get('upload-metadata')).toBe(METADATA);
    // The owner sealed in the id holds on every instance.
    expect((await tus(there, 'HEAD', owner('mallory'))).status).toBe(404);
    expect((await patch(there, 0, data.subarray(0, 1000), owner('mallory'))).status).toBe(404);
    // Half of it: answered once the upload exists in S3 (its .info), the bytes staged.
    const half = SIZE / 2;
    const first = await patch(there, 0, data.subarray(0, half), owner('alice'));
    expect(first.status).toBe(204);
    expect(first.headers.get('upload-offset')).toBe(String(half));
    const keys = await listKeys(backend.bucket as string, backend.prefix);
    expect(keys).toContain(`${backend.prefix}${id}.info`);
    expect(
      JSON.parse(await objectText(backend.bucket as string, `${backend.prefix}${id}.info`)),
    ).toMatchObject({ id, size: SIZE, owner: 'alice' });
    // The first instance, whose memory is of offset 0, reads S3 again (HEAD) and goes on.
    expect(Number((await tus(url, 'HEAD', owner('alice'))).headers.get('upload-offset'))).toBe(
      half,
    );
    const rest = await patch(url, half, data.subarray(half), owner('alice'));
    expect(rest.status).toBe(204);
    expect(await backend.sha256Of(id)).toBe(sha256Hex(data));
  });

  it('a DELETE right after a cut PATCH waits for its bytes: the upload stays gone', async () => {
    // tus-js-client's abort(true) does this: it cuts the PATCH and sends DELETE at once.
    // Nearly a part (8 MiB): staging the tail takes long enough for the DELETE to overtake it.
    const size = 7.5 * 1024 * 1024;
    const data = new DetBytes(size, 'sealed-cut-delete').range(0, size);
    for (let round = 0; round < 5; round++) {
      const url = await create(server.url, 'alice', size);
      const id = idOf(url);
      const sent = data.subarray(0, 7 * 1024 * 1024);
      const stalled = await stalledPatch(url, 0, size, sent, owner('alice'));
      await new Promise((r) => setTimeout(r, 100));
      stalled.socket.destroy();
      expect((await tus(url, 'DELETE', owner('alice'))).status).toBe(204);
      for (const at of [url, on(other, url)]) {
        expect((await tus(at, 'HEAD', owner('alice'))).status).toBe(404);
      }
      const keys = await listKeys(backend.bucket as string, `${backend.prefix}${id}`);
      expect(keys).toEqual([`${backend.prefix}${id}.info`]);
      const record = await objectText(backend.bucket as string, keys[0] as string);
      expect(JSON.parse(record)).toMatchObject({ terminated: true });
    }
  });

  it('a made-up or altered id is a miss, never an upload', async () => {
    const url = await create(server.url);
    const id = idOf(url);
    const altered = `${id.slice(0, 20)}${id[20] === 'A' ? 'B' : 'A'}${id.slice(21)}`;
    for (const bad of [altered, `t${'A'.repeat(60)}`, id.slice(0, -4)]) {
      const at = `${server.url}/${bad}`;
      expect((await tus(at, 'HEAD', owner('alice'))).status).toBe(404);
      expect((await patch(at, 0, new Uint8Array(10), owner('alice'))).status).toBe(404);
      expect((await tus(at, 'DELETE', owner('alice'))).status).toBe(404);
    }
  });

  it('termination leaves a tombstone: the id stays a 404 on every instance', async () => {
    const url = await create(server.url);
    const id = idOf(url);
    expect((await tus(url, 'DELETE', owner('mallory'))).status).toBe(404);
    expect((await tus(url, 'DELETE', owner('alice'))).status).toBe(204);
    for (const at of [url, on(other, url)]) {
      expect((await tus(at, 'HEAD', owner('alice'))).status).toBe(404);
      expect((await patch(at, 0, new Uint8Array(10), owner('alice'))).status).toBe(404);
      expect((await tus(at, 'DELETE', owner('alice'))).status).toBe(404);
    }
    const tombstone = `${backend.prefix}${id}.info`;
    expect(JSON.parse(await objectText(backend.bucket as string, tombstone))).toMatchObject({
      id,
      terminated: true,
    });
    // A finished upload's id too: its object goes, the id does not come back at offset 0.
    const done = await create(server.url);
    const data = new DetBytes(SIZE, 'sealed-done').range(0, SIZE);
    expect((await patch(done, 0, data, owner('alice'))).status).toBe(204);
    expect((await tus(done, 'DELETE', owner('alice'))).status).toBe(204);
    expect((await tus(on(other, done), 'HEAD', owner('alice'))).status).toBe(404);
    const left = await listKeys(backend.bucket as string, `${backend.prefix}${idOf(done)}`);
    expect(left).toEqual([`${backend.prefix}${idOf(done)}.info`]);
  });
});

describe('sealed ids expire with their uploads', () => {
  let backend: Backend;
  let server: RunningServer;
  beforeAll(async () => {
    backend = await s3Backend('sealed-exp/');
    server = await startInProcess({ ...backend.options, expiration: 1500 });
  });
  afterAll(async () => {
    await server?.close();
    await backend?.cleanup();
  });

  it('an expired id is a 404, and the sweep removes an expired tombstone', async () => {
    const open = await create(server.url);
    const gone = await create(server.url);
    expect((await tus(gone, 'DELETE')).status).toBe(204);
    const tombstone = `${backend.prefix}${idOf(gone)}.info`;
    expect(await listKeys(backend.bucket as string, backend.prefix)).toContain(tombstone);
    expect((await tus(open, 'HEAD')).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1700));
    expect((await tus(open, 'HEAD')).status).toBe(404);
    // The first sweep makes the full pass, which finds the tombstone (no marker names it).
    await server.tus.server.cleanUpExpiredUploads();
    expect(await listKeys(backend.bucket as string, backend.prefix)).not.toContain(tombstone);
    expect((await tus(gone, 'HEAD')).status).toBe(404);
  }, 20_000);
});

describe('a SIGKILL between a cut PATCH staging its bytes and writing the .info', () => {
  let backend: Backend;
  const running = new Set<CliServer>();
  beforeAll(async () => {
    backend = await s3Backend('sealed-crash/');
  });
  afterAll(async () => {
    await Promise.all([...running].map((s) => s.stop('SIGKILL')));
    await backend?.cleanup();
  });

  it('acknowledged nothing; a restart drops the staged bytes and the upload completes exact', async () => {
    const proxy = await startS3FaultProxy(testS3Env().endpoint);
    const port = await freePort();
    const data = new DetBytes(SIZE, 'sealed-crash').range(0, SIZE);
    const prefix = backend.prefix as string;
    try {
      const first = await startCli([
        ...backend.cliArgs,
        '--s3-endpoint',
        proxy.endpoint,
        '--port',
        String(port),
      ]);
      running.add(first);
      const url = await create(`${first.url}`);
      const id = idOf(url);
      expect(id).toMatch(SEALED_ID);
      const held = proxy.holdNext(new RegExp(`/${prefix}${id}\\.info(\\?|$)`));
      const answer = patch(url, 0, data.subarray(0, SIZE / 2)).then(
        (r) => r.status,
        () => -1,
      );
      await held;
      // The bytes are staged; the .info that would make them count is held.
      const staged = await listKeys(backend.bucket as string, `${prefix}${id}.`);
      expect(staged.length).toBeGreaterThan(0);
      await first.stop('SIGKILL');
      running.delete(first);
      expect(await answer).toBe(-1);

      const second = await startCli([...backend.cliArgs, '--port', String(port)]);
      running.add(second);
      const h = await tus(url, 'HEAD');
      expect(h.status).toBe(200);
      expect(h.headers.get('upload-offset')).toBe('0');
      expect(await listKeys(backend.bucket as string, `${prefix}${id}.`)).toEqual([]);
      // What the client sends again from offset 0 is what the object holds.
      const res = await patch(url, 0, data);
      expect(res.status).toBe(204);
      expect(await backend.sha256Of(id)).toBe(sha256Hex(data));
      const keys = await listKeys(backend.bucket as string, prefix);
      expect(keys.filter((k) => k.includes(id))).toEqual([`${prefix}${id}`]);
    } finally {
      await proxy.close();
    }
  }, 60_000);
});
