// What a client is told about a failure, and what only the log hears. A failure that
// carries a tus status and reason (TusError, @tus/utils' ERRORS, a hook's refusal) is
// answered with them; anything else (an SDK error naming keys, endpoints or
// AccessDenied, a bug's TypeError, a stack) is logged with the request's method and
// upload id and answered "500 internal error".
import type { Logger } from 'pino';
import { ERRORS, lockTimeoutError } from '../errors.js';
import { pathOfTarget, uploadIdOfPath } from './request-target.js';

export const INTERNAL_ERROR_BODY = 'internal error\n';

/** Longest reason sent; a longer one is cut (reasons are one short line). */
const MAX_REASON = 300;

/** A failure as the client sees it: @tus/server's error mapping shape, plus Retry-After. */
export interface PublicError {
  status_code: number;
  body: string;
  /** Seconds; sent as Retry-After. */
  retryAfter?: number;
}

function oneLine(body: string): string {
  const line = (body.split(/\r?\n/).find((l) => l.trim() !== '') ?? '').trim();
  return `${line.slice(0, MAX_REASON) || 'request refused'}\n`;
}

/** The status and one-line reason a failure carries for the client, or undefined. */
export function publicErrorOf(err: unknown): PublicError | undefined {
  // @tus/server's own lock timeout says 500; tus names 423 for it.
  if (err === ERRORS.ERR_LOCK_TIMEOUT) err = lockTimeoutError();
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { status_code?: unknown; body?: unknown; retryAfter?: unknown };
  const status = e.status_code;
  if (typeof status !== 'number' || !Number.isInteger(status) || status < 400 || status > 599) {
    return undefined;
  }
  const answer: PublicError = {
    status_code: status,
    body: oneLine(typeof e.body === 'string' ? e.body : ''),
  };
  const after = e.retryAfter;
  if (typeof after === 'number' && Number.isFinite(after) && after >= 0) {
    answer.retryAfter = Math.ceil(after);
  }
  return answer;
}

/** Where a failure happened, for the log. */
export interface FailedRequest {
  method: string;
  url: string;
  /** A Fetch API request's headers: its X-Request-Id ties the log line to the request's. */
  headers?: { get(name: string): string | null };
}

/**
 * A body the client stopped sending (it disconnected, or was cut): nobody reads the
 * answer and nothing is wrong with the server, so it is no error in the log.
 */
export function isClientGone(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  if (typeof e !== 'object' || e === null) return false;
  return (
    e.code === 'ECONNRESET' ||
    e.code === 'ERR_STREAM_PREMATURE_CLOSE' ||
    (typeof e.message === 'string' && e.message.startsWith('client closed the connection'))
  );
}

/** The answer to `err`; internals go to `log` only. */
export function answerFailure(err: unknown, req: FailedRequest, log: Logger): PublicError {
  const known = publicErrorOf(err);
  const id = uploadIdOfPath(pathOfTarget(safePath(req.url)));
  const requestId = req.headers?.get('x-request-id') ?? undefined;
  const at = { method: req.method, id, requestId };
  if (!known && isClientGone(err)) {
    log.info({ ...at, err }, 'client went away mid-request');
    return { status_code: 500, body: INTERNAL_ERROR_BODY };
  }
  if (known) {
    if (known.status_code >= 500) {
      log.warn({ ...at, status: known.status_code, err }, 'request failed');
    }
    return known;
  }
  log.error({ ...at, err }, 'request failed with an internal error');
  return { status_code: 500, body: INTERNAL_ERROR_BODY };
}

function safePath(url: string): string {
  try {
    return new URL(url, 'http://localhost').pathname;
  } catch {
    return '';
  }
}

/** The response for a failure answered by the front itself (not by @tus/server). */
export function failureResponse(answer: PublicError, tusVersion: string): Response {
  const headers: Record<string, string> = {
    'Tus-Resumable': tusVersion,
    'Content-Type': 'text/plain; charset=utf-8',
  };
  if (answer.retryAfter !== undefined) headers['Retry-After'] = String(answer.retryAfter);
  return new Response(answer.body, { status: answer.status_code, headers });
}
