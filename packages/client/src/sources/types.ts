import type { SourceIdentity } from '../fingerprint.js';

/** Bytes for one request, read lazily from the source. */
export interface SourceChunk {
  /** A Blob (browser/RN), bytes, or a stream (Node file source: bounded memory). */
  body: Blob | Uint8Array | ReadableStream<Uint8Array>;
  /** Number of bytes in `body`. */
  size: number;
  /** True when no byte follows this chunk (lets deferred-length uploads declare their size). */
  last: boolean;
}

/** Where the upload's bytes come from. */
export interface UploadSource {
  /** Total size, or null when unknown until the end (streams: deferred length). */
  readonly size: number | null;
  /** Default `filename` metadata. */
  readonly name?: string;
  /** Default `filetype` metadata. */
  readonly type?: string;
  /**
   * True when any range can be read again (files, Blobs). Streams are not: they can only
   * repeat the last chunk, so a lost upload cannot restart from byte 0.
   */
  readonly rereadable: boolean;
  /** Reads [start, end). Streams may return fewer bytes at the end. */
  read(start: number, end: number): Promise<SourceChunk>;
  /** Size, mtime and sampled content hash for the fingerprint; null: do not resume. */
  identity(): Promise<SourceIdentity | null>;
  close(): Promise<void>;
}
