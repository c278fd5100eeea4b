// The offset a hashed upload resumes at: the derived offset (s3/state/progress.ts) when a
// durable hash state covers exactly it, else the newest durable state below it. A crash
// between a write of bytes (an UploadPart) and the write of the state after them leaves
// bytes in S3 that no 204 acknowledged and no state covers: the offset is cut back to the
// state, and the client sends those bytes again (an UploadPart of the same number replaces
// the part; s3/patch/request.ts deletes staged objects past the cut before it writes).
import { chainSegments } from '../state/generations.js';
import type { HashState, Progress, StoredPart, StoredSegment } from '../state/progress.js';

export interface ResumeFacts {
  /** What the listing derived, before any hash state was looked at. */
  derived: Progress;
  /** Every segment listed, live or stale. */
  segments: readonly StoredSegment[];
  hashes: readonly HashState[];
  /** A segment's hash state (its user metadata: one HeadObject). */
  segmentState(seg: StoredSegment): Promise<Uint8Array | undefined>;
}

interface Candidate {
  offset: number;
  generation: number;
  /** The segment the state is on, or undefined for a state object. */
  seg?: StoredSegment;
  load(): Promise<Uint8Array | undefined>;
}

/** The progress to resume from, with its hash state (undefined: from byte 0). */
export async function resumeHashed(facts: ResumeFacts): Promise<Progress> {
  const { derived, segments, hashes } = facts;
  const end = derived.offset;
  const base = { hashObjects: [...hashes] };
  if (end === 0) return { ...derived, ...base };
  for (const c of candidates(facts)) {
    const cut = progressAt(derived, segments, c.offset, c.seg);
    if (!cut) continue;
    const state = await c.load();
    if (!state) continue;
    return { ...cut, hash: state, ...base, ...(c.offset < end ? { cutFrom: end } : {}) };
  }
  return { ...(progressAt(derived, segments, 0) as Progress), ...base, cutFrom: end };
}

/** Every durable state at or below the derived offset, newest first (state objects cost nothing). */
function candidates(facts: ResumeFacts): Candidate[] {
  const end = facts.derived.offset;
  const out: Candidate[] = [];
  for (const h of facts.hashes) {
    if (h.offset <= end && h.offset > 0) {
      out.push({ offset: h.offset, generation: h.generation, load: async () => h.state });
    }
  }
  for (const seg of facts.segments) {
    const at = seg.offset + seg.size;
    if (seg.size > 0 && at <= end) {
      out.push({
        offset: at,
        generation: seg.generation,
        seg,
        load: () => facts.segmentState(seg),
      });
    }
  }
  return out.sort(
    (a, b) =>
      b.offset - a.offset ||
      Number(a.seg !== undefined) - Number(b.seg !== undefined) ||
      b.generation - a.generation,
  );
}

/**
 * The progress that stops exactly at `offset`: the derived parts that end by then, and the
 * segment chain after them up to it (ending with `seg` when the state is on a segment).
 * Undefined when what S3 holds does not reach `offset` that way.
 */
export function progressAt(
  derived: Progress,
  segments: readonly StoredSegment[],
  offset: number,
  seg?: StoredSegment,
): Progress | undefined {
  const parts: StoredPart[] = [];
  let partsEnd = 0;
  for (const p of derived.parts) {
    if (partsEnd + p.size > offset) break;
    parts.push(p);
    partsEnd += p.size;
  }
  const live: StoredSegment[] = [];
  let at = partsEnd;
  for (const s of chainSegments(segments, partsEnd).live) {
    if (at + s.size > offset) break;
    live.push(s);
    at += s.size;
  }
  if (at !== offset) return undefined;
  if (seg && live[live.length - 1] !== seg) return undefined;
  if (!seg && live.length > 0) return undefined;
  const kept = new Set(live);
  return {
    offset,
    parts,
    liveSegments: live,
    staleSegments: segments.filter((s) => !kept.has(s)),
    unverified: derived.unverified,
  };
}
