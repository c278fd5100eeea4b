// The --demo page's static site (src/demo/site.ts): what it answers, with which headers,
// and that everything else reaches the tus handler.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { demoSite, withDemo } from '../src/demo/site.js';

let dir: string;
let bundle: string;
let server: Server;
let base: string;
const seenByTus: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'demo-site-'));
  bundle = path.join(dir, 'tus-s3-client.min.js');
  await writeFile(bundle, 'export const bundled = true;\n');
  const tus: RequestListener = (req, res) => {
    seenByTus.push(`${req.method} ${req.url}`);
    res.writeHead(204).end();
  };
  server = createServer(withDemo(await demoSite({ tusPath: '/files', bundle }), tus));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
  await rm(dir, { recursive: true, force: true });
});

test('GET / is the page; its script, styles, bundle and config are under /demo/', async () => {
  const page = await fetch(`${base}/?endpoint=x`);
  expect(page.status).toBe(200);
  expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
  const html = await page.text();
  expect(html).toContain('<script type="module" src="/demo/demo.js"></script>');
  expect(page.headers.get('content-security-policy')).toMatch(
    /script-src 'self' 'wasm-unsafe-eval'; connect-src 'self' http: https:/,
  );
  expect(page.headers.get('x-content-type-options')).toBe('nosniff');
  for (const asset of ['demo.js', 'row.js', 'unfinished.js', 'format.js', 'announcer.js']) {
    const r = await fetch(`${base}/demo/${asset}`);
    expect([asset, r.status, r.headers.get('content-type')]).toEqual([
      asset,
      200,
      'text/javascript; charset=utf-8',
    ]);
  }
  expect(await (await fetch(`${base}/demo/tus-s3-client.min.js`)).text()).toBe(
    'export const bundled = true;\n',
  );
  expect(await (await fetch(`${base}/demo/config.json`)).json()).toEqual({ endpoint: '/files' });
  const head = await fetch(`${base}/demo/demo.css`, { method: 'HEAD' });
  expect([head.status, head.headers.get('content-type')]).toEqual([200, 'text/css; charset=utf-8']);
  expect(seenByTus).toEqual([]);
});

test('anything else goes to the tus handler: uploads, other methods, unknown paths', async () => {
  seenByTus.length = 0;
  await fetch(`${base}/files`, { method: 'POST' });
  await fetch(`${base}/`, { method: 'POST' });
  await fetch(`${base}/demo/nope.js`);
  await fetch(`${base}/demo/../package.json`);
  expect(seenByTus).toEqual([
    'POST /files',
    'POST /',
    'GET /demo/nope.js',
    'GET /package.json', // fetch normalised the dots; the site only knows its own files
  ]);
});

test('the page cannot share / with the uploads, and a missing bundle is named', async () => {
  await expect(demoSite({ tusPath: '/', bundle })).rejects.toThrow(
    '--demo serves the page at /: give --path another path',
  );
  await expect(demoSite({ tusPath: '/files', bundle: path.join(dir, 'none.js') })).rejects.toThrow(
    /^--demo: the client's browser bundle is missing \(.*none\.js\): run pnpm build$/,
  );
});
