// Which revision of "Resumable Uploads for HTTP" (draft-ietf-httpbis-resumable-upload) a
// request speaks, from its Upload-Draft-Interop-Version, and what differs between the
// revisions this server serves (pure). Interop 5 is draft -03, 6 is drafts -04/-05, 7 is
// -06 to -08, 8 is -09 to -11: each revision says "The current interop version is N".
// 5 (tus-js-client 'ietf-draft-03', iOS 18.0) is served as 6 without what -04 added (the
// PATCH media type, problem types, Upload-Limit); 7 is shipped by no client we know of.

export const INTEROP_HEADER = 'Upload-Draft-Interop-Version';

/** Interop versions served, oldest first. */
export const SERVED_VERSIONS = [5, 6, 8] as const;

export type InteropVersion = (typeof SERVED_VERSIONS)[number];

/** What one interop version asks of the server. */
export interface DraftVersion {
  interop: InteropVersion;
  /** Appends must be `Content-Type: application/partial-upload` (since -04). */
  partialUploadType: boolean;
  /** Upload-Limit is sent (since -04); its lifetime key was `expires` until -05, then `max-age`. */
  limits: false | { ageKey: 'expires' | 'max-age' };
  /** Failures the draft types carry problem details (since -04). */
  problems: boolean;
  /** Status of an append that leaves the upload incomplete: -03/-05 say 201, -09+ 204. */
  appendStatus: 201 | 204;
  /** HEAD and DELETE must not carry Upload-Offset/Upload-Complete (400 until -05). */
  strictHeadAndDelete: boolean;
  /** Problem type for appending bytes to a completed upload (-11: an inconsistent length). */
  completedProblem: 'completed-upload' | 'inconsistent-upload-length';
  /** An append of no bytes to a completed upload is 410 completed-upload (-11), else 400. */
  completedEmptyGone: boolean;
}

const VERSIONS: Record<InteropVersion, DraftVersion> = {
  5: {
    interop: 5,
    partialUploadType: false,
    limits: false,
    problems: false,
    appendStatus: 201,
    strictHeadAndDelete: true,
    completedProblem: 'completed-upload',
    completedEmptyGone: false,
  },
  6: {
    interop: 6,
    partialUploadType: true,
    limits: { ageKey: 'expires' },
    problems: true,
    appendStatus: 201,
    strictHeadAndDelete: true,
    completedProblem: 'completed-upload',
    completedEmptyGone: false,
  },
  8: {
    interop: 8,
    partialUploadType: true,
    limits: { ageKey: 'max-age' },
    problems: true,
    appendStatus: 204,
    strictHeadAndDelete: false,
    completedProblem: 'inconsistent-upload-length',
    completedEmptyGone: true,
  },
};

type HeaderGet = (name: string) => string | null;

/**
 * Whether a request is a draft one: it names an interop version and no tus version (a
 * request with Tus-Resumable is tus 1.0, whatever else it carries).
 */
export function isDraftRequest(get: HeaderGet): boolean {
  return get(INTEROP_HEADER) !== null && get('tus-resumable') === null;
}

/** The version a header value names, or why it is refused (one line). */
export function draftVersionOf(value: string): DraftVersion | { refused: string } {
  const v = value.trim();
  const served = SERVED_VERSIONS.find((n) => String(n) === v);
  if (served !== undefined) return VERSIONS[served];
  return {
    refused: `${INTEROP_HEADER} ${v.slice(0, 20)} is not served; this server speaks ${SERVED_VERSIONS.join(', ')}`,
  };
}
