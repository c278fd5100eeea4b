// Browser stores without a browser: the localStorage fallback when IndexedDB is missing,
// and quota errors reported (StoreQuotaError; an upload fails with kind 'store', a
// parallel upload's offset writes emit storeError). IndexedDB itself runs in Chromium:
// e2e/client-demo.test.ts.

import { blobSource } from '../src/sources/blob.js';
import { openBrowserStore } from '../src/stores/browser.js';
import { LocalStorageStore, type StorageLike } from '../src/stores/local-storage.js';
import { MemoryStore } from '../src/stores/memory.js';
import { isQuotaExceeded, StoreQuotaError } from '../src/stores/quota.js';
import type { StoredUpload } from '../src/stores/types.js';
import { Upload } from '../src/upload.js';
import { bytes, FakeTusServer } from './fake-server.js';

const ENDPOINT = 'http://127.0.0.1:1/files';

/** A DOMException as browsers throw it when storage is full. */
const quotaDom = () => new DOMException('The quota has been exceeded.', 'QuotaExceededError');

class FullStorage implements StorageLike {
  length = 0;
  key() {
    return null;
  }
  getItem() {
    return null;
  }
  setItem(): void {
    throw quotaDom();
  }
  removeItem() {}
}

const entry: StoredUpload = {
  fingerprint: 'fp',
  uploadUrl: 'http://127.0.0.1/files/1',
  endpoint: ENDPOINT,
  size: 1,
  metadata: {},
  createdAt: new Date(0).toISOString(),
};

test('quota errors are recognised the ways browsers raise them', () => {
  expect(isQuotaExceeded(quotaDom())).toBe(true);
  expect(isQuotaExceeded({ name: 'NS_ERROR_DOM_QUOTA_REACHED' })).toBe(true);
  expect(isQuotaExceeded({ code: 22 })).toBe(true);
  expect(isQuotaExceeded(new Error('disk on fire'))).toBe(false);
  expect(isQuotaExceeded(null)).toBe(false);
});

test('LocalStorageStore: a full storage rejects with StoreQuotaError, not silently', async () => {
  const store = new LocalStorageStore(new FullStorage());
  const err = await store.set(entry).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(StoreQuotaError);
  expect((err as StoreQuotaError).storage).toBe('localStorage');
  expect((err as Error).message).toMatch(/quota exceeded.*cannot resume after a reload/);
  expect((err as Error).cause).toBeInstanceOf(DOMException);
});

test('openBrowserStore: no IndexedDB -> localStorage, and says why', async () => {
  const g = globalThis as { localStorage?: StorageLike; indexedDB?: unknown };
  expect(g.indexedDB).toBeUndefined(); // Node has none
  g.localStorage = new FullStorage();
  try {
    const b = await openBrowserStore();
    expect(b.kind).toBe('localStorage');
    expect(b.store).toBeInstanceOf(LocalStorageStore);
    expect(b.fallbackReason).toBe('no IndexedDB in this environment');
  } finally {
    delete g.localStorage;
  }
});

test('openBrowserStore: an IndexedDB that refuses to open -> localStorage', async () => {
  const g = globalThis as { localStorage?: StorageLike };
  g.localStorage = new FullStorage();
  const refusing = {
    open() {
      throw new DOMException('A mutation operation was attempted', 'InvalidStateError');
    },
  } as unknown as IDBFactory;
  try {
    const b = await openBrowserStore({ indexedDB: refusing });
    expect(b.kind).toBe('localStorage');
    expect(b.fallbackReason).toMatch(/^IndexedDB did not open: A mutation operation/);
  } finally {
    delete g.localStorage;
  }
});

/** A store whose writes fail as a full browser storage does, after `okWrites` writes. */
class FullAfter extends MemoryStore {
  writes = 0;
  constructor(private readonly okWrites: number) {
    super();
  }
  override async set(e: StoredUpload) {
    if (++this.writes > this.okWrites) throw new StoreQuotaError('IndexedDB', quotaDom());
    await super.set(e);
  }
}

test('a single upload whose URL cannot be stored fails with kind store', async () => {
  const server = new FakeTusServer();
  const upload = new Upload(blobSource(new File([bytes(3000, 1)], 'a.bin')), {
    endpoint: ENDPOINT,
    fetch: server.fetch,
    chunkSize: 1000,
    store: new FullAfter(0),
  });
  const err = await upload.start().catch((e: unknown) => e);
  expect(err).toMatchObject({ kind: 'store', name: 'TusError' });
  expect((err as Error).message).toMatch(/IndexedDB quota exceeded/);
});

test('a parallel upload reports offset writes the store refused (storeError) and completes', async () => {
  const server = new FakeTusServer();
  server.extensions = 'creation,creation-with-upload,termination,concatenation';
  server.partSize = 1000;
  const data = bytes(4000, 2);
  const store = new FullAfter(2); // the two partial URLs fit; offsets do not
  const upload = new Upload(blobSource(new File([data], 'p.bin')), {
    endpoint: ENDPOINT,
    fetch: server.fetch,
    chunkSize: 500,
    retry: { delays: [0] },
    parallel: 2,
    store,
  });
  const storeErrors: string[] = [];
  upload.on('storeError', (e) => storeErrors.push(`${e.kind}: ${e.message}`));
  const r = await upload.start();
  expect(Buffer.from(server.bytesOf(r.url))).toEqual(Buffer.from(data));
  expect(storeErrors.length).toBeGreaterThan(0);
  expect(storeErrors[0]).toMatch(/^store: resume store full \(IndexedDB quota exceeded\)/);
});
