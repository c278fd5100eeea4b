import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JsonFileStore } from '../src/stores/json-file.js';
import { LocalStorageStore, type StorageLike } from '../src/stores/local-storage.js';
import { MemoryStore } from '../src/stores/memory.js';
import type { StoredUpload, UploadStore } from '../src/stores/types.js';

const entry = (i: number): StoredUpload => ({
  fingerprint: `fp-${i}`,
  uploadUrl: `http://127.0.0.1/files/${i}`,
  endpoint: 'http://127.0.0.1/files',
  size: i,
  metadata: { filename: `f${i} ü` },
  createdAt: new Date(0).toISOString(),
});

class FakeStorage implements StorageLike {
  private m = new Map<string, string>();
  get length() {
    return this.m.size;
  }
  key(i: number) {
    return [...this.m.keys()][i] ?? null;
  }
  getItem(k: string) {
    return this.m.get(k) ?? null;
  }
  setItem(k: string, v: string) {
    this.m.set(k, v);
  }
  removeItem(k: string) {
    this.m.delete(k);
  }
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'client-stores-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const stores: Array<[string, () => UploadStore]> = [
  ['memory', () => new MemoryStore()],
  ['localStorage', () => new LocalStorageStore(new FakeStorage())],
  ['json file', () => new JsonFileStore(join(dir, `s-${Math.random()}.json`))],
];

describe.each(stores)('%s store', (_name, make) => {
  test('set / get / list / remove', async () => {
    const s = make();
    expect(await s.get('fp-1')).toBeUndefined();
    await s.set(entry(1));
    await s.set(entry(2));
    expect(await s.get('fp-1')).toEqual(entry(1));
    expect((await s.list()).map((e) => e.fingerprint).sort()).toEqual(['fp-1', 'fp-2']);
    await s.set({ ...entry(1), uploadUrl: 'http://127.0.0.1/files/new' });
    expect((await s.get('fp-1'))?.uploadUrl).toBe('http://127.0.0.1/files/new');
    await s.remove('fp-1');
    expect(await s.get('fp-1')).toBeUndefined();
    expect(await s.list()).toHaveLength(1);
  });
});

describe('JsonFileStore', () => {
  test('concurrent writers through separate instances lose nothing and leave no temp files', async () => {
    const path = join(dir, 'shared', 'store.json');
    const a = new JsonFileStore(path);
    const b = new JsonFileStore(path);
    await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).set(entry(i))));
    expect((await a.list()).length).toBe(40);
    await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? b : a).remove(`fp-${i}`)));
    expect((await b.list()).map((e) => e.size).sort((x, y) => (x ?? 0) - (y ?? 0))).toEqual(
      Array.from({ length: 20 }, (_, i) => i + 20),
    );
    expect((await readdir(join(dir, 'shared'))).sort()).toEqual(['store.json']);
    expect(JSON.parse(await readFile(path, 'utf8')).version).toBe(1);
  });

  test('a stale lock left by a killed process is taken over', async () => {
    const path = join(dir, 'stale.json');
    await writeFile(`${path}.lock`, '999999\n');
    const s = new JsonFileStore(path, { staleLockMs: 0 });
    await s.set(entry(1));
    expect(await s.get('fp-1')).toEqual(entry(1));
  });

  test('removeUrl and a corrupt file', async () => {
    const path = join(dir, 'corrupt.json');
    await writeFile(path, '{not json');
    const s = new JsonFileStore(path);
    expect(await s.list()).toEqual([]);
    await s.set(entry(1));
    await s.set(entry(2));
    await s.removeUrl(entry(1).uploadUrl);
    expect((await s.list()).map((e) => e.fingerprint)).toEqual(['fp-2']);
  });
});
