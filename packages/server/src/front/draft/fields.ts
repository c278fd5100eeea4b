// The draft's header fields as Structured Fields (RFC 9651), pure: Upload-Complete is a
// Boolean, Upload-Offset and Upload-Length are non-negative Integers, Upload-Limit is a
// Dictionary of Integers. A value of another shape makes the whole field ignored (the
// draft's rule), so parsers answer undefined for it.

/** sf-integer: at most 15 digits; the draft's fields take no sign. */
const INTEGER = /^[0-9]{1,15}$/;

export function parseSfInteger(value: string | null): number | undefined {
  if (value === null) return undefined;
  const v = value.trim();
  return INTEGER.test(v) ? Number(v) : undefined;
}

export function parseSfBoolean(value: string | null): boolean | undefined {
  if (value === null) return undefined;
  const v = value.trim();
  if (v === '?1') return true;
  if (v === '?0') return false;
  return undefined;
}

export function formatSfBoolean(value: boolean): string {
  return value ? '?1' : '?0';
}

/** A Dictionary of Integers in the given order, members without a value left out. */
export function formatSfIntegerDictionary(
  members: ReadonlyArray<readonly [string, number | undefined]>,
): string | undefined {
  const parts = members
    .filter((m): m is readonly [string, number] => m[1] !== undefined && Number.isSafeInteger(m[1]))
    .map(([key, value]) => `${key}=${Math.max(0, value)}`);
  return parts.length > 0 ? parts.join(', ') : undefined;
}

/**
 * The Content-Length a request declares, when it is one valid value (a body with none is
 * chunked: its length shows only at its end).
 */
export function contentLengthOf(value: string | null): number | undefined {
  if (value === null) return undefined;
  return /^[0-9]{1,15}$/.test(value.trim()) ? Number(value.trim()) : undefined;
}

/**
 * A request's content length: declared, 0 when it has no body, undefined when it has one of
 * no declared length (chunked, or a Fetch API body).
 */
export function contentLengthOfRequest(headers: Headers, hasBody: boolean): number | undefined {
  const declared = contentLengthOf(headers.get('content-length'));
  if (declared !== undefined) return declared;
  return headers.has('transfer-encoding') || hasBody ? undefined : 0;
}
