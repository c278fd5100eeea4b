/**
 * Writes one resume-store entry from several concurrent partial uploads. Writes are
 * serialised (a store such as JsonFileStore does a locked read-modify-write each time)
 * and coalesced: while one write runs, any number of updates become one next write.
 */
import type { StoredUpload, UploadStore } from '../stores/types.js';

export class EntryWriter {
  private chain: Promise<void> = Promise.resolve();
  private queued = false;

  constructor(
    private readonly store: UploadStore,
    /** The entry as it should be now; null: nothing worth writing yet. */
    private readonly build: () => StoredUpload | null,
  ) {}

  /** Writes the current state; resolves once it is in the store (errors propagate). */
  flush(): Promise<void> {
    if (!this.queued) {
      this.queued = true;
      this.chain = this.chain
        .catch(() => {})
        .then(async () => {
          this.queued = false;
          const e = this.build();
          if (e) await this.store.set(e);
        });
    }
    return this.chain;
  }

  /**
   * Does not wait: offsets are informational (HEAD decides on resume), so a failed write
   * does not stop the upload, but `onError` hears of it (e.g. a full store).
   */
  schedule(onError: (e: unknown) => void): void {
    this.flush().catch(onError);
  }
}
