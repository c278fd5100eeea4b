/**
 * Browser store in IndexedDB: one record per fingerprint, the StoredUpload object itself
 * (structured clone, so a parallel upload's partials array is kept as is). Unlike
 * localStorage it is asynchronous, not limited to ~5 MB per origin, and usable from
 * workers. A write the origin's quota refuses rejects with StoreQuotaError.
 */
import { asStoreError } from './quota.js';
import type { StoredUpload, UploadStore } from './types.js';

export interface IndexedDBStoreOptions {
  /** Database name (default 'tus-s3'). */
  database?: string;
  /** Object store name (default 'uploads'). */
  objectStore?: string;
  /** The IndexedDB factory (default globalThis.indexedDB). */
  indexedDB?: IDBFactory;
}

const VERSION = 1;

export class IndexedDBStore implements UploadStore {
  private readonly factory: IDBFactory;
  private readonly database: string;
  private readonly objectStore: string;
  private opening: Promise<IDBDatabase> | null = null;

  constructor(o: IndexedDBStoreOptions = {}) {
    const factory = o.indexedDB ?? globalThis.indexedDB;
    if (!factory) throw new Error('IndexedDBStore: no IndexedDB in this environment');
    this.factory = factory;
    this.database = o.database ?? 'tus-s3';
    this.objectStore = o.objectStore ?? 'uploads';
  }

  /** Opens the database now (the first call does it otherwise); rejects when it cannot. */
  open(): Promise<IDBDatabase> {
    if (!this.opening) {
      this.opening = openDatabase(this.factory, this.database, this.objectStore);
      // A failed open (private mode, blocked) is retried by the next call.
      this.opening.then(
        (db) => {
          // Another tab upgrading the schema, or the browser clearing site data: reopen later.
          db.onversionchange = () => this.reset(db);
          db.onclose = () => this.reset(db);
        },
        () => {
          this.opening = null;
        },
      );
    }
    return this.opening;
  }

  async get(fp: string): Promise<StoredUpload | undefined> {
    const e = await this.request('readonly', (s) => s.get(fp));
    return valid(e) ? e : undefined;
  }
  async set(entry: StoredUpload): Promise<void> {
    await this.request('readwrite', (s) => s.put(entry));
  }
  async remove(fp: string): Promise<void> {
    await this.request('readwrite', (s) => s.delete(fp));
  }
  async list(): Promise<StoredUpload[]> {
    const all = await this.request('readonly', (s) => s.getAll());
    return (all as unknown[]).filter(valid);
  }

  private reset(db: IDBDatabase): void {
    db.close();
    this.opening = null;
  }

  /** One request in its own transaction; resolves with its result once the transaction committed. */
  private async request<T>(
    mode: IDBTransactionMode,
    make: (s: IDBObjectStore) => IDBRequest<T>,
  ): Promise<T> {
    const db = await this.open();
    return new Promise<T>((resolve, reject) => {
      let tx: IDBTransaction;
      try {
        tx = db.transaction(this.objectStore, mode);
      } catch (e) {
        reject(asStoreError(e, 'IndexedDB'));
        return;
      }
      const req = make(tx.objectStore(this.objectStore));
      // A write is durable at `complete`; the quota is often only checked at commit, where
      // it shows as the transaction's error in `abort`.
      tx.oncomplete = () => resolve(req.result);
      tx.onabort = () => reject(asStoreError(tx.error ?? req.error, 'IndexedDB'));
      tx.onerror = (ev) => ev.preventDefault(); // let onabort report it once
    });
  }
}

function openDatabase(factory: IDBFactory, name: string, store: string): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    let req: IDBOpenDBRequest;
    try {
      req = factory.open(name, VERSION);
    } catch (e) {
      reject(e);
      return;
    }
    req.onupgradeneeded = () => {
      if (!req.result.objectStoreNames.contains(store)) {
        req.result.createObjectStore(store, { keyPath: 'fingerprint' });
      }
    };
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(asStoreError(req.error, 'IndexedDB'));
    req.onblocked = () => reject(new Error(`IndexedDB "${name}" is held open by another tab`));
  });
}

function valid(e: unknown): e is StoredUpload {
  const u = e as Partial<StoredUpload> | undefined;
  return typeof u?.uploadUrl === 'string' && typeof u.fingerprint === 'string';
}
