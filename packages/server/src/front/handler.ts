// The layer in front of @tus/server that adds what it lacks, through its public seams
// only: parses Upload-Checksum and Upload-Concat into the request context for the store,
// turns a final concatenation request into one @tus/server accepts, and completes the
// response headers (OPTIONS capabilities, Upload-Concat, Tus-S3-Part-Size).
import type { EventEmitter } from 'node:events';
import type { Server, ServerOptions } from '@tus/server';
import { type DataStore, EVENTS, type Locker } from '@tus/utils';
import type { Logger } from 'pino';
import { type Authenticate, checkedPrincipal, type Principal } from '../auth/principal.js';
import type { DirectBody } from '../body/direct-body.js';
import {
  type ConcatenationStore,
  concatenationReaches,
  isChecksumStore,
  isInstantUploadStore,
  storeExtensions,
  verifiesReprDigest,
} from '../capabilities.js';
import { TusError } from '../errors.js';
import { parseUploadChecksum } from '../extensions/checksum.js';
import {
  parseUploadConcat,
  uploadConcatHeader,
  uploadIdFromUrl,
} from '../extensions/concatenation.js';
import {
  formatReprDigest,
  parseReprDigest,
  REPR_DIGEST_HEADER,
} from '../extensions/repr-digest.js';
import { CHALLENGE_HEADER } from '../instant/challenge.js';
import { countsGenerations } from '../locks/redis-locker.js';
import { lockUploads } from '../locks/upload-locks.js';
import { silentLogger } from '../log.js';
import { REQUEST_ID_HEADER, type RequestNote, requestIdOf } from '../ops/request-log.js';
import { applyCors, type CorsPolicy, isPreflight, OPEN_CORS } from './cors.js';
import { type DraftDeps, type InterimWriter, isDraftRequest, serveDraft } from './draft/index.js';
import { answerFailure, failureResponse, publicErrorOf } from './error-response.js';
import { readInstantHeaders } from './instant.js';
import { TUS_MEDIA_TYPE, TUS_VERSION } from './request-checks.js';
import { noteLockGeneration, type RequestContext, requestContext } from './request-context.js';
import { hostHeadersProblem, pathProblem, withoutQuery } from './request-target.js';

/** Response header: the S3 part size (OPTIONS: for new uploads; POST/HEAD: the upload's). */
export const PART_SIZE_HEADER = 'Tus-S3-Part-Size';
/** The length an IETF draft upload announced while its tus length is deferred (front/draft/). */
export const ANNOUNCED_LENGTH_HEADER = 'Tus-S3-Announced-Length';
export const CHECKSUM_ALGORITHM_HEADER = 'Tus-Checksum-Algorithm';
/** Request headers browsers must be allowed to send, and response headers they may read. */
export const EXTENSION_REQUEST_HEADERS = [
  'Upload-Checksum',
  REPR_DIGEST_HEADER,
  'Upload-Instant',
  'Upload-Instant-Proof',
];
export const EXTENSION_RESPONSE_HEADERS = [
  CHECKSUM_ALGORITHM_HEADER,
  PART_SIZE_HEADER,
  REPR_DIGEST_HEADER,
  'Upload-Instant-Challenge',
];

/** How the front behaves beyond what @tus/server's options say. */
export interface FrontOptions {
  /** Where internal failures are logged (the client gets "500 internal error"). */
  logger?: Logger;
  /** Most partial uploads one `Upload-Concat: final` may name (default 256). */
  maxConcatPartials?: number;
  /** Runs before any S3 work on every request but OPTIONS (auth/principal.ts). */
  authenticate?: Authenticate;
  /** CORS on every answer (front/cors.ts); default any origin, no credentials. */
  cors?: CorsPolicy;
}

/** What the front serves requests through: @tus/server and the store behind it. */
export interface TusEndpoint {
  server: Server;
  datastore: DataStore;
  front?: FrontOptions;
}

interface PartSizedStore {
  preferredPartSize(): number;
}

function isPartSized(store: unknown): store is PartSizedStore {
  return typeof (store as Partial<PartSizedStore>).preferredPartSize === 'function';
}

type ServerLocker = ServerOptions['locker'];

/**
 * `locker`, whose lock generations (if it counts them) are noted in the context of the
 * request that took each lock, for the store (s3/state/upload-state.ts). A locker given
 * as a function or a promise is wrapped to do so with the locker it yields.
 */
export function notingLockGenerations(locker: ServerLocker | undefined): ServerLocker | undefined {
  if (typeof locker === 'function') {
    return async (req) => noted(await locker(req));
  }
  if (locker instanceof Promise) return locker.then(noted);
  if (locker !== undefined) noted(locker);
  return locker;
}

