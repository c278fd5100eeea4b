/**
 * One upload's entry in the resume store: found by the source's fingerprint under the
 * endpoint, written once the upload URL is known, removed when the upload is done, gone
 * on the server, or terminated. Without a store or a fingerprint every call does nothing.
 */
import { fingerprintKey } from './fingerprint.js';
import type { UploadOptions } from './options.js';
import type { UploadSource } from './sources/types.js';
import type { StoredUpload, UploadStore } from './stores/types.js';

export type EntryFields = Omit<StoredUpload, 'fingerprint' | 'uploadUrl' | 'partials'>;

export class ResumeRecord {
  readonly store: UploadStore | null;
  /** Known once load() found an identity for the source. */
  fingerprint: string | null = null;

  constructor(private readonly o: UploadOptions) {
    this.store = o.store ?? null;
  }

  /**
   * Fingerprints the source; unless `lookup` is false or `resume` is off, returns the
   * stored upload to resume.
   */
  async load(source: UploadSource, lookup: boolean): Promise<StoredUpload | undefined> {
    if (this.store && this.o.endpoint) {
      const id = await source.identity();
      if (id) this.fingerprint = fingerprintKey(this.o.endpoint, id);
    }
    if (!lookup || !this.store || !this.fingerprint || this.o.resume === false) return undefined;
    return this.store.get(this.fingerprint);
  }

  /** The entry's fixed fields under this fingerprint; null when nothing is remembered. */
  entry(fields: EntryFields): Omit<StoredUpload, 'uploadUrl' | 'partials'> | null {
    return this.fingerprint ? { fingerprint: this.fingerprint, ...fields } : null;
  }

  /** Remembers a single upload's URL. */
  async save(uploadUrl: string, fields: EntryFields): Promise<void> {
    if (!this.store || !this.fingerprint) return;
    await this.store.set({ fingerprint: this.fingerprint, uploadUrl, ...fields });
  }

  async forget(): Promise<void> {
    if (this.store && this.fingerprint) await this.store.remove(this.fingerprint);
  }

  /** The upload completed: forget it unless told to keep it. */
  async finished(): Promise<void> {
    if (this.o.removeFromStoreOnSuccess !== false) await this.forget();
  }
}
