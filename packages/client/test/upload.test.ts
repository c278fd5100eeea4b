import { TusError } from '../src/errors.js';
import { blobSource } from '../src/sources/blob.js';
import { streamSource } from '../src/sources/stream.js';
import { MemoryStore } from '../src/stores/memory.js';
import { Upload, type UploadOptions } from '../src/upload.js';
import { bytes, FakeTusServer } from './fake-server.js';

const ENDPOINT = 'http://127.0.0.1:1/files';

function setup(data: Uint8Array<ArrayBuffer>, o: Partial<UploadOptions> = {}) {
  const server = new FakeTusServer();
  const source = blobSource(
    new File([data], 'a.bin', { type: 'application/x-test', lastModified: 1000 }),
  );
  const upload = new Upload(source, {
    endpoint: ENDPOINT,
    fetch: server.fetch,
    chunkSize: 1000,
    retry: { delays: [0, 0, 0] },
    ...o,
  });
  return { server, upload, source };
}

function record(upload: Upload) {
  const events: Array<[string, unknown]> = [];
  for (const e of [
    'created',
    'resumed',
    'restarted',
    'retry',
    'chunk',
    'success',
    'error',
  ] as const) {
    upload.on(e, (p) => events.push([e, p]));
  }
  const progress: Array<{ sent: number; acked: number }> = [];
  upload.on('progress', (p) => progress.push({ sent: p.bytesSent, acked: p.bytesAcknowledged }));
  return { events, progress, names: () => events.map(([n]) => n) };
}

function monotonic(xs: number[]) {
  return xs.every((x, i) => i === 0 || x >= xs[i - 1]!);
}

