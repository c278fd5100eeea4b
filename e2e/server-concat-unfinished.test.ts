// concatenation-unfinished as the tus spec has it, on S3: a final over partials in any mix of
// states (finished, part-way, empty) answers 201, its HEAD has no Upload-Offset until it is
// complete, and the last partial's PATCH assembles it with no further request to the final
// (a "waiting" final: s3/concat/waiting-final.ts). A SIGKILL between that partial's completion
// and the assembly is resumed by the next look from a fresh instance. A partial serves one
// final; final POSTs racing over the same partials make one final; DELETE and expiration
// take the final and its partials as one group; two instances on one Redis finish partials
// of one final at once.
import { randomBytes } from 'node:crypto';
import type { S3MultipartStore } from '@tus-s3/server';
import { testRedisUrl } from './helpers/redis.js';
import { listKeys, listMultipartUploads, objectText } from './helpers/s3.js';
import { type S3FaultProxy, startS3FaultProxy } from './helpers/s3-fault-proxy.js';
import {
  type Backend,
  type CliServer,
  headOffset,
  idOf,
  patch,
  type RunningServer,
  s3Backend,
  sha256Hex,
  startCli,
  startInProcess,
  tus,
  uploadRest,
} from './helpers/server.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const PS = 5 * MiB;

async function createPartial(collection: string, length: number): Promise<string> {
  const res = await tus(collection, 'POST', {
    'Upload-Length': String(length),
    'Upload-Concat': 'partial',
  });
  expect(res.status).toBe(201);
  return new URL(res.headers.get('location') as string, collection).toString();
}

const finalPost = (collection: string, urls: string[]) =>
  tus(collection, 'POST', { 'Upload-Concat': `final;${urls.join(' ')}` });

const locationOf = (res: Response, collection: string) =>
  new URL(res.headers.get('location') as string, collection).toString();

/** The info record as S3 holds it (read without the server, which would resume things). */
async function infoOf(backend: Backend, id: string): Promise<Record<string, unknown>> {
  return JSON.parse(await objectText(backend.bucket as string, `${backend.prefix}${id}.info`));
}

