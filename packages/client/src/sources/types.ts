import type { ChecksumAlgorithm } from '../checksum/algorithms.js';
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

/** Feeds a hash with the source's bytes from a start offset on. */
export interface RangeDigester {
  /** Offset up to which bytes were hashed. */
  readonly position: number;
  /** Hashes [position, to); calls are serialised. */
  advance(to: number): Promise<void>;
  digest(): Uint8Array;
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
  /** The Blob behind a Blob source, which a Worker can hash off the main thread. */
  readonly blob?: Blob;
  /** Reads [start, end). Streams may return fewer bytes at the end. */
  read(start: number, end: number): Promise<SourceChunk>;
  /**
   * Optional: an incremental digest of the source from `start`, for Upload-Checksum,
   * computed by the source itself with bounded memory (Node file: node:crypto over ranged
   * reads) so a streamed body needs no copy in memory, and so the next chunk can be hashed
   * while this one is sent. Without it the upload hashes the chunk's body (checksum/digest.ts).
   */
  digester?(start: number, algorithm: ChecksumAlgorithm): RangeDigester;
  /** Size, mtime and sampled content hash for the fingerprint; null: do not resume. */
  identity(): Promise<SourceIdentity | null>;
  close(): Promise<void>;
}
