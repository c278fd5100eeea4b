// Where each answered request reaches the metrics: the Express middleware's node request,
// or a Fetch API request given to tus.handle(). Both count the final status, the body bytes
// that arrived and the offsets claimed and answered.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { offsetOf, type TusMetrics } from './metrics.js';

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
): void {
  let counted = false;
  const count = () => {
    if (counted) return;
    counted = true;
    metrics.request({
      method: req.method ?? 'GET',
      status: res.statusCode,
      received: received(),
      requestOffset: offsetOf(req.headers['upload-offset']),
      responseOffset: offsetOf(res.getHeader('upload-offset') as string | undefined),
    });
  };
  res.once('finish', count);
  res.once('close', count);
}

/** tus.handle(): the request answered by `handle`, with its body counted, then counted. */
export async function countedHandle(
  metrics: TusMetrics,
  request: Request,
  handle: (request: Request) => Promise<Response>,
): Promise<Response> {
  const count = { bytes: 0 };
  const counted =
    request.body === null
      ? request
      : new Request(request, {
          body: countingBody(request.body, count),
          duplex: 'half',
        } as RequestInit);
  const response = await handle(counted);
  metrics.request({
    method: request.method,
    status: response.status,
    received: count.bytes,
    requestOffset: offsetOf(request.headers.get('upload-offset')),
    responseOffset: offsetOf(response.headers.get('upload-offset')),
  });
  return response;
}
