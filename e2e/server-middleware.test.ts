// tusS3Middleware in an Express app: any mount path, body parsers mounted before it,
// X-Forwarded-* when trusted, the @tus/server hooks.
import { randomBytes } from 'node:crypto';
import { EVENTS } from '@tus/utils';
import { S3_MIN_PART_SIZE } from '@tus-s3/server';
import express from 'express';
import {
  type Backend,
  createUpload,
  idOf,
  type RunningServer,
  s3Backend,
  sha256Hex,
  startInProcess,
  tus,
  uploadRest,
} from './helpers/server.js';

describe('tusS3Middleware in an Express app', () => {
  let backend: Backend;
  const servers: RunningServer[] = [];
  beforeAll(async () => {
    backend = await s3Backend('mw/');
  });
  afterAll(async () => {
    for (const s of servers) await s.close();
    await backend?.cleanup();
  });
  const start = async (...args: Parameters<typeof startInProcess>) => {
    const s = await startInProcess(...args);
    servers.push(s);
    return s;
  };

  it('works at a nested mount path after json/raw/urlencoded/text parsers', async () => {
    const s = await start(
      { ...backend.options, partSize: S3_MIN_PART_SIZE },
      {
        mount: '/api/v2/uploads',
        before: (app) => {
          app.use(express.json());
          app.use(express.urlencoded({ extended: false }));
          app.use(express.raw());
          app.use(express.text());
        },
      },
    );
    const data = randomBytes(6 * 1024 * 1024 + 5);
    const url = await createUpload(s.url, data.length);
    expect(new URL(url).pathname).toMatch(/^\/api\/v2\/uploads\/[A-Za-z0-9_-]+$/);
    expect(await uploadRest(url, data, 0, 4 * 1024 * 1024)).toBe(data.length);
    expect(await backend.sha256Of(idOf(url))).toBe(sha256Hex(data));
  });

  it('replays a body that express.raw({ type: "*/*" }) already consumed', async () => {
    const s = await start(
      { ...backend.options },
      { mount: '/files', before: (app) => app.use(express.raw({ type: '*/*', limit: '50mb' })) },
    );
    const data = randomBytes(300_000);
    const url = await createUpload(s.url, data.length);
    expect(await uploadRest(url, data, 0, 100_000)).toBe(data.length);
    expect(await backend.sha256Of(idOf(url))).toBe(sha256Hex(data));
  });

  it('refuses with 400 a body that a parser turned into something else, upload intact', async () => {
    const s = await start(
      { ...backend.options },
      { mount: '/files', before: (app) => app.use(express.text({ type: '*/*' })) },
    );
    const data = randomBytes(1000);
    const url = await createUpload(s.url, data.length);
    const res = await tus(
      url,
      'PATCH',
      { 'Upload-Offset': '0', 'Content-Type': 'application/offset+octet-stream' },
      data,
    );
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/body parser/);
    expect((await tus(url, 'HEAD')).headers.get('upload-offset')).toBe('0');
  });

  it('honours X-Forwarded-Host/Proto only when told to', async () => {
    const trusted = await start({ ...backend.options, respectForwardedHeaders: true });
    const untrusted = await start({ ...backend.options });
    const fwd = {
      'Upload-Length': '1',
      'X-Forwarded-Host': 'uploads.example',
      'X-Forwarded-Proto': 'https',
    };
    const a = await tus(trusted.url, 'POST', fwd);
    expect(a.headers.get('location')).toMatch(
      /^https:\/\/uploads\.example\/files\/[A-Za-z0-9_-]+$/,
    );
    const b = await tus(untrusted.url, 'POST', fwd);
    expect(b.headers.get('location')).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/files\//);
  });

  it('runs the @tus/server hooks: onUploadCreate may refuse, onUploadFinish sees the upload', async () => {
    const finished: Array<{ id: string; size?: number; offset: number }> = [];
    const s = await start({
      ...backend.options,
      onUploadCreate: async (_req, upload) => {
        if (upload.metadata?.forbidden !== undefined) {
          throw { status_code: 403, body: 'forbidden metadata\n' };
        }
        return {};
      },
      onUploadFinish: async (_req, upload) => {
        finished.push({ id: upload.id, size: upload.size, offset: upload.offset });
        return {};
      },
    });
    const refused = await tus(s.url, 'POST', {
      'Upload-Length': '3',
      'Upload-Metadata': 'forbidden',
    });
    expect(refused.status).toBe(403);
    expect(await refused.text()).toBe('forbidden metadata\n');
    const url = await createUpload(s.url, 3);
    expect(await uploadRest(url, Buffer.from('abc'), 0)).toBe(3);
    expect(finished).toEqual([{ id: idOf(url), size: 3, offset: 3 }]);
  });

  it('reads bodies itself unless POST_RECEIVE has listeners, which then see the progress', async () => {
    const data = randomBytes(12 * 1024 * 1024);
    const upload = async (s: RunningServer) => {
      const url = await createUpload(s.url, data.length);
      expect(await uploadRest(url, data, 0)).toBe(data.length);
      expect(await backend.sha256Of(idOf(url))).toBe(sha256Hex(data));
    };
    // No listener: the store reads the request itself (@tus/server's streams carry nothing).
    const direct = await start({ ...backend.options, postReceiveInterval: 1 });
    await upload(direct);

    const offsets: number[] = [];
    const s = await start({ ...backend.options, postReceiveInterval: 1 });
    s.tus.server.on(EVENTS.POST_RECEIVE, (_req: unknown, upload: { offset: number }) => {
      offsets.push(upload.offset);
    });
    await upload(s);
    expect(offsets.length).toBeGreaterThan(0);
    expect(Math.max(...offsets)).toBeGreaterThan(0);
    expect(Math.max(...offsets)).toBeLessThanOrEqual(data.length);
  });
});
