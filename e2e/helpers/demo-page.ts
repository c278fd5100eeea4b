// Driving the --demo page (packages/server/src/demo/assets) as a user would, and reading
// what it shows: rows by file name, their data-* mirrors (state, acked, resumed offset,
// URL), the unfinished list, and the IndexedDB records read with the raw IndexedDB API.
import type { Page } from 'playwright-core';

export interface RowState {
  state: string;
  sent: number;
  acked: number;
  /** The offset the upload resumed at ('' until it resumed). */
  resumed: string;
  url: string;
}

export interface PageSettings {
  endpoint: string;
  chunk: number;
  parallel: number;
}

export async function openDemo(page: Page, origin: string, s: PageSettings): Promise<void> {
  const q = new URLSearchParams({
    endpoint: s.endpoint,
    chunk: String(s.chunk),
    parallel: String(s.parallel),
  });
  await page.goto(`${origin}/?${q}`);
  await waitReady(page);
}

export async function waitReady(page: Page): Promise<void> {
  await page.waitForSelector('body[data-ready="true"]', { timeout: 15_000 });
}

/** Every row by file name. */
export function rows(page: Page): Promise<Record<string, RowState>> {
  return page.evaluate(() => {
    const out: Record<string, RowState> = {};
    for (const li of document.querySelectorAll<HTMLElement>('#uploads .upload')) {
      const name = li.querySelector('.name')?.textContent ?? '';
      out[name] = {
        state: li.dataset.state ?? '',
        sent: Number(li.dataset.sent ?? 0),
        acked: Number(li.dataset.acked ?? 0),
        resumed: li.dataset.resumed ?? '',
        url: li.dataset.url ?? '',
      };
    }
    return out;
  });
}

/** Polls the rows until `ok` holds (every 100 ms). */
export async function waitRows(
  page: Page,
  ok: (r: Record<string, RowState>) => boolean,
  timeoutMs = 60_000,
): Promise<Record<string, RowState>> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const r = await rows(page);
    if (ok(r)) return r;
    if (Date.now() > until) throw new Error(`rows never got there: ${JSON.stringify(r)}`);
    await new Promise((res) => setTimeout(res, 100));
  }
}

/** The unfinished list: each item's text and the server offset it shows. */
export function unfinished(page: Page): Promise<Array<{ text: string; offset: number | null }>> {
  return page.evaluate(() =>
    [...document.querySelectorAll<HTMLElement>('#unfinished li')].map((li) => ({
      text: li.textContent ?? '',
      offset: li.dataset.offset === '' ? null : Number(li.dataset.offset),
    })),
  );
}

export interface IdbRecord {
  fingerprint: string;
  uploadUrl: string;
  metadata: Record<string, string>;
  finalUrl?: string;
  partials?: Array<{ start: number; end: number; uploadUrl: string | null; offset: number }>;
}

/** The records in IndexedDB 'tus-s3'/'uploads', read without the client's code. */
export function idbRecords(page: Page): Promise<IdbRecord[]> {
  return page.evaluate(
    () =>
      new Promise<IdbRecord[]>((resolve, reject) => {
        const open = indexedDB.open('tus-s3');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const db = open.result;
          const req = db.transaction('uploads', 'readonly').objectStore('uploads').getAll();
          req.onsuccess = () => {
            db.close();
            resolve(req.result as IdbRecord[]);
          };
          req.onerror = () => reject(req.error);
        };
      }),
  );
}
