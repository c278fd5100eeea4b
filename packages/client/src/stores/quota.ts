/**
 * A resume store that ran out of room. Browsers say so in several ways (a DOMException
 * named QuotaExceededError, Firefox's NS_ERROR_DOM_QUOTA_REACHED, legacy codes 22 and
 * 1014); every browser store turns them into this one error so an app can tell the user
 * that uploads will not survive a reload, instead of the failure passing unseen.
 */
export class StoreQuotaError extends Error {
  constructor(
    /** Which storage was full: 'IndexedDB' or 'localStorage'. */
    readonly storage: string,
    cause: unknown,
  ) {
    super(
      `resume store full (${storage} quota exceeded): this upload cannot resume after a reload`,
      {
        cause,
      },
    );
    this.name = 'StoreQuotaError';
  }
}

/** Whether `e` is a browser's "storage quota exceeded" error. */
export function isQuotaExceeded(e: unknown): boolean {
  if (typeof e !== 'object' || e === null) return false;
  const { name, code } = e as { name?: unknown; code?: unknown };
  return (
    name === 'QuotaExceededError' ||
    name === 'NS_ERROR_DOM_QUOTA_REACHED' ||
    code === 22 ||
    code === 1014
  );
}

/** `e` as a StoreQuotaError when it is a quota error, else unchanged. */
export function asStoreError(e: unknown, storage: string): unknown {
  return isQuotaExceeded(e) ? new StoreQuotaError(storage, e) : e;
}
