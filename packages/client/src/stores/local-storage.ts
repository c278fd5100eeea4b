import { asStoreError } from './quota.js';
import type { StoredUpload, UploadStore } from './types.js';

/** Minimal Web Storage shape (window.localStorage, or a test double). */
export interface StorageLike {
  readonly length: number;
  key(index: number): string | null;
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/** Browser store: one localStorage item per fingerprint, under `prefix`. */
export class LocalStorageStore implements UploadStore {
  constructor(
    private readonly storage: StorageLike = globalThis.localStorage,
    private readonly prefix = 'tus-s3:',
  ) {
    if (!storage) throw new Error('LocalStorageStore: no localStorage in this environment');
  }

  async get(fp: string): Promise<StoredUpload | undefined> {
    return parse(this.storage.getItem(this.prefix + fp));
  }
  /** Rejects with StoreQuotaError when the origin's storage is full. */
  async set(entry: StoredUpload): Promise<void> {
    try {
      this.storage.setItem(this.prefix + entry.fingerprint, JSON.stringify(entry));
    } catch (e) {
      throw asStoreError(e, 'localStorage');
    }
  }
  async remove(fp: string): Promise<void> {
    this.storage.removeItem(this.prefix + fp);
  }
  async list(): Promise<StoredUpload[]> {
    const out: StoredUpload[] = [];
    for (let i = 0; i < this.storage.length; i++) {
      const k = this.storage.key(i);
      if (k?.startsWith(this.prefix)) {
        const e = parse(this.storage.getItem(k));
        if (e) out.push(e);
      }
    }
    return out;
  }
}

function parse(text: string | null): StoredUpload | undefined {
  if (!text) return undefined;
  try {
    const e = JSON.parse(text) as StoredUpload;
    return typeof e?.uploadUrl === 'string' && typeof e.fingerprint === 'string' ? e : undefined;
  } catch {
    return undefined;
  }
}
