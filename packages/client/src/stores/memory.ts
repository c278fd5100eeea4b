import type { StoredUpload, UploadStore } from './types.js';

/** In-process store (tests, short-lived scripts). */
export class MemoryStore implements UploadStore {
  private readonly map = new Map<string, StoredUpload>();
  async get(fp: string) {
    const e = this.map.get(fp);
    return e ? structuredClone(e) : undefined;
  }
  async set(entry: StoredUpload) {
    this.map.set(entry.fingerprint, structuredClone(entry));
  }
  async remove(fp: string) {
    this.map.delete(fp);
  }
  async list() {
    return [...this.map.values()].map((e) => structuredClone(e));
  }
}
