/**
 * The browser's resume store: IndexedDB where it opens, else localStorage (old WebViews,
 * some private modes where IndexedDB is missing or refuses to open).
 */
import { IndexedDBStore, type IndexedDBStoreOptions } from './indexed-db.js';
import { LocalStorageStore } from './local-storage.js';
import type { UploadStore } from './types.js';

export interface BrowserStore {
  store: UploadStore;
  /** Which storage it uses. */
  kind: 'indexeddb' | 'localStorage';
  /** Why IndexedDB was not used (absent when it is). */
  fallbackReason?: string;
}

/** Opens IndexedDB (options as IndexedDBStore's); falls back to localStorage. */
export async function openBrowserStore(o: IndexedDBStoreOptions = {}): Promise<BrowserStore> {
  const factory = o.indexedDB ?? globalThis.indexedDB;
  let reason = 'no IndexedDB in this environment';
  if (factory) {
    const store = new IndexedDBStore({ ...o, indexedDB: factory });
    try {
      await store.open();
      return { store, kind: 'indexeddb' };
    } catch (e) {
      reason = `IndexedDB did not open: ${(e as Error)?.message ?? String(e)}`;
    }
  }
  return { store: new LocalStorageStore(), kind: 'localStorage', fallbackReason: reason };
}
