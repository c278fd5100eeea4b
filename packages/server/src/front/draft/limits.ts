// Upload-Limit (pure): what an upload (or, on OPTIONS, a new one) is held to.
// min-append-size is the upload's S3 part size: an append shorter than a part leaves a
// sub-part tail the server must stage as a segment object and fold in later, so a client
// that keeps to it sends whole parts; a completing append is exempt (the draft's rule).
import { formatSfIntegerDictionary } from './fields.js';
import type { DraftVersion } from './version.js';

export interface LimitFacts {
  /** Largest upload accepted (bytes), when there is one. */
  maxSize?: number;
  /** The upload's (or new uploads') S3 part size. */
  partSize?: number;
  /** When the upload expires (ms since the epoch), or undefined: never, or complete. */
  expiresAt?: number;
  now: number;
}

/** The field value, or undefined when `version` sends none or nothing applies. */
export function uploadLimit(version: DraftVersion, facts: LimitFacts): string | undefined {
  if (!version.limits) return undefined;
  const age =
    facts.expiresAt === undefined
      ? undefined
      : Math.max(0, Math.floor((facts.expiresAt - facts.now) / 1000));
  return formatSfIntegerDictionary([
    ['max-size', facts.maxSize && facts.maxSize > 0 ? facts.maxSize : undefined],
    ['min-append-size', facts.partSize],
    [version.limits.ageKey, age],
  ]);
}

/** An Upload-Expires (HTTP date) as ms since the epoch, or undefined. */
export function expiresAtOf(value: string | null): number | undefined {
  if (value === null) return undefined;
  const t = Date.parse(value);
  return Number.isFinite(t) ? t : undefined;
}
