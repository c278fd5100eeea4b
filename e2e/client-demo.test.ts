// The --demo page (issue 24) in headless Debian Chromium against the CLI on RGW. The page
// comes from the CLI (--demo); uploads go through a proxy on another port, so they are
// cross-origin (CORS), counted (body bytes per upload) and slowed, so that pause and
// reload land mid-way. Each test names what it shows.
//  1. three files, one paused and resumed, the page reloaded mid-way, the files chosen
//     again: every object exact in S3, each resumed at or past what the page showed
//     acknowledged, bytes re-sent counted and at most one chunk per interruption;
//     a screenshot mid-upload (docs/demo-upload.png with TUS_S3_WRITE_SCREENSHOT=1).
//  2. a parallel upload's IndexedDB record survives a reload and resumes it.
//  3. a full IndexedDB (quota lowered over CDP) is reported, not swallowed.
import { access, copyFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { type Browser, CHROMIUM, launchChromium } from './helpers/client-browser.js';
import { idOf } from './helpers/client-tus.js';
import { type CountingProxy, startCountingProxy } from './helpers/counting-proxy.js';
import {
  idbRecords,
  openDemo,
  rows,
  unfinished,
  waitReady,
  waitRows,
} from './helpers/demo-page.js';
import { makeRandomFile, type RandomFile, removeDir, sha256, tmpDir } from './helpers/files.js';
import { type Backend, type CliServer, repoRoot, s3Backend, startCli } from './helpers/server.js';

const MiB = 1024 * 1024;
const CHUNK = 1 * MiB;

let dir: string;
let backend: Backend;
let cli: CliServer;
let proxy: CountingProxy;
let browser: Browser;
let site: string;
let endpoint: string;

beforeAll(async () => {
  await access(CHROMIUM);
  dir = await tmpDir('client-demo-');
  backend = await s3Backend('demo/');
  // 5 MiB parts: a 20 MiB file makes two partials of two parts each.
  cli = await startCli([...backend.cliArgs, '--demo', '--part-size', '5MiB']);
  site = new URL(cli.url).origin;
  proxy = await startCountingProxy(site);
  endpoint = `${proxy.origin}/files`;
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await proxy?.close();
  await cli?.stop();
  await backend?.cleanup().catch(() => {});
  await removeDir(dir);
});

function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  return errors;
}

const names = ['alpha.bin', 'bravo.bin', 'charlie.bin'] as const;
// bravo waits while paused (and its HEAD waits for the cut PATCH to settle on the server):
// the others are larger so they are still mid-way when bravo moves again.
const sizes = [16 * MiB, 12 * MiB, 20 * MiB];

async function screenshot(page: Page): Promise<string> {
  const tmp = path.join(repoRoot, '.tmp/demo-upload.png');
  await mkdir(path.dirname(tmp), { recursive: true });
  await page.screenshot({ path: tmp, fullPage: true });
  if (process.env.TUS_S3_WRITE_SCREENSHOT === '1') {
    await copyFile(tmp, path.join(repoRoot, 'docs/demo-upload.png'));
  }
  return tmp;
}

/** Pauses bravo once it has 1 MiB, checks it stays put while paused, screenshots, resumes. */
async function pauseAndResume(page: Page): Promise<number> {
  await waitRows(page, (r) => (r['bravo.bin']?.acked ?? 0) >= 1 * MiB);
  await page.getByRole('button', { name: 'Pause bravo.bin' }).click();
  // Screen readers hear it (a polite live region).
  await page.waitForFunction(
    () => document.querySelector('[role="status"]')?.textContent === 'bravo.bin: paused',
  );
  const paused = await waitRows(
    page,
    (r) => r['bravo.bin']?.state === 'paused' && r['alpha.bin']!.acked >= 2 * MiB,
  );
  const shot = await screenshot(page);
  await new Promise((r) => setTimeout(r, 700));
  const still = await rows(page);
  expect(still['bravo.bin']!.acked).toBe(paused['bravo.bin']!.acked);
  expect(still['alpha.bin']!.acked).toBeGreaterThan(paused['alpha.bin']!.acked);
  await page.getByRole('button', { name: 'Resume bravo.bin' }).focus();
  await page.keyboard.press('Enter'); // keyboard use
  await waitRows(page, (r) => r['bravo.bin']!.acked > still['bravo.bin']!.acked);
  console.log(`screenshot mid-upload: ${shot}`);
  return still['bravo.bin']!.acked;
}

