// What S3 says about one upload at a moment, and the short-lived hand-over of it: state
// read by getUpload/create goes to the write that follows under the same lock, so a
// PATCH lists S3 once.
import type { UploadInfo } from './info.js';
import type { Progress } from './offset.js';
import { RecentMap } from './recent-map.js';

export interface UploadState {
  info: UploadInfo;
  progress: Progress;
  loadedAt: number;
}

const FRESH_MS = 30_000;
const FRESH_LIMIT = 1000;

export class FreshStates {
  private readonly states = new RecentMap<string, UploadState>(FRESH_LIMIT);

  remember(state: UploadState): void {
    this.states.set(state.info.id, state);
  }

  /** The state remembered for `id` if it is recent; either way it is forgotten. */
  take(id: string): UploadState | undefined {
    const state = this.states.get(id);
    this.states.delete(id);
    return state && Date.now() - state.loadedAt < FRESH_MS ? state : undefined;
  }

  forget(id: string): void {
    this.states.delete(id);
  }
}

export function emptyProgress(): Progress {
  return { offset: 0, parts: [], liveSegments: [], staleSegments: [], unverified: [] };
}

/** The state of a completed upload: all its bytes, nothing staged. */
export function completeState(info: UploadInfo): UploadState {
  return { info, progress: { ...emptyProgress(), offset: info.size ?? 0 }, loadedAt: Date.now() };
}
