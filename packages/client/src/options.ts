/** What an Upload can be told: every option of `new Upload(source, options)`. */
import type { ChecksumOption } from './checksum/algorithms.js';
import type { DigestOption } from './checksum/whole-file.js';
import type { ChunkSizeOption } from './chunk-size.js';
import type { Protocol } from './protocol/ietf-draft.js';
import type { RetryOptions } from './retry.js';
import type { UploadStore } from './stores/types.js';

/** What `onBeforeRequest` may inspect and change (headers are mutable). */
export interface RequestInfo {
  method: string;
  url: string;
  headers: Record<string, string>;
}

export interface UploadOptions {
  /**
   * 'tus' (default): tus 1.0. 'ietf-draft': the IETF resumable-upload draft, interop
   * version 8 (Upload-Complete, application/partial-upload appends); it has no checksum
   * or concatenation, so `checksum` and `parallel` do not apply, and the creation carries
   * no content.
   */
  protocol?: Protocol;
  /** Creation URL (POST). Needed unless `uploadUrl` is given. */
  endpoint?: string;
  /** Resume this upload URL instead of looking one up in the store. */
  uploadUrl?: string;
  /** Upload-Metadata, encoded exactly as UTF-8. */
  metadata?: Record<string, string>;
  /** Add `filename` and `filetype` from the source unless set (default true). */
  defaultMetadata?: boolean;
  /** Headers sent with every request. */
  headers?: Record<string, string>;
  /** Called before every request; may change `headers` (e.g. a fresh auth token). */
  onBeforeRequest?: (req: RequestInfo) => void | Promise<void>;
  /** Bytes per PATCH, or adaptive ('auto', the default). */
  chunkSize?: ChunkSizeOption;
  /** Backoff, cap and retry budget. */
  retry?: RetryOptions;
  /** Abort a request when no byte moved for this long, then retry (default 30 s; 0 = never). */
  stallTimeoutMs?: number;
  /** Resume store; null or absent = no resume across runs. */
  store?: UploadStore | null;
  /** Look for a stored upload to resume (default true). */
  resume?: boolean;
  /** Forget the stored URL once the upload completes (default true). */
  removeFromStoreOnSuccess?: boolean;
  /**
   * How long a server's OPTIONS answer is reused by later uploads to the same endpoint with
   * the same `headers` and `fetch` (default 60 000 ms; 0 = every upload asks). An upload
   * that fails drops the answer it used.
   */
  capsMaxAgeMs?: number;
  /** Send the first chunk with the POST when the server supports it (default true). */
  creationWithUpload?: boolean;
  /** Aborting it stops the upload (the upload stays resumable). */
  signal?: AbortSignal;
  /** fetch implementation (default globalThis.fetch). */
  fetch?: typeof fetch;
  /** Stream Uint8Array bodies piecewise (default: in Node only); see http.ts. */
  streamBodies?: boolean;
  /**
   * Upload-Checksum on every request with a body: 'auto' (default) uses sha256 when the
   * server advertises the checksum extension (else the best algorithm both have, else
   * none); an algorithm name insists on it (fails if the server says it lacks it); false
   * sends none.
   */
  checksum?: ChecksumOption;
  /**
   * Whole-file digest: 'sha256' hashes the whole source before the upload is created
   * (streaming, bounded memory) and declares it as `Repr-Digest: sha-256=:<base64>:`; the
   * server refuses to complete an upload whose bytes differ (460 on the last request:
   * DigestMismatchError, not retried). Needs a source of known size that can be re-read.
   */
  digest?: DigestOption;
  /**
   * Instant upload (秒传): hash the whole file (as `digest: 'sha256'`, which it implies),
   * create the upload with `Upload-Instant: ?1` and answer the server's challenge with a
   * proof over the few byte ranges it names. When the server already stores this content
   * for the tenant, the upload completes with no byte sent; otherwise it uploads normally.
   * The `instant` event and `UploadResult.instant` say which. Needs a source of known
   * size that can be re-read; with `parallel` > 1 the attempt comes first (see README).
   */
  dedupe?: boolean;
  /** Resends of one chunk the server rejected with 460 (checksum mismatch) before failing (default 3). */
  checksumRetries?: number;
  /**
   * Upload as this many partial uploads at once, joined by the server (tus concatenation),
   * each aligned to the server's S3 part size. Falls back to one upload (a `fallback`
   * event says why) when the server lacks concatenation or the source is a stream.
   */
  parallel?: number;
  /** Random source in [0, 1) for the jitter (tests). */
  random?: () => number;
}
