// S3 that did not answer: the request may be tried again later, so it is a 503 with
// Retry-After and a one-line reason, never the SDK's message (it names endpoints).
import { TusError } from '../errors.js';

/** What a client is told to wait before it tries again (s). */
export const STORAGE_RETRY_AFTER_S = 5;

// The codes @smithy/node-http-handler names TimeoutError, and a connection refused.
const CONNECTION_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT']);

/**
 * The TusError for an S3 request that got no answer (a timeout or a broken connection,
 * after every attempt), or undefined for anything else: S3's own answers (404, 403,
 * 5xx with a body) and aborts keep their meaning.
 */
export function storageUnavailable(err: unknown): TusError | undefined {
  if (typeof err !== 'object' || err === null || err instanceof TusError) return undefined;
  const e = err as { name?: string; code?: string; $metadata?: { httpStatusCode?: number } };
  if (e.$metadata?.httpStatusCode !== undefined) return undefined;
  if (e.name === 'TimeoutError' || (e.code !== undefined && CONNECTION_CODES.has(e.code))) {
    const unavailable = new TusError(
      503,
      'storage is unavailable; try again',
      STORAGE_RETRY_AFTER_S,
    );
    // What the SDK said (which endpoint, which timeout) is for the log, not the client.
    unavailable.cause = err;
    return unavailable;
  }
  return undefined;
}
