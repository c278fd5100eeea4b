// What S3 says about one upload at a moment, and the store's memory of it between
// requests.
//
// Every change to an upload goes through one store under @tus/server's lock, so after a
// PATCH the store knows the state as well as a listing would, and the next PATCH need not
// ask S3 (info GET + ListParts + ListObjects: three round trips for every part-sized PATCH
// a mobile client sends). The memory is only trusted where it cannot be stale
// without the client noticing: a PATCH whose Upload-Offset is exactly the remembered
// offset. Anything else (HEAD, a different offset, a request after a failure, an entry
// idle for IDLE_MS) reads S3 again, so a crash is seen by the first request that could be
// misled by it.
//
// With several instances (a locker they share), the offset alone proves nothing: another
// instance may have taken the upload on from the remembered offset, and a client that
// missed that 204 sends the same offset again. Its bytes would overwrite acknowledged ones.
// So a shared locker counts every acquisition of an upload's lock (its generation), and
// memory is trusted only when the request's lock directly follows the one the memory was
// written under: no request, anywhere, touched the upload in between.
import type { UploadInfo } from '../info.js';
import type { Progress } from './progress.js';
import { RecentMap } from './recent-map.js';

export interface UploadState {
  info: UploadInfo;
  progress: Progress;
  loadedAt: number;
  /** Staged objects (segments, marks, pending parts) may exist: completion must list them. */
  staged?: boolean;
  /** The shared lock generation of the request that learnt this state (shared locks). */
  generation?: number;
}

const IDLE_MS = 60_000;
const LIMIT = 1000;

export class StateCache {
  private readonly states = new RecentMap<string, UploadState>(LIMIT);

  /**
   * @param sharedLocks the locker is shared with other instances: memory needs the
   *   generation of each request's lock (undefined: the locker records none, never trusted).
   */
  constructor(private readonly sharedLocks = false) {}

  /** `generation`: of the current request's lock on the upload (shared locks). */
  remember(state: UploadState, generation?: number): void {
    this.states.set(state.info.id, { ...state, loadedAt: Date.now(), generation });
  }

  /** The remembered state when a PATCH claims exactly its offset; it stays remembered. */
  forPatchAt(id: string, offset: number | undefined, generation?: number): UploadState | undefined {
    const state = this.fresh(id, generation);
    return state && offset !== undefined && state.progress.offset === offset ? state : undefined;
  }

  /**
   * The remembered state for the write that follows getUpload/create in the same request;
   * it is forgotten, so a write that fails leaves nothing to trust.
   */
  take(id: string, generation?: number): UploadState | undefined {
    const state = this.fresh(id, generation);
    this.states.delete(id);
    return state;
  }

  /**
   * The state remembered under this very lock (or, without shared locks, the last one):
   * what a POST just created, when @tus/server asks for it again before answering.
   */
  remembered(id: string, generation?: number): UploadState | undefined {
    return this.fresh(id, generation);
  }

  forget(id: string): void {
    this.states.delete(id);
  }

  private fresh(id: string, generation: number | undefined): UploadState | undefined {
    const state = this.states.get(id);
    if (state && Date.now() - state.loadedAt < IDLE_MS && this.continues(state, generation)) {
      return state;
    }
    this.states.delete(id);
    return undefined;
  }

  /** Same request (same generation) or the very next lock on the upload. */
  private continues(state: UploadState, generation: number | undefined): boolean {
    if (!this.sharedLocks) return true;
    const before = state.generation;
    if (generation === undefined || before === undefined) return false;
    return generation === before || generation === before + 1;
  }
}

export function emptyProgress(): Progress {
  return { offset: 0, parts: [], liveSegments: [], staleSegments: [], unverified: [] };
}

/** The state of a completed upload: all its bytes, nothing staged. */
export function completeState(info: UploadInfo): UploadState {
  return { info, progress: { ...emptyProgress(), offset: info.size ?? 0 }, loadedAt: Date.now() };
}
