import { StoreQuotaError } from './stores/quota.js';

/** Why an upload (or one request of it) failed. */
export type TusErrorKind =
  | 'http' // the server answered with an unexpected status
  | 'network' // the connection failed before an answer arrived
  | 'stall' // no bytes moved for `stallTimeoutMs`
  | 'aborted' // the caller aborted (AbortSignal, abort(), terminate())
  | 'source' // the data source could not be read (again)
  | 'protocol' // the server's answer broke the tus protocol
  | 'limit' // the upload exceeds a limit the server announced (Tus-Max-Size)
  | 'unsupported' // the server lacks what the options require (e.g. a checksum algorithm)
  | 'digest' // the server's SHA-256 of the whole upload is not the declared one (final)
  | 'store'; // the resume store refused a write (StoreQuotaError: its storage is full)

export interface TusErrorDetails {
  kind: TusErrorKind;
  /** HTTP status when the server answered. */
  status?: number;
  /** The server's response body (trimmed), when it sent one. */
  serverMessage?: string;
  method?: string;
  url?: string;
  cause?: unknown;
}

/** Every error the client raises; carries the HTTP status and the server's message when there was one. */
export class TusError extends Error {
  readonly kind: TusErrorKind;
  readonly status?: number;
  readonly serverMessage?: string;
  readonly method?: string;
  readonly url?: string;

  constructor(message: string, details: TusErrorDetails) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'TusError';
    this.kind = details.kind;
    this.status = details.status;
    this.serverMessage = details.serverMessage;
    this.method = details.method;
    this.url = details.url;
  }
}

export function httpError(
  method: string,
  url: string,
  status: number,
  body: string,
  what = 'unexpected response',
): TusError {
  const serverMessage = body.trim().slice(0, 500);
  const suffix = serverMessage ? `: ${serverMessage}` : '';
  return new TusError(`${method} ${url}: ${what} (HTTP ${status})${suffix}`, {
    kind: 'http',
    status,
    serverMessage: serverMessage || undefined,
    method,
    url,
  });
}

/** The same HTTP failure, with why the upload cannot go on added to its message. */
export function explained(err: TusError, why: string): TusError {
  return new TusError(`${err.message}${why}`, {
    kind: 'http',
    status: err.status,
    serverMessage: err.serverMessage,
    method: err.method,
    url: err.url,
    cause: err,
  });
}

/**
 * The request that brought the last byte was answered 460 while a whole-file digest was
 * declared: the bytes the server got are not the file that was hashed (changed while
 * uploading, or corrupted past the per-request checksums). Never retried.
 */
export class DigestMismatchError extends TusError {
  constructor(
    method: string,
    url: string,
    readonly declared: string,
    body: string,
  ) {
    const serverMessage = body.trim().slice(0, 500) || undefined;
    super(
      `${method} ${url}: whole-file digest mismatch (HTTP 460): the server's SHA-256 of the upload is not the declared ${declared}${serverMessage ? `: ${serverMessage}` : ''}`,
      { kind: 'digest', status: 460, serverMessage, method, url },
    );
    this.name = 'DigestMismatchError';
  }
}

export function isTusError(e: unknown, kind?: TusErrorKind): e is TusError {
  return e instanceof TusError && (kind === undefined || e.kind === kind);
}

/** Any thrown value as a TusError (a non-TusError is the source's: a read failed). */
export function toTusError(e: unknown): TusError {
  if (e instanceof TusError) return e;
  const msg = e instanceof Error ? e.message : String(e);
  if (e instanceof StoreQuotaError) return new TusError(msg, { kind: 'store', cause: e });
  return new TusError(msg, { kind: 'source', cause: e });
}

export function abortedError(cause?: unknown): TusError {
  return new TusError('upload aborted', { kind: 'aborted', cause });
}