describe('finals over unfinished partials on S3', () => {
  let backend: Backend;
  let server: RunningServer;
  let store: S3MultipartStore;
  beforeAll(async () => {
    backend = await s3Backend('cu/');
    server = await startInProcess({ ...backend.options, partSize: PS, expiration: 0 });
    store = server.tus.datastore as S3MultipartStore;
  });
  afterAll(async () => {
    await server?.close();
    await backend?.cleanup();
  });

  it('a finished and a part-way partial: 201, no offset until done, completes by itself', async () => {
    const small = randomBytes(KiB);
    const big = randomBytes(MiB);
    const done = await createPartial(server.url, small.length);
    expect(await uploadRest(done, small, 0)).toBe(KiB);
    const partway = await createPartial(server.url, big.length);
    expect(await uploadRest(partway, big.subarray(0, 512 * KiB), 0)).toBe(512 * KiB);

    const res = await finalPost(server.url, [done, partway]);
    expect(res.status).toBe(201);
    const url = locationOf(res, server.url);
    const head = await tus(url, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.headers.has('upload-offset')).toBe(false);
    expect(head.headers.get('upload-length')).toBe(String(KiB + MiB));
    expect(head.headers.get('upload-concat')).toBe(
      `final;/files/${idOf(done)} /files/${idOf(partway)}`,
    );
    expect((await patch(url, 0, Buffer.from('x'))).status).toBe(403);
    // The partials are still themselves.
    expect(await headOffset(done)).toBe(KiB);
    expect(await headOffset(partway)).toBe(512 * KiB);

    const before = { ...store.metrics };
    const last = await patch(partway, 512 * KiB, big.subarray(512 * KiB));
    expect(last.status).toBe(204);
    // Complete in S3 with no request to the final: its object and its info say so.
    expect(await backend.sha256Of(idOf(url))).toBe(sha256Hex(Buffer.concat([small, big])));
    expect((await infoOf(backend, idOf(url))).completedAt).toEqual(expect.any(String));
    // One part straddling both partials: read back and uploaded by the server.
    expect(store.metrics.partsAssembled - before.partsAssembled).toBe(1);
    const after = await tus(url, 'HEAD');
    expect(after.headers.get('upload-offset')).toBe(String(KiB + MiB));
    // Consumed: the partials are gone.
    for (const u of [done, partway]) expect((await tus(u, 'HEAD')).status).toBe(404);
    expect(await listMultipartUploads(backend.bucket as string, 'cu/')).toEqual([]);
  });

  it('part-aligned partials (one finished, one part-way) are copied, no byte through', async () => {
    const first = randomBytes(2 * PS);
    const second = randomBytes(PS + 777);
    const a = await createPartial(server.url, first.length);
    expect(await uploadRest(a, first, 0, 3 * MiB)).toBe(first.length);
    const b = await createPartial(server.url, second.length);
    expect(await uploadRest(b, second.subarray(0, PS), 0)).toBe(PS);
    const res = await finalPost(server.url, [a, b]);
    expect(res.status).toBe(201);
    const url = locationOf(res, server.url);
    expect((await tus(url, 'HEAD')).headers.has('upload-offset')).toBe(false);

    const before = { ...store.metrics };
    expect(await uploadRest(b, second, PS)).toBe(second.length);
    expect(await backend.sha256Of(idOf(url))).toBe(sha256Hex(Buffer.concat([first, second])));
    expect(store.metrics.partsAssembled - before.partsAssembled).toBe(0);
    expect(store.metrics.partsCopied - before.partsCopied).toBe(4);
    expect(await headOffset(url)).toBe(first.length + second.length);
  });

  it('an empty, a part-way and a finished partial, finished in any order', async () => {
    const pieces = [randomBytes(300 * KiB), randomBytes(700 * KiB), randomBytes(5)];
    const [e, p, f] = await Promise.all(pieces.map((x) => createPartial(server.url, x.length)));
    const urls = [e, p, f] as string[];
    await uploadRest(urls[1] as string, (pieces[1] as Buffer).subarray(0, 100 * KiB), 0);
    await uploadRest(urls[2] as string, pieces[2] as Buffer, 0);
    const res = await finalPost(server.url, urls);
    expect(res.status).toBe(201);
    const url = locationOf(res, server.url);
    expect(await uploadRest(urls[1] as string, pieces[1] as Buffer, 100 * KiB)).toBe(700 * KiB);
    expect((await tus(url, 'HEAD')).headers.has('upload-offset')).toBe(false);
    expect(await uploadRest(urls[0] as string, pieces[0] as Buffer, 0)).toBe(300 * KiB);
    expect(await backend.sha256Of(idOf(url))).toBe(sha256Hex(Buffer.concat(pieces)));
  });

  it('a partial serves one final: 400 while another awaits it, 404 once consumed', async () => {
    const bytes = randomBytes(2 * KiB);
    const a = await createPartial(server.url, bytes.length);
    const b = await createPartial(server.url, bytes.length);
    await uploadRest(a, bytes, 0);
    await uploadRest(b, bytes.subarray(0, KiB), 0);
    const res = await finalPost(server.url, [a, b]);
    expect(res.status).toBe(201);
    const url = locationOf(res, server.url);
    // The same POST again (its 201 lost) gets the same final.
    const again = await finalPost(server.url, [a, b]);
    expect(again.status).toBe(201);
    expect(locationOf(again, server.url)).toBe(url);
    // Another final naming one of them.
    const c = await createPartial(server.url, 1);
    const other = await finalPost(server.url, [c, a]);
    expect(other.status).toBe(400);
    expect((await other.text()).trim()).toBe(
      `partial upload ${idOf(a)} belongs to final upload ${idOf(url)}`,
    );
    expect(await uploadRest(b, bytes, KiB)).toBe(bytes.length);
    expect(await headOffset(url)).toBe(2 * bytes.length);
    const late = await finalPost(server.url, [a]);
    expect(late.status).toBe(404);
    expect(await headOffset(c)).toBe(0);
  });

  it('final POSTs racing over the same partials: one waiting final, every one answered with it', async () => {
    const pieces = [randomBytes(KiB), randomBytes(MiB)];
    const urls = await Promise.all(pieces.map((p) => createPartial(server.url, p.length)));
    await uploadRest(urls[0] as string, pieces[0] as Buffer, 0);
    await uploadRest(urls[1] as string, (pieces[1] as Buffer).subarray(0, 100 * KiB), 0);
    const answers = await Promise.all([1, 2, 3].map(() => finalPost(server.url, urls)));
    expect(answers.map((r) => r.status)).toEqual([201, 201, 201]);
    const [url, ...others] = answers.map((r) => locationOf(r, server.url));
    expect(others).toEqual([url, url]);
    for (const u of urls) {
      expect((await infoOf(backend, idOf(u))).concat).toEqual({
        role: 'partial',
        awaitedBy: idOf(url as string),
      });
    }
    expect(await uploadRest(urls[1] as string, pieces[1] as Buffer, 100 * KiB)).toBe(MiB);
    expect(await backend.sha256Of(idOf(url as string))).toBe(sha256Hex(Buffer.concat(pieces)));
    // No second final was left behind: the only multipart uploads were the group's.
    expect(await listMultipartUploads(backend.bucket as string, 'cu/')).toEqual([]);
  });

  it('DELETE of the final while partials are unfinished removes the group', async () => {
    const bytes = randomBytes(MiB);
    const a = await createPartial(server.url, bytes.length);
    const b = await createPartial(server.url, bytes.length);
    await uploadRest(a, bytes, 0);
    await uploadRest(b, bytes.subarray(0, 100), 0);
    const res = await finalPost(server.url, [a, b]);
    const url = locationOf(res, server.url);
    const del = await tus(url, 'DELETE');
    expect(del.status).toBe(204);
    for (const u of [url, a, b]) expect((await tus(u, 'HEAD')).status).toBe(404);
    expect((await patch(b, 100, bytes.subarray(100))).status).toBe(404);
    for (const u of [url, a, b])
      expect(await listKeys(backend.bucket as string, `cu/${idOf(u)}`)).toEqual([]);
    expect(await listMultipartUploads(backend.bucket as string, 'cu/')).toEqual([]);
  });

  it('DELETE of a finished partial of a waiting final removes the group too', async () => {
    const bytes = randomBytes(KiB);
    const a = await createPartial(server.url, bytes.length);
    const b = await createPartial(server.url, bytes.length);
    await uploadRest(a, bytes, 0);
    const url = locationOf(await finalPost(server.url, [a, b]), server.url);
    expect((await tus(a, 'DELETE')).status).toBe(204);
    for (const u of [url, a, b]) expect((await tus(u, 'HEAD')).status).toBe(404);
  });
});

