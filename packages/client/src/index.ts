/**
 * @tus-s3/client — tus 1.0 client core. Uses fetch and no Node built-ins: the same code
 * runs in browsers, React Native and Node 20. Node-only parts: `@tus-s3/client/node`.
 */
export {
  type AdaptiveChunkOptions,
  type ChunkSizeOption,
  ChunkSizer,
  parseChunkSize,
  parseSize,
} from './chunk-size.js';
export { isTusError, TusError, type TusErrorKind } from './errors.js';
export { fingerprintKey, type SourceIdentity, sampleHash, samplePlan } from './fingerprint.js';
export { decodeMetadata, encodeMetadata } from './metadata.js';
export { type Decision, decide, type Phase } from './policy.js';
export {
  backoffCeiling,
  backoffDelay,
  parseRetryDelays,
  RetryBudget,
  type RetryOptions,
  retryPolicy,
} from './retry.js';
export { blobSource } from './sources/blob.js';
export { type StreamSourceOptions, streamSource } from './sources/stream.js';
export type { SourceChunk, UploadSource } from './sources/types.js';
export { LocalStorageStore, type StorageLike } from './stores/local-storage.js';
export { MemoryStore } from './stores/memory.js';
export type { StoredUpload, UploadStore } from './stores/types.js';
export {
  type ProgressEvent,
  type RequestInfo,
  TUS_VERSION,
  terminateUpload,
  Upload,
  type UploadEvents,
  type UploadOptions,
  type UploadResult,
  type UploadState,
} from './upload.js';
