/** One partial upload of a parallel upload (tus concatenation). */
export interface StoredPartial {
  /** Byte range of the file this partial carries. */
  start: number;
  end: number;
  /** null until its POST succeeded. */
  uploadUrl: string | null;
  /** Bytes of the range the server acknowledged when last written (the server's HEAD decides). */
  offset: number;
}

/** One unfinished upload, as remembered by a resume store. */
export interface StoredUpload {
  fingerprint: string;
  /** The upload's URL; for a parallel upload, its first partial's (see `partials`). */
  uploadUrl: string;
  endpoint: string;
  /** null: deferred length. */
  size: number | null;
  metadata: Record<string, string>;
  /** ISO date. */
  createdAt: string;
  /** The Repr-Digest declared at creation (option `digest`): a resume does not hash again. */
  digest?: string;
  /** Parallel upload: every partial, in file order; the final is created when all are done. */
  partials?: StoredPartial[];
  /**
   * Parallel upload whose final was created before its partials' bytes (the server's
   * concatenation-unfinished): the partials write into it, and it completes with them.
   */
  finalUrl?: string;
}

/** Remembers upload URLs by source fingerprint so a later run can resume. */
export interface UploadStore {
  get(fingerprint: string): Promise<StoredUpload | undefined>;
  set(entry: StoredUpload): Promise<void>;
  remove(fingerprint: string): Promise<void>;
  list(): Promise<StoredUpload[]>;
}