describe('Upload (fake server, no sockets)', () => {
  test('creation-with-upload then PATCH loop; exact bytes; metadata; monotonic progress', async () => {
    const data = bytes(3500);
    const { server, upload } = setup(data, { metadata: { note: 'ü 🚀' } });
    const rec = record(upload);
    const r = await upload.start();
    expect(Buffer.from(server.bytesOf(r.url))).toEqual(Buffer.from(data));
    expect(server.requests.map((q) => q.method)).toEqual([
      'OPTIONS',
      'POST',
      'PATCH',
      'PATCH',
      'PATCH',
    ]);
    expect(server.requests[1]!.bodySize).toBe(1000);
    const meta = server.uploads.get('u1')!.metadata!;
    expect(meta).toContain(`filename ${Buffer.from('a.bin').toString('base64')}`);
    expect(meta).toContain(`filetype ${Buffer.from('application/x-test').toString('base64')}`);
    expect(meta).toContain(`note ${Buffer.from('ü 🚀').toString('base64')}`);
    expect(rec.names().filter((n) => n === 'chunk')).toHaveLength(4);
    expect(monotonic(rec.progress.map((p) => p.sent))).toBe(true);
    expect(monotonic(rec.progress.map((p) => p.acked))).toBe(true);
    expect(rec.progress.at(-1)).toEqual({ sent: 3500, acked: 3500 });
    expect(rec.progress.every((p) => p.sent >= p.acked)).toBe(true);
    expect(upload.state).toBe('done');
  });

  test('without creation-with-upload: POST then PATCHes', async () => {
    const { server, upload } = setup(bytes(2500));
    server.extensions = 'creation';
    await upload.start();
    expect(server.requests.map((q) => q.method)).toEqual([
      'OPTIONS',
      'POST',
      'PATCH',
      'PATCH',
      'PATCH',
    ]);
    expect(server.requests[1]!.bodySize).toBe(0);
  });

  test('409 -> HEAD and continue from the server offset', async () => {
    const data = bytes(3000);
    const { server, upload } = setup(data);
    let lied = false;
    server.intercept = (req) => {
      if (req.method === 'PATCH' && !lied) {
        lied = true;
        return { status: 409, body: 'Upload-Offset mismatch' };
      }
      return undefined;
    };
    const rec = record(upload);
    const r = await upload.start();
    expect(Buffer.from(server.bytesOf(r.url))).toEqual(Buffer.from(data));
    const methods = server.requests.map((q) => q.method);
    expect(methods.slice(0, 4)).toEqual(['OPTIONS', 'POST', 'PATCH', 'HEAD']);
    expect(rec.names()).toContain('retry');
  });

  test('5xx, 423 and network errors are retried; budget resets on progress', async () => {
    const data = bytes(5000);
    const { server, upload } = setup(data, { retry: { delays: [0, 0] } });
    // Two failures before every PATCH would exhaust a budget of 2 unless progress resets it.
    let k = 0;
    server.intercept = (req) => {
      if (req.method !== 'PATCH') return undefined;
      k++;
      if (k % 3 === 1) return { status: 503, body: 'busy' };
      if (k % 3 === 2) return k % 2 ? { status: 423, body: 'locked' } : 'network';
      return undefined;
    };
    const rec = record(upload);
    const r = await upload.start();
    expect(Buffer.from(server.bytesOf(r.url))).toEqual(Buffer.from(data));
    expect(rec.names().filter((n) => n === 'retry').length).toBeGreaterThanOrEqual(8);
  });

  test('the retry budget runs out without progress: fails with status and server message', async () => {
    const { server, upload } = setup(bytes(3000), { retry: { delays: [0, 0, 0] } });
    server.intercept = (req) =>
      req.method === 'PATCH' ? { status: 500, body: 'disk on fire' } : undefined;
    const err = (await upload.start().catch((e) => e)) as TusError;
    expect(err).toBeInstanceOf(TusError);
    expect(err.status).toBe(500);
    expect(err.serverMessage).toBe('disk on fire');
    expect(err.message).toContain('disk on fire');
    expect(server.requests.filter((q) => q.method === 'PATCH')).toHaveLength(4);
    expect(upload.state).toBe('failed');
  });

  test('other 4xx fail at once with the server message', async () => {
    const { server, upload } = setup(bytes(3000));
    server.intercept = (req) =>
      req.method === 'POST' ? { status: 403, body: 'quota exceeded' } : undefined;
    const err = (await upload.start().catch((e) => e)) as TusError;
    expect(err.status).toBe(403);
    expect(err.message).toMatch(/POST .*403.*quota exceeded/);
    expect(server.requests.map((q) => q.method)).toEqual(['OPTIONS', 'POST']);
  });

  test('resume from the store: HEAD, then PATCH from the server offset', async () => {
    const data = bytes(4000);
    const store = new MemoryStore();
    const first = setup(data, { store });
    first.upload.on('chunk', (c) => {
      if (c.bytesAcknowledged >= 2000) first.upload.abort();
    });
    await expect(first.upload.start()).rejects.toMatchObject({ kind: 'aborted' });
    expect(await store.list()).toHaveLength(1);

    const second = new Upload(first.source, {
      endpoint: ENDPOINT,
      fetch: first.server.fetch,
      chunkSize: 1000,
      store,
    });
    const rec = record(second);
    first.server.requests.length = 0;
    const r = await second.start();
    // No OPTIONS: checksum 'auto' needs the server's caps, and the first upload's answer
    // to the same endpoint is still fresh (protocol/caps-cache.ts).
    expect(first.server.requests.map((q) => q.method)).toEqual(['HEAD', 'PATCH', 'PATCH']);
    expect(rec.events.find(([n]) => n === 'resumed')?.[1]).toEqual({ url: r.url, offset: 2000 });
    expect(Buffer.from(first.server.bytesOf(r.url))).toEqual(Buffer.from(data));
    expect(await store.list()).toHaveLength(0);
  });

  test('404 on resume -> restarted event and a new upload', async () => {
    const data = bytes(2500);
    const store = new MemoryStore();
    const { server, upload, source } = setup(data, { store });
    upload.on('chunk', () => upload.abort());
    await upload.start().catch(() => {});
    const oldUrl = (await store.list())[0]!.uploadUrl;
    server.uploads.clear();

    const again = new Upload(source, {
      endpoint: ENDPOINT,
      fetch: server.fetch,
      chunkSize: 1000,
      store,
    });
    const rec = record(again);
    const r = await again.start();
    expect(r.url).not.toBe(oldUrl);
    expect(rec.events.find(([n]) => n === 'restarted')?.[1]).toEqual({
      previousUrl: oldUrl,
      status: 404,
    });
    expect(Buffer.from(server.bytesOf(r.url))).toEqual(Buffer.from(data));
  });

  test('404 for a stream source (cannot read again) fails', async () => {
    const server = new FakeTusServer();
    const up = new Upload(streamSource(new Blob([bytes(100)]).stream()), {
      endpoint: ENDPOINT,
      uploadUrl: `${ENDPOINT}/gone`,
      fetch: server.fetch,
    });
    await expect(up.start()).rejects.toMatchObject({ kind: 'source', status: 404 });
  });

  test('a different file content gets another fingerprint (no resume)', async () => {
    const store = new MemoryStore();
    const server = new FakeTusServer();
    const mk = (seed: number) =>
      new Upload(blobSource(new File([bytes(3000, seed)], 'a.bin', { lastModified: 5 })), {
        endpoint: ENDPOINT,
        fetch: server.fetch,
        chunkSize: 1000,
        store,
      });
    const a = mk(1);
    a.on('chunk', () => a.abort());
    await a.start().catch(() => {});
    const b = mk(2);
    const rec = record(b);
    const r = await b.start();
    expect(rec.names()).not.toContain('resumed');
    expect(rec.names()).toContain('created');
    expect(Buffer.from(server.bytesOf(r.url))).toEqual(Buffer.from(bytes(3000, 2)));
  });

  test('partial acknowledgement continues from the acknowledged offset', async () => {
    const data = bytes(3000);
    const { server, upload } = setup(data);
    server.acceptAtMost = 400;
    const r = await upload.start();
    expect(Buffer.from(server.bytesOf(r.url))).toEqual(Buffer.from(data));
  });

  test('deferred length: stream of unknown length declares Upload-Length on the last PATCH', async () => {
    const server = new FakeTusServer();
    const data = bytes(2600);
    const up = new Upload(streamSource(new Blob([data]).stream()), {
      endpoint: ENDPOINT,
      fetch: server.fetch,
      chunkSize: 1000,
    });
    const r = await up.start();
    expect(r.size).toBe(2600);
    const post = server.requests.find((q) => q.method === 'POST')!;
    expect(post.headers['upload-defer-length']).toBe('1');
    const patches = server.requests.filter((q) => q.method === 'PATCH');
    expect(patches.map((p) => p.headers['upload-length'])).toEqual([undefined, undefined, '2600']);
    expect(Buffer.from(server.bytesOf(r.url))).toEqual(Buffer.from(data));
  });

  test('Tus-Max-Size: an upload over the limit fails before creating', async () => {
    const { server, upload } = setup(bytes(3000));
    server.maxSize = 2000;
    await expect(upload.start()).rejects.toMatchObject({ kind: 'limit' });
    expect(server.requests.map((q) => q.method)).toEqual(['OPTIONS']);
  });

  test('413 shrinks the chunk and goes on', async () => {
    const data = bytes(3000);
    const { server, upload } = setup(data, { chunkSize: 2000 });
    server.extensions = 'creation';
    server.intercept = (req) =>
      req.method === 'PATCH' && req.bodySize > 1000 ? { status: 413, body: 'too big' } : undefined;
    const r = await upload.start();
    expect(Buffer.from(server.bytesOf(r.url))).toEqual(Buffer.from(data));
    expect(upload.chunkSize).toBe(1000);
  });

  test('headers and onBeforeRequest reach every request', async () => {
    let n = 0;
    const { server, upload } = setup(bytes(2000), {
      headers: { 'X-Static': 's' },
      onBeforeRequest: async (req) => {
        req.headers.Authorization = `Bearer t${++n}`;
      },
    });
    await upload.start();
    expect(server.requests.every((q) => q.headers['x-static'] === 's')).toBe(true);
    expect(server.requests.map((q) => q.headers.authorization)).toEqual(
      server.requests.map((_, i) => `Bearer t${i + 1}`),
    );
  });

  test('pause aborts the request in flight, keeps state; resume HEADs and continues', async () => {
    const data = bytes(5000);
    const { server, upload } = setup(data);
    let hung = 0;
    server.hang = (req) =>
      req.method === 'PATCH' && req.headers['upload-offset'] === '2000' && hung++ === 0;
    const rec = record(upload);
    let pausedAt = -1;
    let whilePaused: [number, string] = [-1, ''];
    upload.on('paused', () => {
      pausedAt = server.requests.length;
      setTimeout(() => {
        whilePaused = [server.requests.length, upload.state];
        upload.resume();
      }, 20);
    });
    const done = upload.start();
    const poll = setInterval(() => {
      if (hung === 1 && upload.state === 'running') upload.pause();
    }, 1);
    const r = await done;
    clearInterval(poll);
    expect(pausedAt).toBeGreaterThan(0);
    expect(whilePaused).toEqual([pausedAt, 'paused']); // nothing sent while paused
    const methods = server.requests.map((q) => q.method);
    expect(methods.slice(pausedAt)).toEqual(['HEAD', 'PATCH', 'PATCH', 'PATCH']);
    expect(Buffer.from(server.bytesOf(r.url))).toEqual(Buffer.from(data));
    expect(monotonic(rec.progress.map((p) => p.acked))).toBe(true);
  });

  test('AbortSignal aborts; terminate deletes on the server', async () => {
    const ac = new AbortController();
    const { server, upload } = setup(bytes(5000), { signal: ac.signal });
    upload.on('chunk', () => ac.abort());
    await expect(upload.start()).rejects.toMatchObject({ kind: 'aborted' });
    expect(upload.state).toBe('aborted');
    expect(server.uploads.size).toBe(1);
    await upload.terminate();
    expect(server.uploads.size).toBe(0);
    expect(server.requests.at(-1)!.method).toBe('DELETE');
  });

  test('a request that never answers is aborted as stalled and retried', async () => {
    const data = bytes(3000);
    const { server, upload } = setup(data, { stallTimeoutMs: 50 });
    let n = 0;
    server.hang = (req) => req.method === 'PATCH' && n++ === 1;
    const rec = record(upload);
    const r = await upload.start();
    const retries = rec.events
      .filter(([e]) => e === 'retry')
      .map(([, p]) => (p as { error: TusError }).error);
    expect(retries.map((e) => e.kind)).toEqual(['stall']);
    expect(Buffer.from(server.bytesOf(r.url))).toEqual(Buffer.from(data));
  });

  test('a server offset beyond the data is a protocol error', async () => {
    const { server, upload } = setup(bytes(2000));
    server.intercept = (req) =>
      req.method === 'PATCH' ? { status: 204, headers: { 'Upload-Offset': '999999' } } : undefined;
    await expect(upload.start()).rejects.toMatchObject({ kind: 'protocol' });
  });
});
