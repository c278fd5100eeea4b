/** What an Upload reports: its events, progress, result and state. */
import type { ChecksumAlgorithm } from './checksum/algorithms.js';
import type { DigestThread } from './checksum/whole-file.js';
import type { TusError } from './errors.js';
import type { StoredPartial } from './stores/types.js';

export interface ProgressEvent {
  /** Bytes handed to the connection (never decreases). */
  bytesSent: number;
  /** Bytes the server confirmed (never decreases). */
  bytesAcknowledged: number;
  /** null while the length is deferred. */
  bytesTotal: number | null;
}

export interface UploadEvents {
  progress: ProgressEvent;
  /** A PATCH (or POST with data) was acknowledged. */
  chunk: {
    offset: number;
    length: number;
    bytesAcknowledged: number;
    durationMs: number;
    nextChunkSize: number;
  };
  created: { url: string };
  /** Continuing a known upload from the server's offset. */
  resumed: { url: string; offset: number };
  /** The stored upload is gone (404/410): a new one is started from byte 0. */
  restarted: { previousUrl: string; status: number };
  retry: { attempt: number; delayMs: number; error: TusError };
  /** The whole-file digest (option `digest`), computed now or taken from the resume store. */
  digest: { reprDigest: string; fromStore: boolean; thread?: DigestThread };
  /** Option `dedupe`: whether the server had the content (no byte sent) or it was uploaded. */
  instant: InstantReport;
  /** The checksum algorithm chosen for this upload (null: none). */
  checksum: { algorithm: ChecksumAlgorithm | null };
  /** `parallel` was asked for but the upload goes as one; says why. */
  fallback: { reason: string };
  /** A parallel upload starts (or resumes) with these partials; alignment null when resumed. */
  parallel: { partials: StoredPartial[]; alignment: number | null; resumed: boolean };
  /** One partial of a parallel upload was created, resumed, restarted or finished. */
  partial: PartialEvent;
  /**
   * A resume-store write the upload did not wait for failed (a parallel upload's offsets;
   * `kind: 'store'` when the storage is full). The upload goes on; a write it waits for
   * (an upload URL) fails the upload instead.
   */
  storeError: TusError;
  paused: undefined;
  success: UploadResult;
  error: TusError;
}

export type PartialState = 'created' | 'resumed' | 'restarted' | 'done';

/** One partial of a parallel upload, as its parent reports it. */
export interface PartialEvent {
  index: number;
  count: number;
  state: PartialState;
  url: string;
  /** Bytes of this partial the server has (its own offset, not the file's). */
  offset: number;
}

export interface UploadResult {
  url: string;
  size: number;
  /** With option `dedupe`: what the instant-upload attempt came to. */
  instant?: InstantReport;
}

/**
 * Why a `dedupe` upload was sent normally:
 * - 'not-proven': the server answered the proof with offset 0 (it does not store this
 *   content for the tenant, or the challenge failed; it does not say which);
 * - 'no-challenge': the creation was answered without a challenge (server without the
 *   instant-upload extension);
 * - 'refused': the creation with `Upload-Instant` was answered 400; created again without it;
 * - 'failed': a request of the attempt failed (network, 5xx...); not tried again;
 * - 'resumed': a stored upload (or `uploadUrl`) was continued; its single-use challenge
 *   went to the run that created it;
 * - 'empty': a 0-byte file (nothing to prove).
 */
export type InstantReason =
  | 'not-proven'
  | 'no-challenge'
  | 'refused'
  | 'failed'
  | 'resumed'
  | 'empty';

export interface InstantReport {
  outcome: 'instant' | 'uploaded';
  /** Set when `outcome` is 'uploaded'. */
  reason?: InstantReason;
  /** One human sentence (what the CLI prints). */
  message: string;
}

export type UploadState = 'idle' | 'running' | 'paused' | 'done' | 'failed' | 'aborted';
