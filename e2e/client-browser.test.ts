// Client must-show 6: the ESM build (packages/client/dist, unbundled) runs in headless
// Chromium against a tus server on 127.0.0.1 (cross-origin, so CORS is exercised): a File
// uploads, and after a page reload the upload resumes from localStorage. Against the
// stock @tus/server and against our server on RGW.
import { access } from 'node:fs/promises';
import type { Page } from 'playwright-core';
import {
  type Browser,
  CHROMIUM,
  clientDist,
  launchChromium,
  type StaticServer,
  startStaticServer,
} from './helpers/client-browser.js';
import { type Target, targets } from './helpers/client-targets.js';
import { makeRandomFile, type RandomFile, removeDir, tmpDir } from './helpers/files.js';

const MiB = 1024 * 1024;

interface RunResult {
  ok: boolean;
  url: string | null;
  size?: number;
  kind?: string;
  message?: string;
  events: Array<[string, unknown?]>;
}

let dir: string;
let file: RandomFile;
let web: StaticServer;
let browser: Browser;

beforeAll(async () => {
  await access(CHROMIUM); // Debian package `chromium` (scripts/test.sh installs it)
  await access(`${clientDist}/index.js`); // built by `pnpm build`
  dir = await tmpDir('client-browser-');
  file = await makeRandomFile(dir, 12 * MiB, { name: 'photo.bin' });
  web = await startStaticServer();
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await web?.close();
  await removeDir(dir);
});

async function openPage(page: Page) {
  await page.goto(`${web.origin}/`);
  await page.waitForFunction(() => (window as unknown as { tusReady?: boolean }).tusReady === true);
  await page.setInputFiles('#file', file.path);
}

interface RunArgs {
  endpoint: string;
  chunkSize: number;
  stopAt?: number;
  digest?: 'sha256';
  checksum?: string;
}

function run(page: Page, args: RunArgs) {
  return page.evaluate(
    (a) => (window as unknown as { runUpload(x: typeof a): Promise<RunResult> }).runUpload(a),
    args,
  );
}

const storedKeys = (page: Page) =>
  page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('tus-s3:')));

describe.each(targets)('browser build in headless Chromium: %s', (name, start) => {
  let target: Target;
  beforeAll(async () => {
    target = await start();
  });
  afterAll(async () => {
    await target?.close();
  });

  test('a File uploads; after a reload it resumes from localStorage; bytes exact', async () => {
    const page = await browser.context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    try {
      await openPage(page);
      await page.evaluate(() => localStorage.clear());
      const first = await run(page, {
        endpoint: target.endpoint,
        chunkSize: 1 * MiB,
        stopAt: 4 * MiB,
      });
      expect(first).toMatchObject({ ok: false, kind: 'aborted' });
      expect(first.events[0]?.[0]).toBe('created');
      expect(await storedKeys(page)).toHaveLength(1);

      await page.reload();
      await openPage(page);
      expect(await storedKeys(page)).toHaveLength(1);
      const second = await run(page, { endpoint: target.endpoint, chunkSize: 1 * MiB });
      expect(second.message).toBeUndefined();
      expect(second.ok).toBe(true);
      expect(second.url).toBe(first.url);
      expect(second.size).toBe(file.size);
      expect(second.events[0]?.[0]).toBe('resumed');
      expect(second.events[0]?.[1] as number).toBeGreaterThanOrEqual(4 * MiB);
      expect(second.events.some(([e]) => e === 'created' || e === 'progress went backwards')).toBe(
        false,
      );
      expect(await storedKeys(page)).toHaveLength(0);
      expect(await target.sha256Of(second.url!)).toBe(file.sha256);
      expect(errors).toEqual([]);
    } finally {
      await page.close();
    }
  });

  test('digest: the whole File hashed in the page (hash-wasm) is its SHA-256', async () => {
    const page = await browser.context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    try {
      await openPage(page);
      await page.evaluate(() => localStorage.clear());
      // Our server has the checksum extension: crc32 per request also goes through hash-wasm.
      const checksum = name.startsWith('our server') ? 'crc32' : undefined;
      const r = await run(page, {
        endpoint: target.endpoint,
        chunkSize: 4 * MiB,
        digest: 'sha256',
        checksum,
      });
      expect(r.message).toBeUndefined();
      expect(r.ok).toBe(true);
      const want = `sha-256=:${Buffer.from(file.sha256, 'hex').toString('base64')}:`;
      expect(r.events.find(([e]) => e === 'digest')?.[1]).toBe(want);
      if (checksum) expect(r.events).toContainEqual(['checksum', 'crc32']);
      expect(await target.sha256Of(r.url!)).toBe(file.sha256);
      expect(errors).toEqual([]);
    } finally {
      await page.close();
    }
  });
});
