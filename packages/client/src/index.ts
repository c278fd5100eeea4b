/**
 * @tus-s3/client — tus 1.0 client core. Uses fetch and no Node built-ins: the same code
 * runs in browsers, React Native and Node 20. Node-only parts: `@tus-s3/client/node`.
 */

export { DigestAhead } from './checksum/ahead.js';
export {
  CHECKSUM_ALGORITHMS,
  type ChecksumAlgorithm,
  type ChecksumCaps,
  type ChecksumOption,
  checksumHeader,
  chooseChecksum,
  isChecksumAlgorithm,
} from './checksum/algorithms.js';
export { checksumChunk } from './checksum/digest.js';
export { createHasher, digestBytes, type Hasher } from './checksum/hasher.js';
export {
  type AdaptiveChunkOptions,
  type ChunkSizeOption,
  ChunkSizer,
  parseChunkSize,
  parseSize,
} from './chunk-size.js';
export { isTusError, TusError, type TusErrorKind } from './errors.js';
export { fingerprintKey, type SourceIdentity, sampleHash, samplePlan } from './fingerprint.js';
export { type ParallelPlan, planParallel } from './parallel/plan.js';
export { AggregateProgress } from './parallel/progress.js';
export { alignmentFor, type ByteRange, DEFAULT_ALIGNMENT, splitAligned } from './parallel/split.js';
export { type Decision, decide, type Phase } from './policy.js';
export { parseCaps, type ServerCaps } from './protocol/caps.js';
export { decodeMetadata, encodeMetadata } from './protocol/metadata.js';
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
export type { RangeDigester, SourceChunk, UploadSource } from './sources/types.js';
export { LocalStorageStore, type StorageLike } from './stores/local-storage.js';
export { MemoryStore } from './stores/memory.js';
export type { StoredPartial, StoredUpload, UploadStore } from './stores/types.js';
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
export type { PartialEvent, PartialState } from './upload-events.js';