describe('expiration of a waiting final', () => {
  const EXP = 4000;
  let backend: Backend;
  let server: RunningServer;
  beforeAll(async () => {
    backend = await s3Backend('cue/');
    server = await startInProcess({ ...backend.options, expiration: EXP });
  });
  afterAll(async () => {
    await server?.close();
    await backend?.cleanup();
  });

  it('expires with its oldest partial, and the sweep removes the group as one', async () => {
    const bytes = randomBytes(KiB);
    const created = await tus(server.url, 'POST', {
      'Upload-Length': String(bytes.length),
      'Upload-Concat': 'partial',
    });
    const a = locationOf(created, server.url);
    const aExpires = Date.parse(created.headers.get('upload-expires') ?? '');
    expect(aExpires).toBeGreaterThan(Date.now());
    await uploadRest(a, bytes, 0);
    await new Promise((r) => setTimeout(r, 1000));
    const b = await createPartial(server.url, bytes.length);
    await uploadRest(b, bytes.subarray(0, 10), 0);
    const res = await finalPost(server.url, [a, b]);
    expect(res.status).toBe(201);
    const url = locationOf(res, server.url);
    // The group's end is its oldest member's: the final says so.
    expect(Date.parse(res.headers.get('upload-expires') ?? '')).toBe(aExpires);
    // Upload-Expires is to the second, the creation time to the millisecond.
    await new Promise((r) => setTimeout(r, aExpires - Date.now() + 1200));
    await server.tus.datastore.deleteExpired();
    for (const u of [url, a, b]) {
      expect(await listKeys(backend.bucket as string, `cue/${idOf(u)}`)).toEqual([]);
    }
    expect(await listMultipartUploads(backend.bucket as string, 'cue/')).toEqual([]);
  });
});