const noting = new WeakSet<Locker>();

/** Once per locker, however many servers share it; a locker that counts none is left alone. */
function noted(locker: Locker): Locker {
  if (countsGenerations(locker) && !noting.has(locker)) {
    noting.add(locker);
    locker.onAcquired(noteLockGeneration);
  }
  return locker;
}

/** What the connection offers the IETF draft (front/draft/): 1xx answers, the body's end. */
export interface DraftWire {
  interim?: InterimWriter;
  bodyComplete?: () => boolean;
}

/**
 * Handles one tus request (or IETF draft request, front/draft/). `basePath` is the URL path
 * the uploads live under (the mount path), used to read partial upload URLs and to write
 * them back. Never rejects: a failure is answered with its tus status, or logged and
 * answered 500.
 */
export async function handleTusRequest(
  tus: TusEndpoint,
  request: Request,
  basePath: string,
  body?: DirectBody,
  note: RequestNote = {},
  wire: DraftWire = {},
): Promise<Response> {
  const response = await answer(tus, request, basePath, body, note, wire);
  const h = request.headers;
  applyCors(
    response.headers,
    tus.front?.cors ?? OPEN_CORS,
    h.get('origin'),
    isPreflight(request.method, h.get('access-control-request-method')),
  );
  response.headers.set(REQUEST_ID_HEADER, requestIdOf(h.get(REQUEST_ID_HEADER)));
  return response;
}

async function answer(
  tus: TusEndpoint,
  request: Request,
  basePath: string,
  body: DirectBody | undefined,
  note: RequestNote,
  wire: DraftWire,
): Promise<Response> {
  try {
    const problem = targetProblem(tus, request);
    if (problem) return refusal(new TusError(400, problem));
    let principal: Principal | undefined;
    try {
      principal = await authenticated(tus.front?.authenticate, request);
    } catch (err) {
      if (err instanceof TusError) return unauthorized(err);
      throw err;
    }
    note.owner = principal?.owner;
    if (isDraftRequest((name) => request.headers.get(name))) {
      const deps = draftDeps(tus, basePath, body, principal, wire);
      return await serveDraft(deps, pathOnly(request));
    }
    return await serve(tus, pathOnly(request), basePath, body, principal);
  } catch (err) {
    return failureResponse(
      answerFailure(err, request, tus.front?.logger ?? silentLogger),
      TUS_VERSION,
    );
  }
}

/** The draft's requests become tus requests served as tus mode's, for the same principal. */
function draftDeps(
  tus: TusEndpoint,
  basePath: string,
  body: DirectBody | undefined,
  principal: Principal | undefined,
  wire: DraftWire,
): DraftDeps {
  const maxSize = tus.server.options.maxSize;
  return {
    tus: (request, direct, announcedLength) =>
      serve(tus, request, basePath, direct, principal, announcedLength),
    body,
    ...wire,
    maxSize: typeof maxSize === 'number' ? maxSize : undefined,
    expiration: tus.datastore.getExpiration(),
  };
}

/** Who the request acts for; undefined on an open server and for a CORS preflight. */
async function authenticated(
  authenticate: Authenticate | undefined,
  request: Request,
): Promise<Principal | undefined> {
  if (authenticate === undefined || request.method === 'OPTIONS') return undefined;
  return checkedPrincipal(await authenticate(request));
}

/** A refusal of the authenticate hook; a 401 names the scheme it wants (RFC 6750). */
function unauthorized(err: TusError): Response {
  const response = refusal(err);
  if (err.status_code === 401) response.headers.set('WWW-Authenticate', 'Bearer');
  return response;
}

/** Why the request's URL or Host cannot be served (request-target.ts), or undefined. */
export function targetProblem(tus: TusEndpoint, request: Request): string | undefined {
  const respectForwarded = tus.server.options.respectForwardedHeaders === true;
  return (
    pathProblem(new URL(request.url).pathname) ??
    hostHeadersProblem((name) => request.headers.get(name), respectForwarded)
  );
}

/** The request with its query and fragment dropped: only the path names an upload. */
function pathOnly(request: Request): Request {
  const url = withoutQuery(request.url);
  if (url === request.url) return request;
  const hasBody = request.body !== null;
  return new Request(url, {
    method: request.method,
    headers: request.headers,
    body: request.body,
    signal: request.signal,
    ...(hasBody ? { duplex: 'half' } : {}),
  } as RequestInit);
}

