// Browser checksum path: the client's ESM build (packages/client/dist, unbundled, with an
// import map for its dependencies) in Debian's headless Chromium, hashing a Blob chunk by
// chunk through checksumChunk, the code an upload runs before each PATCH; the subtle-* rows
// call SubtleCrypto on the same chunks, for comparison; whole-sha256 is the option `digest`
// hashing the whole Blob (builds that have it).
//   node bench/browser/checksum.mjs [--mib 64] [--chunk-mib 8] [--rounds 3] [--dist DIR]
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const clientDir = path.join(root, 'packages/client');
const { chromium } = createRequire(path.join(root, 'e2e/package.json'))('playwright-core');

const { values } = parseArgs({
  options: {
    mib: { type: 'string', default: '64' },
    'chunk-mib': { type: 'string', default: '8' },
    rounds: { type: 'string', default: '3' },
    // another build of the client, e.g. the one before a change
    dist: { type: 'string', default: path.join(clientDir, 'dist') },
  },
});
const MIB = Number(values.mib);
const CHUNK_MIB = Number(values['chunk-mib']);
const ROUNDS = Number(values.rounds);

const PAGE = `<!doctype html><html><head><meta charset="utf-8">
<script type="importmap">{"imports":{
  "hash-wasm":"/modules/hash-wasm/dist/index.esm.js",
  "@noble/hashes/":"/modules/@noble/hashes/"}}</script></head><body>
<script type="module">
import { checksumChunk } from '/client/checksum/digest.js';
import { blobSource } from '/client/sources/blob.js';
const bytesOf = async (src, s, e) => new Uint8Array(await (await src.read(s, e)).body.arrayBuffer());
let data = null;
window.bench = async ({ mib, chunkMib, rounds, algorithm }) => {
  const size = mib * 1024 * 1024, chunk = chunkMib * 1024 * 1024;
  if (data?.size !== size) {
    const bytes = new Uint8Array(size);
    for (let i = 0; i < size; i += 65536) crypto.getRandomValues(bytes.subarray(i, i + 65536));
    data = new Blob([bytes]);
  }
  const src = blobSource(data);
  const times = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    for (let s = 0; s < size; s += chunk) {
      const e = Math.min(size, s + chunk);
      if (algorithm === 'whole-sha256') {
        if (s > 0) break; // the whole Blob at once, as the digest option hashes it
        const { wholeSha256 } = await import('/client/checksum/whole-file.js');
        await wholeSha256(src);
      } else if (algorithm.startsWith('subtle-')) {
        const name = algorithm === 'subtle-sha256' ? 'SHA-256' : 'SHA-1';
        await crypto.subtle.digest(name, await bytesOf(src, s, e));
      } else await checksumChunk(src, await src.read(s, e), s, algorithm);
    }
    times.push(performance.now() - t0);
  }
  return times;
};
window.ready = true;
</script></body></html>`;

const server = createServer(async (req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  const map = [
    ['/client/', path.resolve(values.dist)],
    ['/modules/', path.join(clientDir, 'node_modules')],
  ];
  try {
    if (url.pathname === '/') {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(PAGE);
      return;
    }
    const hit = map.find(([p]) => url.pathname.startsWith(p));
    if (!hit) throw new Error('not found');
    const file = path.resolve(hit[1], `.${url.pathname.slice(hit[0].length - 1)}`);
    if (!file.startsWith(hit[1] + path.sep)) throw new Error('outside');
    const body = await readFile(file);
    res.writeHead(200, { 'Content-Type': 'text/javascript; charset=utf-8' }).end(body);
  } catch {
    res.writeHead(404).end('not found');
  }
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const origin = `http://127.0.0.1:${server.address().port}`;

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--no-first-run',
    '--disable-dev-shm-usage',
  ],
});
// A fresh page per algorithm: Chromium refused to read a large Blob again after a few
// hundred MiB of slices from one page (NotReadableError).
async function run(algorithm) {
  const page = await browser.newPage();
  try {
    page.on('pageerror', (e) => console.error('page error:', e.message));
    await page.goto(`${origin}/`);
    await page.waitForFunction(() => window.ready === true);
    const args = { mib: MIB, chunkMib: CHUNK_MIB, rounds: ROUNDS, algorithm };
    return await page.evaluate((a) => window.bench(a), args);
  } finally {
    await page.close();
  }
}

try {
  console.log(`${MIB} MiB in ${CHUNK_MIB} MiB Blob chunks, best of ${ROUNDS}`);
  for (const algorithm of [
    'sha256',
    'sha1',
    'md5',
    'crc32',
    'subtle-sha256',
    'subtle-sha1',
    'whole-sha256',
  ]) {
    const best = Math.min(...(await run(algorithm).catch(() => [Number.NaN])));
    console.log(
      `${algorithm.padEnd(13)} ${(MIB / (best / 1000)).toFixed(0).padStart(5)} MiB/s  (${best.toFixed(0)} ms)`,
    );
  }
} finally {
  await browser.close();
  server.close();
}
