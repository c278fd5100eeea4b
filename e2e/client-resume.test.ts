// Client must-show 5: a stored upload URL that now answers 404/410 leads to a fresh upload
// (with a `restarted` event); a changed file (same size, same mtime, other content) never
// resumes into the old upload. Uses the Node JSON file store, like the CLI.
import { readFile, stat, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  JsonFileStore,
  nodeFileSource,
  terminateUpload,
  Upload,
  type UploadOptions,
} from '@tus-s3/client/node';
import { type Target, targets } from './helpers/client-targets.js';
import { makeRandomFile, removeDir, sha256, tmpDir } from './helpers/files.js';

const MiB = 1024 * 1024;

let dir: string;
beforeAll(async () => {
  dir = await tmpDir('client-resume-');
});
afterAll(async () => {
  await removeDir(dir);
});

/** Uploads until `stopAt` bytes are acknowledged, then aborts (the store keeps the URL). */
async function partial(file: string, o: UploadOptions, stopAt: number): Promise<string> {
  const source = await nodeFileSource(file);
  try {
    const up = new Upload(source, o);
    up.on('chunk', (c) => {
      if (c.bytesAcknowledged >= stopAt) up.abort();
    });
    await expect(up.start()).rejects.toMatchObject({ kind: 'aborted' });
    return up.url!;
  } finally {
    await source.close();
  }
}

async function full(file: string, o: UploadOptions) {
  const source = await nodeFileSource(file);
  const events: string[] = [];
  try {
    const up = new Upload(source, o);
    up.on('created', () => events.push('created'));
    up.on('resumed', (e) => events.push(`resumed@${e.offset}`));
    up.on('restarted', (e) => events.push(`restarted:${e.status}`));
    const r = await up.start();
    return { r, events };
  } finally {
    await source.close();
  }
}

describe.each(targets)('resume decisions: %s', (_name, start) => {
  let target: Target;
  beforeAll(async () => {
    target = await start();
  });
  afterAll(async () => {
    await target?.close();
  });

  test('control: an unchanged file resumes from the server offset', async () => {
    const f = await makeRandomFile(dir, 12 * MiB);
    const store = new JsonFileStore(path.join(dir, `s-${Date.now()}-a.json`));
    const o: UploadOptions = { endpoint: target.endpoint, chunkSize: 2 * MiB, store };
    const url = await partial(f.path, o, 4 * MiB);
    const { r, events } = await full(f.path, o);
    expect(r.url).toBe(url);
    expect(events[0]).toMatch(/^resumed@\d+$/);
    expect(Number(events[0]!.split('@')[1])).toBeGreaterThanOrEqual(4 * MiB);
    expect(await target.sha256Of(r.url)).toBe(f.sha256);
  });

  test('stored URL answering 404/410 -> restarted event, fresh upload, exact bytes', async () => {
    const f = await makeRandomFile(dir, 10 * MiB);
    const store = new JsonFileStore(path.join(dir, `s-${Date.now()}-b.json`));
    const o: UploadOptions = { endpoint: target.endpoint, chunkSize: 2 * MiB, store };
    const oldUrl = await partial(f.path, o, 2 * MiB);
    await terminateUpload(oldUrl); // the server forgets it; the store still has it
    expect((await store.list()).map((e) => e.uploadUrl)).toEqual([oldUrl]);
    const head = await fetch(oldUrl, { method: 'HEAD', headers: { 'Tus-Resumable': '1.0.0' } });
    expect([404, 410]).toContain(head.status);

    const { r, events } = await full(f.path, o);
    expect(r.url).not.toBe(oldUrl);
    expect(events).toEqual([`restarted:${head.status}`, 'created']);
    expect(await target.sha256Of(r.url)).toBe(f.sha256);
    expect(await store.list()).toEqual([]);
  });

  test('changed file (same size, same mtime, other content) starts a new upload', async () => {
    const f = await makeRandomFile(dir, 10 * MiB);
    const when = 1_700_000_000; // whole seconds: identical mtime on every filesystem
    await utimes(f.path, when, when);
    const store = new JsonFileStore(path.join(dir, `s-${Date.now()}-c.json`));
    const o: UploadOptions = { endpoint: target.endpoint, chunkSize: 2 * MiB, store };
    const oldUrl = await partial(f.path, o, 4 * MiB);

    const other = await makeRandomFile(dir, 10 * MiB);
    await writeFile(f.path, await readFile(other.path));
    await utimes(f.path, when, when);
    expect((await stat(f.path)).mtimeMs).toBe(when * 1000);
    expect(sha256(await readFile(f.path))).toBe(other.sha256);

    const { r, events } = await full(f.path, o);
    expect(r.url).not.toBe(oldUrl);
    expect(events).toEqual(['created']);
    expect(await target.sha256Of(r.url)).toBe(other.sha256);
    // The old upload still holds only the old file's first bytes; it was never touched.
    const head = await fetch(oldUrl, { method: 'HEAD', headers: { 'Tus-Resumable': '1.0.0' } });
    expect(Number(head.headers.get('Upload-Offset'))).toBeLessThan(10 * MiB);
  });
});