async function serve(
  tus: TusEndpoint,
  request: Request,
  basePath: string,
  body?: DirectBody,
  principal?: Principal,
  announcedLength?: number,
): Promise<Response> {
  const ctx: RequestContext = {
    baseUrl: basePath,
    method: request.method,
    principal,
    announcedLength,
    reply: {},
    body,
    lockUploads: async (ids, wait) => lockUploads(await lockerOf(tus, request), ids, wait),
    holds: lockedByTusServer(request, basePath),
  };
  const length = Number(request.headers.get('content-length') ?? Number.NaN);
  if (Number.isSafeInteger(length) && length >= 0) ctx.contentLength = length;
  if (request.headers.get('content-type') === TUS_MEDIA_TYPE) ctx.offsetBody = true;
  const offset = Number(request.headers.get('upload-offset') ?? Number.NaN);
  if (Number.isSafeInteger(offset) && offset >= 0) ctx.uploadOffset = offset;
  // prepare() runs in the request's context too: what the store reads there (a final's
  // partials) it keeps for the same request.
  return requestContext.run(ctx, async () => {
    const unlock: Unlock[] = [];
    try {
      let forward: Request;
      try {
        forward = await prepare(tus, request, ctx, unlock);
      } catch (err) {
        if (err instanceof TusError) return refusal(err);
        throw err;
      }
      const response = await tus.server.handleWeb(forward);
      return complete(tus, forward, response, ctx);
    } finally {
      for (const release of unlock) await release();
    }
  });
}

type Unlock = () => Promise<void>;

/** The upload whose lock @tus/server holds while the store serves this request. */
function lockedByTusServer(request: Request, basePath: string): Set<string> {
  // GET reads the upload before it takes the lock; POST creates a new one.
  if (!['HEAD', 'PATCH', 'DELETE'].includes(request.method)) return new Set();
  try {
    return new Set([uploadIdFromUrl(request.url, request.url, basePath)]);
  } catch {
    return new Set();
  }
}

async function prepare(
  tus: TusEndpoint,
  request: Request,
  ctx: RequestContext,
  unlock: Unlock[],
): Promise<Request> {
  const store = tus.datastore;
  const { method, headers } = request;
  // Without Tus-Resumable @tus/server answers 412 first; keep that order.
  if ((method !== 'POST' && method !== 'PATCH') || !headers.has('tus-resumable')) return request;
  const checksum = headers.get('upload-checksum');
  if (checksum !== null) {
    if (!isChecksumStore(store)) {
      // The spec: 400 when the server cannot compute the checksum. Accepting the bytes
      // unchecked would tell the client they were verified.
      throw new TusError(400, "Upload-Checksum cannot be verified by this server's storage");
    }
    ctx.checksum = parseUploadChecksum(checksum, store.checksumAlgorithms);
  }
  const digest = headers.get('repr-digest');
  // A store that cannot verify it ignores it (RFC 9530 lets a recipient ignore digests).
  if (digest !== null && verifiesReprDigest(store)) ctx.reprDigest = parseReprDigest(digest);
  // A store without instant upload ignores its headers: the client uploads normally.
  if (isInstantUploadStore(store)) readInstantHeaders(request, ctx);
  const concat = headers.get('upload-concat');
  if (method !== 'POST' || concat === null) return request;
  // A store without it gets @tus/server's own answer (501).
  if (!concatenationReaches(store)) return request;
  ctx.concat = parseUploadConcat(concat, request.url, ctx.baseUrl, tus.front?.maxConcatPartials);
  if (ctx.concat.role === 'partial') return request;
  unlock.push(await lockUploads(await lockerOf(tus, request), ctx.concat.partials));
  return finalCreation(request, ctx.concat.partials, store);
}

/** The locker @tus/server uses for this request (its default or the configured one). */
async function lockerOf(tus: TusEndpoint, request: Request): Promise<Locker> {
  const locker = tus.server.options.locker;
  return typeof locker === 'function' ? locker(request) : locker;
}

/**
 * @tus/server demands Upload-Length or Upload-Defer-Length on every creation, and a final
 * upload's client sends neither: its length is the partials' sum, set here.
 */
async function finalCreation(
  request: Request,
  partials: string[],
  store: ConcatenationStore,
): Promise<Request> {
  if (request.headers.get('content-type') === TUS_MEDIA_TYPE) {
    throw new TusError(403, 'a final upload is built from its partial uploads; it takes no bytes');
  }
  if (request.headers.has('upload-defer-length')) {
    throw new TusError(400, 'a final upload has the length of its partials; do not defer it');
  }
  const sizes = await store.sizeOfPartials(partials);
  const total = sizes.reduce((a, b) => a + b, 0);
  const declared = request.headers.get('upload-length');
  if (declared !== null && declared !== String(total)) {
    throw new TusError(400, `Upload-Length ${declared} is not the partials' total ${total}`);
  }
  const headers = new Headers(request.headers);
  headers.set('Upload-Length', String(total));
  return new Request(request.url, { method: 'POST', headers });
}