test('three files: pause/resume, reload mid-way, chosen again: exact, resumed, re-sent <= 1 chunk per interruption', async () => {
  const files: RandomFile[] = [];
  for (const [i, name] of names.entries())
    files.push(await makeRandomFile(dir, sizes[i]!, { name }));
  const page = await browser.context.newPage();
  const errors = watchErrors(page);
  await openDemo(page, site, { endpoint, chunk: CHUNK, parallel: 1 });
  // Labelled controls, reachable with Tab in order, the file picker among them.
  expect(await page.getByLabel('Upload endpoint').inputValue()).toBe(endpoint);
  expect(await page.getByLabel('Parallel uploads per file').inputValue()).toBe('1');
  expect(await page.getByLabel('Chunk size').inputValue()).toBe(String(CHUNK));
  const focused: string[] = [];
  for (let i = 0; i < 4; i++) {
    await page.keyboard.press('Tab');
    focused.push(await page.evaluate(() => document.activeElement?.id ?? ''));
  }
  expect(focused).toEqual(['endpoint', 'parallel', 'chunk', 'file']);

  proxy.setRate(3 * MiB);
  await page.setInputFiles(
    '#file',
    files.map((f) => f.path),
  );
  const pausedAt = await pauseAndResume(page);
  const before = await waitRows(page, (r) =>
    names.every(
      (n, i) =>
        r[n]!.state === 'running' &&
        r[n]!.acked >= Math.max(2 * MiB, n === 'bravo.bin' ? pausedAt + CHUNK : 0) &&
        r[n]!.acked < sizes[i]! - CHUNK,
    ),
  );
  await page.reload();
  await waitReady(page);
  const listed = await unfinished(page);
  expect(listed).toHaveLength(3);
  for (const n of names) {
    const item = listed.find((l) => l.text.startsWith(n))!;
    expect(item.offset).toBeGreaterThanOrEqual(before[n]!.acked);
    expect(item.offset).toBeLessThanOrEqual(before[n]!.acked + CHUNK);
  }
  expect(await page.locator('#unfinished-help').textContent()).toMatch(
    /Choose the same file again/,
  );

  proxy.setRate(0);
  await page.setInputFiles(
    '#file',
    files.map((f) => f.path),
  );
  const after = await waitRows(page, (r) => names.every((n) => r[n]?.state === 'done'));
  const report: string[] = [];
  for (const [i, n] of names.entries()) {
    const f = files[i]!;
    const r = after[n]!;
    expect(r.url).toBe(before[n]!.url);
    const resumed = Number(r.resumed);
    expect(r.resumed).not.toBe('');
    expect(resumed).toBeGreaterThanOrEqual(before[n]!.acked);
    expect(resumed).toBeLessThanOrEqual(before[n]!.acked + CHUNK);
    expect(await backend.sha256Of(idOf(r.url))).toBe(f.sha256);
    const resent = proxy.bytesFor(idOf(r.url)) - f.size;
    const interruptions = n === 'bravo.bin' ? 2 : 1;
    expect(resent).toBeGreaterThanOrEqual(0);
    expect(resent).toBeLessThanOrEqual(interruptions * CHUNK);
    report.push(
      `${n}: ${f.size} B, acknowledged before reload ${before[n]!.acked}, resumed at ${resumed}, ` +
        `body bytes received ${proxy.bytesFor(idOf(r.url))}, re-sent ${resent} (bound ${interruptions} x ${CHUNK})`,
    );
  }
  console.log(`bravo paused at ${pausedAt} acknowledged\n${report.join('\n')}`);
  expect(await page.locator('#unfinished-section').isHidden()).toBe(true);
  expect(await idbRecords(page)).toEqual([]);
  expect(errors).toEqual([]);
  await page.close();
}, 120_000);

