// Infos not in S3 yet: created in this request for one PutObject to write them in the
// object's metadata (s3/folded-info.ts). Known by identity, as the request's state hands the
// same info object from creation to the PutObject and completion. Nobody else knows the
// upload (no client has its URL before the answer), so nothing of it is in S3 to guard.
const unwritten = new WeakSet<object>();

export function markUnwritten(info: object): void {
  unwritten.add(info);
}

/** Its .info was written after all (the fold did not happen). */
export function markWritten(info: object): void {
  unwritten.delete(info);
}

export function isUnwritten(info: object): boolean {
  return unwritten.has(info);
}