async function complete(
  tus: TusEndpoint,
  request: Request,
  response: Response,
  ctx: RequestContext,
): Promise<Response> {
  const store = tus.datastore;
  if (request.method === 'OPTIONS') {
    response.headers.set('Tus-Extension', storeExtensions(store).advertised.join(','));
    if (isChecksumStore(store)) {
      response.headers.set(CHECKSUM_ALGORITHM_HEADER, store.checksumAlgorithms.join(','));
    }
    if (isPartSized(store))
      response.headers.set(PART_SIZE_HEADER, String(store.preferredPartSize()));
    return response;
  }
  const ok = response.status >= 200 && response.status < 300;
  if (!ok) {
    // Set by the error mapping (tus-server.ts) from the failure @tus/server answered.
    const after = ctx.reply.retryAfter;
    if (after !== undefined) response.headers.set('Retry-After', String(after));
    return response;
  }
  const {
    partSize,
    concat,
    unfinishedFinal,
    finishedFinal,
    digest,
    announcedLength,
    instantChallenge,
  } = ctx.reply;
  const described = request.method === 'HEAD' || request.method === 'POST';
  if (request.method === 'POST' && instantChallenge !== undefined) {
    response.headers.set(CHALLENGE_HEADER, instantChallenge);
  }
  if (request.method === 'HEAD' && digest !== undefined) {
    response.headers.set(REPR_DIGEST_HEADER, formatReprDigest(digest));
  }
  if (described && partSize !== undefined) {
    response.headers.set(PART_SIZE_HEADER, String(partSize));
  }
  if (described && announcedLength !== undefined) {
    response.headers.set(ANNOUNCED_LENGTH_HEADER, String(announcedLength));
  }
  if (described && concat) {
    response.headers.set('Upload-Concat', uploadConcatHeader(concat, ctx.baseUrl));
  }
  // The spec: no Upload-Offset for a final until its concatenation is finished.
  if (described && unfinishedFinal) response.headers.delete('Upload-Offset');
  // A request that completed a direct final (a partial's last PATCH, or a look that
  // repaired it) finishes it for the hooks.
  if (finishedFinal !== undefined) return finalFinished(tus, request, response, finishedFinal);
  if (request.method === 'POST' && concat?.role === 'final' && !unfinishedFinal) {
    const location = response.headers.get('location') ?? '';
    const id = decodeURIComponent(location.replace(/\/+$/, '').split('/').pop() ?? '');
    if (id) return finalFinished(tus, request, response, id);
  }
  return response;
}

/**
 * A final upload is complete when its creation answers (or, for a direct final, when the
 * request that completed its last partial does), but @tus/server only calls onUploadFinish
 * (and emits POST_FINISH) for uploads that received bytes in that request or are empty.
 */
async function finalFinished(
  tus: TusEndpoint,
  request: Request,
  response: Response,
  id: string,
): Promise<Response> {
  // Loaded outside this request: it may be a partial's PATCH, and a PATCH on a final is refused.
  const upload = await requestContext.exit(() => tus.datastore.getUpload(id));
  if (upload.size === 0) return response; // @tus/server did both already
  let result = response;
  const hook = tus.server.options.onUploadFinish;
  if (hook) {
    try {
      const patch = await hook(request, upload);
      if (patch?.status_code || patch?.body || patch?.headers) {
        const headers = new Headers(response.headers);
        for (const [k, v] of Object.entries(patch.headers ?? {})) headers.set(k, String(v));
        result = new Response(patch.body ?? null, {
          status: patch.status_code ?? response.status,
          headers,
        });
      }
    } catch (err) {
      const e = err as { status_code?: number; body?: string };
      if (!e.status_code) throw err;
      return refusal(new TusError(e.status_code, (e.body ?? '').trim() || 'onUploadFinish failed'));
    }
  }
  // Listeners added with server.on() are on the server itself (it forwards them to its
  // handlers too); its typed emit() signature does not fit an event's arguments.
  (tus.server as EventEmitter).emit(EVENTS.POST_FINISH, request, result, upload);
  return result;
}

function refusal(err: TusError): Response {
  return failureResponse(
    publicErrorOf(err) ?? { status_code: err.status_code, body: err.body },
    TUS_VERSION,
  );
}
