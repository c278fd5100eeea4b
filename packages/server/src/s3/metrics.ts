// The store's counters, shared by every module that asks something of S3.
import type { ConcatCounters } from './concat/build-parts.js';

/** Counters for tests and operators: what the store asked of S3. */
export interface StoreMetrics extends ConcatCounters {
  partsUploaded: number;
  partBytesUploaded: number;
  /** Parts sent to S3 while their bytes were still arriving. */
  partsStreamed: number;
  /** Failed part uploads resent from the part buffer (it was still held). */
  partsResent: number;
  /**
   * Failed part uploads that could not be resent: the kernel had every byte, so the buffer
   * was already reused. Their PATCH failed; the client resumes from its acknowledged offset.
   */
  partsFailedAfterSend: number;
  segmentsWritten: number;
  segmentBytesWritten: number;
  segmentBytesReadBack: number;
  /** Segments written over the newest staged ones, merged with them (s3/staging/compaction.ts). */
  segmentMerges: number;
  completed: number;
  /** Requests whose body matched its Upload-Checksum, and those that did not (460). */
  checksumsVerified: number;
  checksumMismatches: number;
  /** Whole parts of checksummed requests staged before verification, then made parts. */
  pendingPartsStaged: number;
  pendingPartsCommitted: number;
  pendingBytesCommitted: number;
  /** Partials that write straight into their final's multipart upload (s3/concat/direct-final.ts). */
  partialsAdopted: number;
  /** Instant-upload proofs that held (the upload made by a copy), and those answered 0. */
  instantProven: number;
  instantRefused: number;
}

export function newMetrics(): StoreMetrics {
  return {
    partsUploaded: 0,
    partBytesUploaded: 0,
    partsStreamed: 0,
    partsResent: 0,
    partsFailedAfterSend: 0,
    segmentsWritten: 0,
    segmentBytesWritten: 0,
    segmentBytesReadBack: 0,
    segmentMerges: 0,
    completed: 0,
    partsCopied: 0,
    bytesCopied: 0,
    partsAssembled: 0,
    bytesAssembled: 0,
    checksumsVerified: 0,
    checksumMismatches: 0,
    pendingPartsStaged: 0,
    pendingPartsCommitted: 0,
    pendingBytesCommitted: 0,
    partialsAdopted: 0,
    instantProven: 0,
    instantRefused: 0,
  };
}
