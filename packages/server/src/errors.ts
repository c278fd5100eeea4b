// Errors that @tus/server turns into responses: a tus status and a one-line reason.
import { ERRORS } from '@tus/utils';

export class TusError extends Error {
  readonly status_code: number;
  readonly body: string;
  /** Seconds after which the request may be tried again (a Retry-After header), if set. */
  readonly retryAfter: number | undefined;
  constructor(status: number, message: string, retryAfter?: number) {
    super(message);
    this.name = 'TusError';
    this.status_code = status;
    this.body = `${message}\n`;
    this.retryAfter = retryAfter;
  }
}

export { ERRORS };

/** A lock not acquired in time (tus: 423 Locked); the request may be tried again. */
export function lockTimeoutError(): TusError {
  return new TusError(423, 'upload is in use by another request; try again');
}

/** A lock timeout from any locker: @tus/server's own (500 as it stands) or ours (423). */
export function isLockTimeout(err: unknown): boolean {
  return err === ERRORS.ERR_LOCK_TIMEOUT || (err instanceof TusError && err.status_code === 423);
}

/** True for any S3 "no such thing" answer (RGW says NoSuchKey where AWS says NoSuchUpload). */
export function isS3NotFound(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { name?: string; Code?: string; $metadata?: { httpStatusCode?: number } };
  const code = e.name ?? e.Code;
  return (
    code === 'NoSuchKey' ||
    code === 'NoSuchUpload' ||
    code === 'NotFound' ||
    e.$metadata?.httpStatusCode === 404
  );
}
