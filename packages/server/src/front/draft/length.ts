// The upload's length as the draft lets a request tell it (pure): an Upload-Length field,
// or Upload-Complete: ?1 with a Content-Length (then offset + Content-Length), beside what
// the upload already recorded. Every value told must agree; none may be passed by the
// bytes the request brings.

export interface LengthFacts {
  /** The length the upload recorded, if any. */
  recorded?: number;
  /** The request's Upload-Length. */
  declared?: number;
  /** Where the request's content starts. */
  offset: number;
  /** The request's Upload-Complete. */
  complete: boolean;
  /** The request's Content-Length, when it has one. */
  contentLength?: number;
}

/** The length after this request (undefined: still unknown), or why the values disagree. */
export function reconcileLength(f: LengthFacts): { length?: number } | { inconsistent: string } {
  const implied =
    f.complete && f.contentLength !== undefined ? f.offset + f.contentLength : undefined;
  const told: Array<[string, number | undefined]> = [
    ['the recorded length', f.recorded],
    ['Upload-Length', f.declared],
    ['offset + Content-Length of a completing request', implied],
  ];
  const known = told.filter((t): t is [string, number] => t[1] !== undefined);
  const [first, ...others] = known;
  for (const [name, value] of others) {
    if (first && value !== first[1]) {
      return { inconsistent: `${name} ${value} is not ${first[0]} ${first[1]}` };
    }
  }
  const length = first?.[1];
  if (
    length !== undefined &&
    f.contentLength !== undefined &&
    f.offset + f.contentLength > length
  ) {
    return {
      inconsistent: `${f.contentLength} bytes at offset ${f.offset} pass the upload's length ${length}`,
    };
  }
  if (length !== undefined && length < f.offset) {
    return { inconsistent: `the length ${length} is below the offset ${f.offset}` };
  }
  return { length };
}
