// Request logs and CORS through the CLI on the test RGW (issue 21, Logs and CORS): one info
// line per request with its X-Request-Id (the client's, or a new one returned), owner,
// upload, status and bytes, and none at the default level; CORS on every answer, the
// front's own 401s included, for listed origins with credentials.
import { randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
import { type Backend, type CliServer, idOf, s3Backend, startCli, tus } from './helpers/server.js';

const SECRET = 'e2e-logs-secret-of-at-least-32-bytes!';
const APP = 'http://127.0.0.1:5173';

function token(sub: string): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub)
    .sign(new TextEncoder().encode(SECRET));
}

/** The pino lines the server printed, parsed. */
function logLines(server: CliServer): Array<Record<string, unknown>> {
  return server
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

async function waitForLine(
  server: CliServer,
  match: (l: Record<string, unknown>) => boolean,
): Promise<Record<string, unknown>> {
  for (let i = 0; i < 100; i++) {
    const line = logLines(server).find(match);
    if (line) return line;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no such log line in:\n${server.output()}`);
}

describe('request logs (CLI, --log-level info, --jwt-secret)', () => {
  let backend: Backend;
  let server: CliServer;
  let quiet: CliServer;
  let alice: string;

  beforeAll(async () => {
    backend = await s3Backend('logs/');
    server = await startCli([...backend.cliArgs, '--jwt-secret', SECRET, '--log-level', 'info']);
    quiet = await startCli([...backend.cliArgs]);
    alice = await token('alice');
  });

  afterAll(async () => {
    await server?.stop();
    await quiet?.stop();
    await backend?.cleanup();
  });

  it('logs one line per request with the id the client sent, owner, upload, status, bytes', async () => {
    const auth = { Authorization: `Bearer ${alice}` };
    const created = await tus(server.url, 'POST', {
      ...auth,
      'Upload-Length': '5000',
      'X-Request-Id': 'create-1',
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('x-request-id')).toBe('create-1');
    const url = new URL(created.headers.get('location') ?? '', server.url).toString();
    const id = idOf(url);
    const patched = await tus(
      url,
      'PATCH',
      {
        ...auth,
        'Upload-Offset': '0',
        'Content-Type': 'application/offset+octet-stream',
        'X-Request-Id': 'patch-1',
      },
      randomBytes(3000),
    );
    expect(patched.status).toBe(204);
    const post = await waitForLine(server, (l) => l.requestId === 'create-1');
    expect(post).toMatchObject({ level: 30, method: 'POST', upload: id, owner: 'alice' });
    expect(post.status).toBe(201);
    const patch = await waitForLine(server, (l) => l.requestId === 'patch-1');
    expect(patch).toMatchObject({ method: 'PATCH', upload: id, owner: 'alice', status: 204 });
    expect(patch.bytes).toBe(3000);
    expect(typeof patch.ms).toBe('number');
    expect(logLines(server).filter((l) => l.requestId === 'patch-1')).toHaveLength(1);
  });

  it('generates an id when none (or an unsafe one) is sent, returns and logs it', async () => {
    for (const sent of [undefined, 'has space']) {
      const res = await tus(server.url, 'POST', { 'Upload-Length': '1', 'X-Request-Id': sent });
      expect(res.status).toBe(401);
      const id = res.headers.get('x-request-id') ?? '';
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
      const line = await waitForLine(server, (l) => l.requestId === id);
      expect(line).toMatchObject({ method: 'POST', status: 401 });
      expect(line.owner).toBeUndefined();
    }
  });

  it('prints no request lines at the default level', async () => {
    const res = await tus(quiet.url, 'POST', { 'Upload-Length': '10', 'X-Request-Id': 'q-1' });
    expect(res.status).toBe(201);
    expect(res.headers.get('x-request-id')).toBe('q-1');
    await new Promise((r) => setTimeout(r, 200));
    expect(quiet.output()).not.toContain('q-1');
    expect(logLines(quiet).filter((l) => l.msg === 'request')).toHaveLength(0);
  });
});

describe('CORS (CLI, --cors-origin, --cors-credentials)', () => {
  let backend: Backend;
  let server: CliServer;
  let open: CliServer;

  beforeAll(async () => {
    backend = await s3Backend('cors/');
    server = await startCli([
      ...backend.cliArgs,
      '--jwt-secret',
      SECRET,
      '--cors-origin',
      `https://app.test,${APP}`,
      '--cors-credentials',
    ]);
    open = await startCli([...backend.cliArgs]);
  });

  afterAll(async () => {
    await server?.stop();
    await open?.stop();
    await backend?.cleanup();
  });

  it('echoes a listed origin with credentials and Vary, on success and on a 401', async () => {
    const bearer = await token('carol');
    const ok = await tus(server.url, 'POST', {
      Origin: APP,
      Authorization: `Bearer ${bearer}`,
      'Upload-Length': '10',
    });
    expect(ok.status).toBe(201);
    const refused = await tus(server.url, 'POST', { Origin: APP, 'Upload-Length': '10' });
    expect(refused.status).toBe(401);
    for (const res of [ok, refused]) {
      expect(res.headers.get('access-control-allow-origin')).toBe(APP);
      expect(res.headers.get('access-control-allow-credentials')).toBe('true');
      expect(res.headers.get('vary')).toContain('Origin');
      const exposed = res.headers.get('access-control-expose-headers') ?? '';
      for (const name of ['Location', 'Upload-Offset', 'WWW-Authenticate', 'X-Request-Id']) {
        expect(exposed).toContain(name);
      }
    }
    // The front's own refusals before @tus/server (an unsupported version) carry them too.
    const bad = await tus(server.url, 'POST', { Origin: APP, 'Tus-Resumable': '0.2.0' });
    expect(bad.status).toBe(412);
    expect(bad.headers.get('access-control-allow-origin')).toBe(APP);
  });

  it('gives an unlisted origin no Allow-Origin and no credentials', async () => {
    const res = await tus(server.url, 'POST', {
      Origin: 'https://evil.test',
      'Upload-Length': '1',
    });
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    expect(res.headers.get('access-control-allow-credentials')).toBeNull();
    expect(res.headers.get('vary')).toContain('Origin');
  });

  it('answers a preflight as browsers expect, with no credential', async () => {
    const res = await fetch(server.url, {
      method: 'OPTIONS',
      headers: {
        Origin: APP,
        'Access-Control-Request-Method': 'PATCH',
        'Access-Control-Request-Headers': 'authorization,upload-offset,tus-resumable,content-type',
      },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe(APP);
    expect(res.headers.get('access-control-allow-credentials')).toBe('true');
    expect(res.headers.get('access-control-allow-methods')).toContain('PATCH');
    const allowed = (res.headers.get('access-control-allow-headers') ?? '').toLowerCase();
    for (const h of ['authorization', 'upload-offset', 'tus-resumable', 'content-type']) {
      expect(allowed).toContain(h);
    }
    expect(Number(res.headers.get('access-control-max-age'))).toBeGreaterThan(0);
  });

  it('answers any origin with * and no credentials by default', async () => {
    const res = await tus(open.url, 'POST', { Origin: 'https://any.test', 'Upload-Length': '1' });
    expect(res.status).toBe(201);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('access-control-allow-credentials')).toBeNull();
  });

  it('refuses * with credentials at start-up', async () => {
    await expect(startCli([...backend.cliArgs, '--cors-credentials'])).rejects.toThrow(
      /credentials need a list of origins/,
    );
    await expect(
      startCli([...backend.cliArgs, '--cors-origin', 'https://a.test/path']),
    ).rejects.toThrow(/not an origin/);
  });
});
