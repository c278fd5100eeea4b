// What building or completing a final upload needs from the store: its S3 context and the
// store's own operations (loading, finishing and removing an upload, its memory of them).
import type { StoreContext } from '../context.js';
import type { UploadInfo } from '../info.js';
import type { PartList } from '../parts/list.js';
import type { Progress } from '../state/progress.js';
import type { UploadState } from '../state/upload-state.js';

export interface FinalDeps {
  ctx: StoreContext;
  /** The store's preferred part size, if configured. */
  partSizeOption: number | undefined;
  /** Parts of a final built at once. */
  concurrency: number;
  loadState(id: string): Promise<UploadState>;
  finish(info: UploadInfo, progress: Progress): Promise<UploadInfo>;
  remove(id: string): Promise<void>;
  remember(state: UploadState): void;
  /** Drops what the store remembers of an upload (its info changed under it). */
  forget(info: UploadInfo): void;
  parts: PartList;
  /** Direct finals being completed by this process (s3/concat/direct-final.ts). */
  settling: Map<string, Promise<UploadInfo | undefined>>;
}
