// The draft's failures as problem details (RFC 9457), pure: a mismatching offset names the
// offset expected and the one provided; a completed upload and an inconsistent length
// have a type of their own. Interop 5 predates the types: its failures are a one-line
// reason, as tus mode's.
import type { DraftVersion } from './version.js';

const TYPES = 'https://iana.org/assignments/http-problem-types#';

export type ProblemType =
  | 'mismatching-upload-offset'
  | 'completed-upload'
  | 'inconsistent-upload-length';

const TITLES: Record<ProblemType, string> = {
  'mismatching-upload-offset': 'offset from request does not match offset of resource',
  'completed-upload': 'upload is already completed',
  'inconsistent-upload-length': 'inconsistent length values for upload',
};

export interface Problem {
  status: number;
  type: ProblemType;
  /** The problem's extension members (expected-offset, provided-offset). */
  members?: Record<string, number>;
  /** Response headers beside it (Upload-Offset of a mismatch). */
  headers?: Record<string, string>;
  /** The one-line reason, for interop 5 and as the problem's detail. */
  detail: string;
}

/** The response that tells `problem` in `version`'s way. */
export function problemResponse(version: DraftVersion, problem: Problem): Response {
  const headers = new Headers(problem.headers);
  if (!version.problems) {
    headers.set('Content-Type', 'text/plain; charset=utf-8');
    return new Response(`${problem.detail}\n`, { status: problem.status, headers });
  }
  headers.set('Content-Type', 'application/problem+json');
  const body = {
    type: `${TYPES}${problem.type}`,
    title: TITLES[problem.type],
    detail: problem.detail,
    ...problem.members,
  };
  return new Response(JSON.stringify(body), { status: problem.status, headers });
}

export function mismatchingOffset(expected: number, provided: number): Problem {
  return {
    status: 409,
    type: 'mismatching-upload-offset',
    members: { 'expected-offset': expected, 'provided-offset': provided },
    // -11 asks for both: the offset to resume from, and that this answer completes nothing.
    headers: { 'Upload-Offset': String(expected), 'Upload-Complete': '?0' },
    detail: `Upload-Offset ${provided} is not the upload's offset ${expected}`,
  };
}

/**
 * An append to a completed upload. -11 tells bytes (an inconsistent length, 400) from none
 * (410 completed-upload: the upload is known but takes nothing more, a retried completing
 * request included); -03/-05 answer 400 completed-upload to both. `empty`: the request
 * brings no byte (a chunked body counts as bytes).
 */
export function completedUpload(version: DraftVersion, empty: boolean): Problem {
  const detail = 'the upload is complete; nothing can be appended to it';
  if (empty && version.completedEmptyGone) return { status: 410, type: 'completed-upload', detail };
  return { status: 400, type: version.completedProblem, detail };
}

export function inconsistentLength(detail: string): Problem {
  return { status: 400, type: 'inconsistent-upload-length', detail };
}

/** A refusal the draft gives no type: its status and one-line reason. */
export function plainRefusal(status: number, reason: string): Response {
  return new Response(`${reason}\n`, {
    status,
    headers: { 'Content-Type': 'text/plain; charset=utf-8' },
  });
}
