// One info line per answered request, and the request id that ties it to the client's
// and the proxy's logs. The id a client or proxy sends is kept when it is safe to echo and
// to log (bounded, printable token characters); anything else is replaced, not trusted.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';

export const REQUEST_ID_HEADER = 'X-Request-Id';

const SAFE_ID = /^[A-Za-z0-9._:@/+=-]{1,128}$/;

/** The client's id when safe, else a fresh UUID. */
export function requestIdOf(sent: string | string[] | null | undefined): string {
  const value = Array.isArray(sent) ? sent[0] : sent;
  return typeof value === 'string' && SAFE_ID.test(value) ? value : randomUUID();
}

/** What the front learns while serving a request, for its log line. */
export interface RequestNote {
  owner?: string;
}

export interface AnsweredRequest {
  requestId: string;
  method: string;
  /** The URL path (never the query string, which may carry tokens). */
  path: string;
  status: number;
  received: number;
  startedAt: number;
  owner?: string;
  /** Location of a created upload. */
  location?: string | null;
}

/** The upload a request was about: the created one (POST), else the path's last segment. */
export function uploadIdOf(path: string, location?: string | null): string | undefined {
  const from = (p: string): string | undefined => {
    const last = p.replace(/\/+$/, '').split('/').pop();
    if (!last) return undefined;
    try {
      return decodeURIComponent(last);
    } catch {
      return last;
    }
  };
  if (location) return from(new URL(location, 'http://x').pathname);
  return from(path);
}

/** The log record of one answered request. */
export function requestRecord(r: AnsweredRequest, now: number): Record<string, unknown> {
  const upload = r.method === 'POST' && !r.location ? undefined : uploadIdOf(r.path, r.location);
  return {
    requestId: r.requestId,
    method: r.method,
    upload,
    owner: r.owner,
    status: r.status,
    bytes: r.received,
    ms: Math.round(now - r.startedAt),
  };
}

/** Logs the line at info (quiet by default: the CLI's level is warn). */
export function logRequest(logger: Logger, r: AnsweredRequest): void {
  if (!logger.isLevelEnabled('info')) return;
  logger.info(requestRecord(r, performance.now()), 'request');
}