test('IndexedDB: a parallel upload (2 partials) survives a reload and resumes; exact', async () => {
  const f = await makeRandomFile(dir, 20 * MiB, { name: 'delta.bin' });
  const page = await browser.context.newPage();
  const errors = watchErrors(page);
  await openDemo(page, site, { endpoint, chunk: CHUNK, parallel: 2 });
  expect(await page.locator('#store-note').textContent()).toMatch(/IndexedDB/);
  proxy.setRate(3 * MiB);
  await page.setInputFiles('#file', f.path);
  await waitRows(page, (r) => (r['delta.bin']?.acked ?? 0) >= 4 * MiB);
  const stored = (await idbRecords(page)).filter((e) => e.metadata.filename === 'delta.bin');
  expect(stored).toHaveLength(1);
  const entry = stored[0]!;
  expect(entry.partials).toHaveLength(2);
  expect(entry.partials!.every((p) => p.uploadUrl !== null)).toBe(true);
  expect(entry.finalUrl).toEqual(expect.any(String)); // final first (concatenation-unfinished)

  await page.reload();
  await waitReady(page);
  const survived = (await idbRecords(page)).find((e) => e.fingerprint === entry.fingerprint);
  expect(survived?.partials?.map((p) => p.uploadUrl)).toEqual(
    entry.partials!.map((p) => p.uploadUrl),
  );
  expect(survived?.finalUrl).toBe(entry.finalUrl);
  const listed = (await unfinished(page)).find((l) => l.text.startsWith('delta.bin'))!;
  expect(listed.text).toMatch(/parallel, 2 partials/);
  const onServer = listed.offset!;
  expect(onServer).toBeGreaterThanOrEqual(4 * MiB);

  proxy.setRate(0);
  await page.setInputFiles('#file', f.path);
  const done = await waitRows(page, (r) => r['delta.bin']?.state === 'done');
  const r = done['delta.bin']!;
  expect(Number(r.resumed)).toBe(onServer);
  expect(r.url).toBe(entry.finalUrl);
  expect(await backend.sha256Of(idOf(r.url))).toBe(f.sha256);
  const received = entry.partials!.reduce((n, p) => n + proxy.bytesFor(idOf(p.uploadUrl!)), 0);
  const resent = received - f.size;
  expect(resent).toBeGreaterThanOrEqual(0);
  expect(resent).toBeLessThanOrEqual(2 * CHUNK); // one interrupted request per partial
  console.log(
    `parallel: IndexedDB record kept 2 partials + final across the reload; ${onServer} B on the ` +
      `server after it, resumed there; body bytes received ${received} for ${f.size}, re-sent ${resent}`,
  );
  expect((await idbRecords(page)).some((e) => e.fingerprint === entry.fingerprint)).toBe(false);
  expect(errors).toEqual([]);
  await page.close();
}, 120_000);

test('a full IndexedDB is reported on the page, and Retry succeeds once there is room', async () => {
  const f = await makeRandomFile(dir, 2 * MiB, { name: 'echo.bin' });
  // A browser of its own: with the quota overridden under a profile that earlier tests
  // filled, this Chromium sometimes left the write pending instead of refusing it.
  const own = await launchChromium();
  const page = await own.context.newPage();
  const errors = watchErrors(page);
  await openDemo(page, site, { endpoint, chunk: CHUNK, parallel: 1 });
  const cdp = await own.context.newCDPSession(page);
  const { usage } = (await cdp.send('Storage.getUsageAndQuota', { origin: site })) as {
    usage: number;
  };
  // A quota of 1 byte: no record fits. (A quota of the reported usage is not enough: the
  // usage counts records deleted but not yet compacted, so new ones still fit.)
  await cdp.send('Storage.overrideQuotaForOrigin', { origin: site, quotaSize: 1 });
  try {
    await page.setInputFiles('#file', f.path);
    await waitRows(page, (r) => r['echo.bin']?.state === 'failed');
    const row = page.locator('.upload', { hasText: 'echo.bin' });
    expect(await row.locator('.note').textContent()).toMatch(
      /resume store full \(IndexedDB quota exceeded\)/,
    );
  } finally {
    // Room again. (Clearing the override instead left this Chromium's next IndexedDB
    // writes of the origin hanging.)
    await cdp.send('Storage.overrideQuotaForOrigin', { origin: site, quotaSize: usage + 64 * MiB });
  }
  await page.getByRole('button', { name: 'Retry echo.bin' }).click();
  const r = (await waitRows(page, (x) => x['echo.bin']?.state === 'done'))['echo.bin']!;
  expect(await backend.sha256Of(idOf(r.url))).toBe(f.sha256);
  expect(errors).toEqual([]);
  await own.close();
}, 60_000);

