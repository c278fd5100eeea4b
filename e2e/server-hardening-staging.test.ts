// Issue 20, must-show 3: staging stays bounded whatever the PATCH sizes. 2,000 one-byte
// PATCHes to the CLI on RGW, one after another on one keep-alive connection, then the rest
// of the file: at most 64 staged objects for the upload at any listing, the object exact,
// the server's RSS bounded.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { listKeys } from './helpers/s3.js';
import {
  type Backend,
  type CliServer,
  createUpload,
  idOf,
  patch,
  s3Backend,
  sha256Hex,
  startCli,
  uploadRest,
} from './helpers/server.js';

const MiB = 1024 * 1024;
const PART = 5 * MiB;
const TINY_PATCHES = 2000;
const LIST_EVERY = 50;
const MAX_STAGED = 64;
// Well above one part buffer and the SDK's sockets; far below what 2,000 staged segments
// read back (and concatenated) outside the budget would cost for larger PATCHes.
const RSS_GROWTH_LIMIT = 96 * MiB;

/** The child's resident set size, from /proc (bytes). */
async function rssOf(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf-8');
  const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1];
  if (kb === undefined) throw new Error(`no VmRSS for ${pid}`);
  return Number(kb) * 1024;
}

describe('2,000 one-byte PATCHes, then the rest', () => {
  let backend: Backend;
  let server: CliServer;
  beforeAll(async () => {
    backend = await s3Backend('tiny/');
    server = await startCli([...backend.cliArgs, '--part-size', '5MiB']);
  });
  afterAll(async () => {
    await server?.stop();
    await backend?.cleanup();
  });

  it('keeps at most 64 staged objects, stores the object exact, RSS bounded', async () => {
    const pid = server.proc.pid as number;
    const data = randomBytes(PART + MiB + 3);
    const url = await createUpload(server.url, data.length);
    const staging = `${backend.prefix}${idOf(url)}.`;
    const stagedNow = async () =>
      (await listKeys(backend.bucket as string, staging)).filter((k) => !k.endsWith('.info'));

    const rssBefore = await rssOf(pid);
    let rssPeak = rssBefore;
    let mostStaged = 0;
    const started = Date.now();
    for (let i = 0; i < TINY_PATCHES; i++) {
      const res = await patch(url, i, data.subarray(i, i + 1));
      if (res.status !== 204) throw new Error(`PATCH ${i}: ${res.status} ${await res.text()}`);
      expect(Number(res.headers.get('upload-offset'))).toBe(i + 1);
      if ((i + 1) % LIST_EVERY === 0) {
        const staged = await stagedNow();
        mostStaged = Math.max(mostStaged, staged.length);
        expect(staged.length).toBeLessThanOrEqual(MAX_STAGED);
        rssPeak = Math.max(rssPeak, await rssOf(pid));
      }
    }
    const tinyMs = Date.now() - started;

    expect(await uploadRest(url, data, TINY_PATCHES)).toBe(data.length);
    rssPeak = Math.max(rssPeak, await rssOf(pid));
    expect(await backend.sha256Of(idOf(url))).toBe(sha256Hex(data));
    expect(await stagedNow()).toEqual([]);
    const growth = rssPeak - rssBefore;
    console.log(
      `${TINY_PATCHES} one-byte PATCHes in ${tinyMs} ms; most staged objects at a listing ` +
        `${mostStaged}; RSS ${(rssBefore / MiB).toFixed(1)} -> peak ` +
        `${(rssPeak / MiB).toFixed(1)} MiB`,
    );
    expect(growth).toBeLessThan(RSS_GROWTH_LIMIT);
  });
});
