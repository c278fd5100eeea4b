// What building or completing a final upload needs from the store: its S3 context and the
// store's own operations (loading, finishing and removing an upload, its memory of them).
import type { Upload } from '@tus/utils';
import type { StoreContext } from '../context.js';
import type { UploadInfo } from '../info.js';
import type { PartList } from '../parts/list.js';
import type { Progress } from '../state/progress.js';
import type { UploadState } from '../state/upload-state.js';
import type { FinalLock } from './final-lock.js';

/**
 * What the store's work for one request found that its response tells: the entry point
 * that started the work passes it down, the work fills it in.
 */
export interface Findings {
  /** A direct or waiting final this work completed (not the request's own upload). */
  finishedFinal?: string;
}

/** A created upload, and the info that describes it. */
export interface Created {
  upload: Upload;
  info: UploadInfo;
}

export interface FinalDeps {
  ctx: StoreContext;
  /** The store's preferred part size, if configured. */
  partSizeOption: number | undefined;
  /** Parts of a final built at once. */
  concurrency: number;
  loadState(id: string, findings?: Findings): Promise<UploadState>;
  finish(info: UploadInfo, progress: Progress): Promise<UploadInfo>;
  remove(id: string): Promise<void>;
  /** `generation`: of the request's lock on the upload (s3/state/upload-state.ts). */
  remember(state: UploadState, generation?: number): void;
  /** Drops what the store remembers of an upload (its info changed under it). */
  forget(info: UploadInfo): void;
  parts: PartList;
  /** Takes a final's tus lock for the current request (s3/concat/final-lock.ts). */
  lockFinal(finalId: string): Promise<FinalLock>;
  /** Direct finals being completed by this process (s3/concat/direct-final.ts). */
  settling: Map<string, Promise<UploadInfo | undefined>>;
}
