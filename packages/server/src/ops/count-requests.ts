// Where each answered request reaches the metrics: the Express middleware's node request,
// or a Fetch API request given to tus.handle(). Both count the final status, the body bytes
// that arrived and the offsets claimed and answered.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { offsetOf, type TusMetrics } from './metrics.js';
import { logRequest, REQUEST_ID_HEADER, type RequestNote, requestIdOf } from './request-log.js';

/** What the request's log line needs beyond its answer (ops/request-log.ts). */
export interface RequestLogging {
  logger: Logger;
  requestId: string;
  /** The URL path, without the query string. */
  path: string;
  note: RequestNote;
  startedAt: number;
}

/** `body` passed through, its bytes added to `count.bytes` as they are read. */
export function countingBody(
  body: ReadableStream<Uint8Array>,
  count: { bytes: number },
): ReadableStream<Uint8Array> {
  return body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        count.bytes += chunk.byteLength;
        controller.enqueue(chunk);
      },
    }),
  );
}

/** Counts a node request once its answer is sent (or the connection closed first). */
export function countWhenAnswered(
  metrics: TusMetrics,
  req: IncomingMessage,
  res: ServerResponse,
  received: () => number,
  log: RequestLogging,
): void {
  let counted = false;
  const count = () => {
    if (counted) return;
    counted = true;
    const method = req.method ?? 'GET';
    const bytes = received();
    metrics.request({
      method,
      status: res.statusCode,
      received: bytes,
      requestOffset: offsetOf(req.headers['upload-offset']),
      responseOffset: offsetOf(res.getHeader('upload-offset') as string | undefined),
    });
    const location = res.getHeader('location');
    logRequest(log.logger, {
      ...log,
      method,
      status: res.statusCode,
      received: bytes,
      owner: log.note.owner,
      location: typeof location === 'string' ? location : undefined,
    });
  };
  res.once('finish', count);
  res.once('close', count);
}

/**
 * tus.handle(): the request answered by `handle`, with its body counted and its request id
 * settled (the client's, or a new one the answer returns), then counted and logged.
 */
export async function countedHandle(
  metrics: TusMetrics,
  logger: Logger,
  request: Request,
  handle: (request: Request, note: RequestNote) => Promise<Response>,
): Promise<Response> {
  const startedAt = performance.now();
  const count = { bytes: 0 };
  const requestId = requestIdOf(request.headers.get(REQUEST_ID_HEADER));
  const headers = new Headers(request.headers);
  headers.set(REQUEST_ID_HEADER, requestId);
  const init: RequestInit & { duplex?: 'half' } = { headers };
  if (request.body !== null) {
    init.body = countingBody(request.body, count);
    init.duplex = 'half';
  }
  const note: RequestNote = {};
  const response = await handle(new Request(request, init), note);
  metrics.request({
    method: request.method,
    status: response.status,
    received: count.bytes,
    requestOffset: offsetOf(request.headers.get('upload-offset')),
    responseOffset: offsetOf(response.headers.get('upload-offset')),
  });
  logRequest(logger, {
    requestId,
    method: request.method,
    path: new URL(request.url).pathname,
    status: response.status,
    received: count.bytes,
    startedAt,
    owner: note.owner,
    location: response.headers.get('location'),
  });
  return response;
}
