// What S3 says about one upload at a moment, and the store's memory of it between
// requests.
//
// Every change to an upload goes through one store under @tus/server's lock, so after a
// PATCH the store knows the state as well as a listing would, and the next PATCH need not
// ask S3 (info GET + ListParts + ListObjects: three round trips and ~3 ms of RGW CPU for
// every 8 MiB a mobile client sends). The memory is only trusted where it cannot be stale
// without the client noticing: a PATCH whose Upload-Offset is exactly the remembered
// offset. Anything else (HEAD, a different offset, a request after a failure, an entry
// idle for IDLE_MS) reads S3 again, so another instance that moved the upload on, or a
// crash, is seen by the first request that could be misled by it.
import type { UploadInfo } from './info.js';
import type { Progress } from './offset.js';
import { RecentMap } from './recent-map.js';

export interface UploadState {
  info: UploadInfo;
  progress: Progress;
  loadedAt: number;
  /** Staged objects (segments, marks, pending parts) may exist: completion must list them. */
  staged?: boolean;
}

const IDLE_MS = 60_000;
const LIMIT = 1000;

export class StateCache {
  private readonly states = new RecentMap<string, UploadState>(LIMIT);

  remember(state: UploadState): void {
    this.states.set(state.info.id, { ...state, loadedAt: Date.now() });
  }

  /** The remembered state when a PATCH claims exactly its offset; it stays remembered. */
  forPatchAt(id: string, offset: number | undefined): UploadState | undefined {
    const state = this.fresh(id);
    return state && offset !== undefined && state.progress.offset === offset ? state : undefined;
  }

  /**
   * The remembered state for the write that follows getUpload/create in the same request;
   * it is forgotten, so a write that fails leaves nothing to trust.
   */
  take(id: string): UploadState | undefined {
    const state = this.fresh(id);
    this.states.delete(id);
    return state;
  }

  forget(id: string): void {
    this.states.delete(id);
  }

  private fresh(id: string): UploadState | undefined {
    const state = this.states.get(id);
    if (state && Date.now() - state.loadedAt < IDLE_MS) return state;
    this.states.delete(id);
    return undefined;
  }
}

export function emptyProgress(): Progress {
  return { offset: 0, parts: [], liveSegments: [], staleSegments: [], unverified: [] };
}

/** The state of a completed upload: all its bytes, nothing staged. */
export function completeState(info: UploadInfo): UploadState {
  return { info, progress: { ...emptyProgress(), offset: info.size ?? 0 }, loadedAt: Date.now() };
}
