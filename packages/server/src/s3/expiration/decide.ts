// What the sweep does with each upload it found (pure): which expire, which multipart
// uploads and markers are orphans. Only things older than the expiration are ever found
// (an upload being created, or created while a sweep runs, is never taken for either).
import { isExpired, objectRecordsCompletion, type UploadInfo } from '../info.js';

/** One upload id as the sweep's listings found it: its old multipart uploads and marker. */
export interface Found {
  id: string;
  /** Multipart uploads on the upload's key initiated longer than the expiration ago. */
  uploadIds: string[];
  /** Its open marker (s3/open-marker.ts) is older than the expiration. */
  marker: boolean;
}

/** What became of the info record the sweep read for it. */
export type InfoRead = UploadInfo | 'missing' | 'unreadable';

export type Fate =
  /** Nothing to do (unreadable info: it may name what was found; or alive). */
  | 'keep'
  /** Expired: the upload goes (store.remove). */
  | 'remove'
  /** Expired unless its object is whole, which makes it finished (objectRecordsCompletion). */
  | 'remove-unless-whole'
  /** Finished: only the marker a crash left between its completion and the marker's delete. */
  | 'drop-marker'
  /** No info: whatever was found of it, and its old staged objects, are orphans. */
  | 'orphan'
  /** An expired tombstone (a terminated sealed id's record, info.ts): it goes. */
  | 'drop-tombstone';

export interface Verdict {
  fate: Fate;
  /** Multipart uploads to abort that no info names (never the one the info names). */
  abort: string[];
}

export function decide(found: Found, info: InfoRead, expiration: number, now: number): Verdict {
  if (info === 'unreadable') return { fate: 'keep', abort: [] };
  if (info === 'missing') return { fate: 'orphan', abort: found.uploadIds };
  if (info.terminated) {
    const expired = isExpired(info, expiration, now);
    return { fate: expired ? 'drop-tombstone' : 'keep', abort: found.uploadIds };
  }
  const abort = found.uploadIds.filter((u) => u !== info.uploadId);
  if (isExpired(info, expiration, now)) {
    return { fate: objectRecordsCompletion(info) ? 'remove-unless-whole' : 'remove', abort };
  }
  // A finished partial expires above; any other finished upload needs no marker.
  const finished = info.completedAt !== undefined;
  return { fate: found.marker && finished ? 'drop-marker' : 'keep', abort };
}

/** Whether something S3 dated `modified` (ms) is older than the expiration at `now`. */
export function isOld(modified: Date | undefined, expiration: number, now: number): boolean {
  return modified !== undefined && modified.getTime() + expiration < now;
}
