/** One unfinished upload, as remembered by a resume store. */
export interface StoredUpload {
  fingerprint: string;
  uploadUrl: string;
  endpoint: string;
  /** null: deferred length. */
  size: number | null;
  metadata: Record<string, string>;
  /** ISO date. */
  createdAt: string;
}

/** Remembers upload URLs by source fingerprint so a later run can resume. */
export interface UploadStore {
  get(fingerprint: string): Promise<StoredUpload | undefined>;
  set(entry: StoredUpload): Promise<void>;
  remove(fingerprint: string): Promise<void>;
  list(): Promise<StoredUpload[]>;
}