describe('SIGKILL between the last partial and the assembly', () => {
  let backend: Backend;
  let proxy: S3FaultProxy | undefined;
  let server: CliServer | undefined;
  beforeAll(async () => {
    backend = await s3Backend('cuk/');
  });
  afterAll(async () => {
    await server?.stop('SIGKILL');
    await proxy?.close();
    await backend?.cleanup();
  });

  it('the next HEAD of the final, from a fresh instance, assembles it', async () => {
    const endpoint = backend.cliArgs[backend.cliArgs.indexOf('--s3-endpoint') + 1] as string;
    proxy = await startS3FaultProxy(endpoint);
    const viaProxy = backend.cliArgs.map((a) => (a === endpoint ? proxy?.endpoint : a) as string);
    const victim = await startCli(viaProxy);
    server = victim;
    const small = randomBytes(KiB);
    const big = randomBytes(MiB);
    const done = await createPartial(victim.url, small.length);
    await uploadRest(done, small, 0);
    const partway = await createPartial(victim.url, big.length);
    await uploadRest(partway, big.subarray(0, 512 * KiB), 0);
    const res = await finalPost(victim.url, [done, partway]);
    expect(res.status).toBe(201);
    const finalId = idOf(locationOf(res, victim.url));

    // The assembly's first write into the final's multipart upload is held: the partial is
    // complete in S3 by then, the final not. The server dies there.
    const held = proxy.holdNext(new RegExp(`/cuk/${finalId}\\?.*partNumber=`));
    const last = patch(partway, 512 * KiB, big.subarray(512 * KiB)).then(
      (r) => r.status,
      () => -1,
    );
    // A server that never starts the assembly fails here rather than at the test timeout.
    await Promise.race([
      held,
      new Promise((_, reject) =>
        setTimeout(() => reject(new Error('no write into the final')), 30_000).unref(),
      ),
    ]);
    await victim.stop('SIGKILL');
    expect(await last).toBe(-1);
    expect((await infoOf(backend, idOf(partway))).completedAt).toEqual(expect.any(String));
    expect((await infoOf(backend, finalId)).completedAt).toBeUndefined();

    server = await startCli(backend.cliArgs);
    const head = await tus(`${server.url}/${finalId}`, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.headers.get('upload-offset')).toBe(String(KiB + MiB));
    expect(await backend.sha256Of(finalId)).toBe(sha256Hex(Buffer.concat([small, big])));
    expect((await tus(`${server.url}/${idOf(partway)}`, 'HEAD')).status).toBe(404);
  });
});

describe('two instances on one Redis', () => {
  let backend: Backend;
  const servers: CliServer[] = [];
  beforeAll(async () => {
    backend = await s3Backend('cui/');
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop('SIGKILL')));
    await backend?.cleanup();
  });

  it('partials finishing at once on both instances: the final completes, exact', async () => {
    const args = [...backend.cliArgs, '--part-size', '5MiB', '--redis-url', testRedisUrl()];
    const [a, b] = await Promise.all([startCli(args), startCli(args)]);
    servers.push(a, b);
    const pieces = [randomBytes(PS), randomBytes(2 * MiB + 3), randomBytes(PS + 11)];
    const urls: string[] = [];
    for (const p of pieces) urls.push(await createPartial(a.url, p.length));
    // The first finished, the others part-way.
    await uploadRest(urls[0] as string, pieces[0] as Buffer, 0);
    await uploadRest(urls[1] as string, (pieces[1] as Buffer).subarray(0, MiB), 0);
    await uploadRest(urls[2] as string, (pieces[2] as Buffer).subarray(0, PS), 0);
    const res = await finalPost(b.url, urls);
    expect(res.status).toBe(201);
    const finalId = idOf(locationOf(res, b.url));
    const on = (server: CliServer, url: string) => `${server.url}/${idOf(url)}`;
    const lasts = await Promise.all([
      patch(on(a, urls[1] as string), MiB, (pieces[1] as Buffer).subarray(MiB)),
      patch(on(b, urls[2] as string), PS, (pieces[2] as Buffer).subarray(PS)),
    ]);
    expect(lasts.map((r) => r.status)).toEqual([204, 204]);
    expect(await backend.sha256Of(finalId)).toBe(sha256Hex(Buffer.concat(pieces)));
    expect(await headOffset(`${a.url}/${finalId}`)).toBe(pieces.reduce((n, p) => n + p.length, 0));
    expect(await listMultipartUploads(backend.bucket as string, 'cui/')).toEqual([]);
  });
});
