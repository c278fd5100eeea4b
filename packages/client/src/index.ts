/**
 * @tus-s3/client — tus 1.0 client core. Uses fetch and no Node built-ins: the same code
 * runs in browsers, React Native and Node 20. Node-only parts: `@tus-s3/client/node`.
 * Exactly the API the README documents: the Upload, its option and event types, errors,
 * sources and stores (with what implementing one needs). Everything else is internal
 * (unit tests import it from its module).
 */
export type { ChecksumAlgorithm, ChecksumOption } from './checksum/algorithms.js';
export type { DigestOption } from './checksum/whole-file.js';
export type { AdaptiveChunkOptions, ChunkSizeOption } from './chunk-size.js';
export { DigestMismatchError, isTusError, TusError, type TusErrorKind } from './errors.js';
export { type SourceIdentity, sampleHash } from './fingerprint.js';
export type { RetryOptions } from './retry.js';
export { blobSource } from './sources/blob.js';
export { type StreamSourceOptions, streamSource } from './sources/stream.js';
export type { RangeDigester, SourceChunk, UploadSource } from './sources/types.js';
export { type BrowserStore, openBrowserStore } from './stores/browser.js';
export { IndexedDBStore, type IndexedDBStoreOptions } from './stores/indexed-db.js';
export { LocalStorageStore, type StorageLike } from './stores/local-storage.js';
export { MemoryStore } from './stores/memory.js';
export { StoreQuotaError } from './stores/quota.js';
export type { StoredPartial, StoredUpload, UploadStore } from './stores/types.js';
export {
  type InstantReason,
  type InstantReport,
  type PartialEvent,
  type PartialState,
  type ProgressEvent,
  type RequestInfo,
  terminateUpload,
  Upload,
  type UploadEvents,
  type UploadOptions,
  type UploadResult,
  type UploadState,
} from './upload.js';
