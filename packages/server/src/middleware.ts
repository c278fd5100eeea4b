// Express middleware: app.use('/files', tusS3Middleware(options)).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { EVENTS } from '@tus/utils';
import { DirectBody, readsDirectBody } from './body/direct-body.js';
import { corsHeaders, isPreflight, OPEN_CORS } from './front/cors.js';
import { interimWriter } from './front/draft/interim.js';
import { INTERNAL_ERROR_BODY } from './front/error-response.js';
import { handleTusRequest } from './front/handler.js';
import { closingResponse } from './front/in-flight.js';
import { sendWebResponse, toWebRequest, webBodyFrom } from './front/node-bridge.js';
import { type Refusal, refusalFor, TUS_VERSION } from './front/request-checks.js';
import { hostHeadersProblem, pathOfTarget, pathProblem } from './front/request-target.js';
import { silentLogger } from './log.js';
import { countingBody, countWhenAnswered, type RequestLogging } from './ops/count-requests.js';
import { REQUEST_ID_HEADER, type RequestNote, requestIdOf } from './ops/request-log.js';
import { createTusServer, type TusS3, type TusS3Options } from './tus-server.js';

type ExpressRequest = IncomingMessage & {
  baseUrl?: string;
  originalUrl?: string;
  body?: unknown;
  _body?: boolean;
  protocol?: string;
};
type Next = (err?: unknown) => void;

export type TusS3Middleware = ((req: IncomingMessage, res: ServerResponse, next?: Next) => void) & {
  tus: TusS3;
};

/**
 * Mounts a tus server at any path. Works when body parsers ran before it: a body a parser
 * already read as a Buffer (express.raw) is replayed; one parsed into anything else cannot
 * be recovered and is refused with 400 instead of being stored as zero bytes.
 *
 * It answers every request it is given and never calls next(): a failure is answered with
 * its tus status, or logged (the `logger` option) and answered "500 internal error", so no
 * S3 error reaches the app's error handler, which would print its stack. A failure after
 * the answer started (the client went away mid-response) closes the connection.
 */
export function tusS3Middleware(options: TusS3Options | TusS3 = {}): TusS3Middleware {
  const tus = 'server' in options ? options : createTusServer(options);
  const handler = (req: IncomingMessage, res: ServerResponse, _next?: Next): void => {
    const r = req as ExpressRequest;
    const baseUrl = r.baseUrl ?? '';
    const count: BodyCount = { bytes: 0 };
    const note: RequestNote = {};
    const log = startLogging(tus, req, res, note);
    countWhenAnswered(tus.instruments, req, res, () => count.direct?.received ?? count.bytes, log);
    if (refuse(tus, r, res)) return;
    // At close()'s deadline the body is cut as a client that went away would cut it.
    const leave = tus.inFlight.enter(() => req.destroy(new Error('server shutting down')));
    if (!leave) {
      // A new connection may reach another instance, or this one restarted.
      res.setHeader('Connection', 'close');
      void sendWebResponse(res, closingResponse(TUS_VERSION));
      return;
    }
    handle(tus, r, res, baseUrl, { count, note, settled: leave })
      .catch((err: unknown) => {
        tus.front.logger?.error({ method: req.method, err }, 'request failed in the middleware');
        if (res.headersSent) {
          res.destroy();
          return;
        }
        res.statusCode = 500;
        res.setHeader('Tus-Resumable', TUS_VERSION);
        res.setHeader('Content-Type', 'text/plain; charset=utf-8');
        res.end(INTERNAL_ERROR_BODY);
      })
      .finally(leave);
  };
  return Object.assign(handler, { tus });
}

/**
 * What is refused before a URL is built: a Host that is no authority (URL construction
 * would throw), a path that parsing would change, then the spec's own answers.
 */
function refusalOf(tus: TusS3, req: ExpressRequest): Refusal | undefined {
  const respectForwarded = tus.server.options.respectForwardedHeaders === true;
  const header = (name: string): string | undefined => {
    const v = req.headers[name];
    return Array.isArray(v) ? v[0] : v;
  };
  const problem =
    hostHeadersProblem(header, respectForwarded) ??
    pathProblem(`${req.baseUrl ?? ''}${pathOfTarget(req.url ?? '/')}`);
  if (problem) return { status: 400, message: problem, headers: {} };
  return refusalFor(req.method, req.headers);
}