test('drag and drop: a dropped file uploads, exact', async () => {
  const page = await browser.context.newPage();
  const errors = watchErrors(page);
  await openDemo(page, site, { endpoint, chunk: CHUNK, parallel: 1 });
  const size = 1.5 * MiB;
  // The page makes the file (bytes i*7 mod 251) and drops it as a user's drag would.
  const dropped = await page.evaluateHandle((n) => {
    const bytes = new Uint8Array(n);
    for (let i = 0; i < n; i++) bytes[i] = (i * 7) % 251;
    const dt = new DataTransfer();
    dt.items.add(new File([bytes], 'foxtrot.bin', { type: 'application/octet-stream' }));
    return dt;
  }, size);
  await page.dispatchEvent('#drop', 'dragover', { dataTransfer: dropped });
  expect(await page.locator('#drop.over').count()).toBe(1);
  await page.dispatchEvent('#drop', 'drop', { dataTransfer: dropped });
  const r = (await waitRows(page, (x) => x['foxtrot.bin']?.state === 'done'))['foxtrot.bin']!;
  const want = Buffer.alloc(size);
  for (let i = 0; i < size; i++) want[i] = (i * 7) % 251;
  expect(await backend.sha256Of(idOf(r.url))).toBe(sha256(want));
  expect(
    await page.locator('.upload', { hasText: 'foxtrot.bin' }).locator('.result a').textContent(),
  ).toBe(r.url);
  expect(errors).toEqual([]);
  await page.close();
});

test('the bundle hashes a whole-file digest in its Worker; the server verifies it', async () => {
  const page = await browser.context.newPage();
  const errors = watchErrors(page);
  await openDemo(page, site, { endpoint, chunk: CHUNK, parallel: 1 });
  const size = 6 * MiB + 123;
  // The bundle the page runs on, used as an app would: digest 'sha256' on a File.
  const r = await page.evaluate(
    async ({ n, endpoint }) => {
      // A specifier the page resolves (TypeScript has no types for it: any).
      const bundle: string = '/demo/tus-s3-client.min.js';
      const tus = await import(bundle);
      const bytes = new Uint8Array(n);
      for (let i = 0; i < n; i++) bytes[i] = (i * 13) % 251;
      const file = new File([bytes], 'golf.bin');
      const upload = new tus.Upload(tus.blobSource(file), { endpoint, digest: 'sha256' });
      let digest: { reprDigest: string; thread?: string } | undefined;
      upload.on('digest', (e: { reprDigest: string; thread?: string }) => {
        digest = e;
      });
      const done = await upload.start();
      return { url: done.url as string, digest };
    },
    { n: size, endpoint },
  );
  const want = Buffer.alloc(size);
  for (let i = 0; i < size; i++) want[i] = (i * 13) % 251;
  expect(r.digest?.thread).toBe('worker');
  expect(r.digest?.reprDigest).toBe(
    `sha-256=:${Buffer.from(sha256(want), 'hex').toString('base64')}:`,
  );
  expect(await backend.sha256Of(idOf(r.url))).toBe(sha256(want));
  // The server verified the declared digest before completing, and answers it.
  const head = await fetch(r.url, { method: 'HEAD', headers: { 'Tus-Resumable': '1.0.0' } });
  expect(head.headers.get('repr-digest')).toBe(r.digest?.reprDigest);
  expect(errors).toEqual([]);
  await page.close();
});

test('without --demo the CLI serves no page', async () => {
  const data = await tmpDir('client-demo-off-');
  const plain = await startCli(['--data-dir', data]);
  try {
    const origin = new URL(plain.url).origin;
    expect((await fetch(`${origin}/`)).status).toBe(404);
    expect((await fetch(`${origin}/demo/demo.js`)).status).toBe(404);
    expect(plain.output()).not.toMatch(/demo page/);
    expect(cli.output()).toMatch(/demo page on http:\/\/127\.0\.0\.1:\d+\//);
  } finally {
    await plain.stop();
    await removeDir(data);
  }
});