function refuse(tus: TusS3, req: ExpressRequest, res: ServerResponse): boolean {
  const refusal = refusalOf(tus, req);
  if (!refusal) return false;
  res.statusCode = refusal.status;
  res.setHeader('Tus-Resumable', TUS_VERSION);
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  for (const [k, v] of Object.entries(refusal.headers)) res.setHeader(k, v);
  res.end(`${refusal.message}\n`);
  return true;
}

/**
 * A store that reads the body itself skips @tus/server's stream stages (body/direct-body.ts),
 * unless someone listens for POST_RECEIVE: @tus/server counts those progress events on
 * the bytes passing through its streams.
 */
function readsBodyItself(tus: TusS3): boolean {
  return readsDirectBody(tus.datastore) && tus.server.listenerCount(EVENTS.POST_RECEIVE) === 0;
}

function bodyWasConsumed(req: ExpressRequest): boolean {
  return req._body === true || (req.readableEnded && req.body !== undefined);
}

/** What one request's serving reports back: its body bytes, its owner, when it settled. */
interface Serving {
  count: BodyCount;
  note: RequestNote;
  settled: () => void;
}

/**
 * The request id settled (the client's when safe, else a new one, put on the request so the
 * front reads the same) and, with the CORS headers, set on the answer before anything can
 * answer: the front's own refusals, a shutdown's 503 and a 500 carry them too.
 */
function startLogging(
  tus: TusS3,
  req: IncomingMessage,
  res: ServerResponse,
  note: RequestNote,
): RequestLogging {
  const startedAt = performance.now();
  const requestId = requestIdOf(req.headers['x-request-id']);
  req.headers['x-request-id'] = requestId;
  res.setHeader(REQUEST_ID_HEADER, requestId);
  const origin = req.headers.origin;
  const preflight = isPreflight(req.method ?? '', req.headers['access-control-request-method']);
  const cors = corsHeaders(tus.front.cors ?? OPEN_CORS, origin, preflight);
  for (const [name, value] of Object.entries(cors))
    if (value !== undefined) res.setHeader(name, value);
  const path = pathOfTarget(req.url ?? '/');
  const base = (req as ExpressRequest).baseUrl ?? '';
  return {
    logger: tus.front.logger ?? silentLogger,
    requestId,
    path: `${base}${path}`,
    note,
    startedAt,
  };
}

/** The body bytes a request brought: counted here, or by the store's own reader. */
interface BodyCount {
  bytes: number;
  direct?: DirectBody;
}

async function handle(
  tus: TusS3,
  req: ExpressRequest,
  res: ServerResponse,
  baseUrl: string,
  { count, note, settled }: Serving,
): Promise<void> {
  let body: ReadableStream<Uint8Array> | Uint8Array | null;
  let direct: DirectBody | undefined;
  if (bodyWasConsumed(req)) {
    const hasBody =
      Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'];
    if (hasBody && !Buffer.isBuffer(req.body)) {
      res.statusCode = 400;
      res.setHeader('Tus-Resumable', TUS_VERSION);
      res.end(
        'request body was parsed by a body parser mounted before tus-s3; mount tus-s3 first or exclude its path\n',
      );
      return;
    }
    body = Buffer.isBuffer(req.body) ? req.body : null;
    count.bytes = body?.length ?? 0;
  } else if (req.method === 'POST' || req.method === 'PATCH') {
    direct = readsBodyItself(tus) ? new DirectBody(req) : undefined;
    count.direct = direct;
    body = direct ? direct.placeholder : countingBody(webBodyFrom(req), count);
  } else {
    body = null;
  }
  // The path alone: a query string never names an upload (front/request-target.ts).
  const url = `http://${req.headers.host || 'localhost'}${baseUrl}${pathOfTarget(req.url ?? '/')}`;
  const response = await handleTusRequest(
    tus,
    toWebRequest(req, url, body),
    baseUrl || tus.server.options.path,
    direct,
    note,
    { interim: interimWriter(req, res), bodyComplete: () => req.complete },
  );
  // The store is done with the request (its bytes durable); sending the answer is not
  // what a shutdown waits for: a cut client will not read it.
  settled();
  await sendWebResponse(res, response);
}
