/**
 * One fetch-based transport for browsers, React Native and Node 20. Every request has an
 * idle watchdog: when no body byte was handed to the connection and no answer arrived for
 * `stallTimeoutMs`, the request is aborted with a 'stall' error. A request never hangs.
 */
import { httpError, TusError } from './errors.js';
import { Watchdog } from './stall.js';

export type RequestBody = Blob | Uint8Array | ReadableStream<Uint8Array>;

export interface HttpRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: RequestBody;
}

export interface HttpResponse {
  status: number;
  headers: Headers;
  body: string;
  /** Final URL after redirects. */
  url: string;
}

export interface TransportOptions {
  fetch: typeof fetch;
  stallTimeoutMs: number;
  /**
   * Send Uint8Array bodies as a stream of pieces (needs fetch upload streaming, i.e. Node
   * 20's undici with `duplex: 'half'`) so bytes sent are counted and a server that stops
   * reading is noticed mid-body. Browsers only stream over HTTP/2, so the default is on
   * in Node only.
   */
  streamBodies: boolean;
}

export interface SendHooks {
  /** Called with the number of body bytes handed to the connection so far. */
  onBodyProgress?(sent: number): void;
  /** Abort from the caller (pause, abort, terminate). */
  signal?: AbortSignal;
}

const PIECE = 64 * 1024;

export function defaultStreamBodies(): boolean {
  const p = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof p?.versions?.node === 'string' && typeof ReadableStream === 'function';
}

export async function send(
  req: HttpRequest,
  o: TransportOptions,
  hooks: SendHooks = {},
): Promise<HttpResponse> {
  const controller = new AbortController();
  let stalled = false;
  const watchdog = new Watchdog(o.stallTimeoutMs, () => {
    stalled = true;
    controller.abort(new Error('stalled'));
  });
  const onOuterAbort = () => controller.abort(hooks.signal?.reason);
  if (hooks.signal?.aborted) onOuterAbort();
  hooks.signal?.addEventListener('abort', onOuterAbort, { once: true });

  let sent = 0;
  const progress = (n: number) => {
    sent += n;
    watchdog.touch();
    hooks.onBodyProgress?.(sent);
  };

  const { init, streaming } = fetchInit(req, o, controller.signal, progress);

  try {
    const res = await o.fetch(req.url, init);
    watchdog.touch();
    const text = await readText(res, () => watchdog.touch());
    if (!streaming && req.body) hooks.onBodyProgress?.(bodySize(req.body));
    return { status: res.status, headers: res.headers, body: text, url: res.url || req.url };
  } catch (e) {
    throw failure(req, o, e, stalled, hooks.signal);
  } finally {
    watchdog.stop();
    hooks.signal?.removeEventListener('abort', onOuterAbort);
  }
}

/** fetch's init for `req`: a body that counts its bytes as they go, when it can. */
function fetchInit(
  req: HttpRequest,
  o: TransportOptions,
  signal: AbortSignal,
  progress: (n: number) => void,
): { init: RequestInit & { duplex?: 'half' }; streaming: boolean } {
  let body: BodyInit | undefined;
  let streaming = false;
  if (req.body instanceof Uint8Array) {
    if (o.streamBodies && req.body.length > 0) {
      body = piecesStream(req.body, progress);
      streaming = true;
    } else {
      body = req.body as BodyInit;
    }
  } else if (isReadableStream(req.body)) {
    body = countingStream(req.body, progress);
    streaming = true;
  } else if (req.body) {
    body = req.body;
  }

  const init: RequestInit & { duplex?: 'half' } = {
    method: req.method,
    headers: req.headers,
    body,
    signal,
    redirect: 'follow',
  };
  if (streaming) {
    init.duplex = 'half';
    // A stream body cannot follow a redirect anyway, and with 'follow' Node's fetch (undici)
    // tees the body for a possible replay and keeps every byte of it in memory until the
    // response (nodejs/undici#4058): a 256 MiB chunk would cost 256 MiB of RAM.
    init.redirect = 'error';
  }
  return { init, streaming };
}

/** What a failed fetch was: a stall (our watchdog), the caller's abort, or the network. */
function failure(
  req: HttpRequest,
  o: TransportOptions,
  e: unknown,
  stalled: boolean,
  signal: AbortSignal | undefined,
): TusError {
  if (stalled) {
    return new TusError(
      `${req.method} ${req.url}: no progress for ${o.stallTimeoutMs} ms (stalled), aborted`,
      { kind: 'stall', method: req.method, url: req.url, cause: e },
    );
  }
  if (signal?.aborted) {
    return new TusError(`${req.method} ${req.url}: aborted`, {
      kind: 'aborted',
      method: req.method,
      url: req.url,
      cause: signal.reason,
    });
  }
  if (e instanceof TusError) return e;
  return new TusError(`${req.method} ${req.url}: network error: ${describe(e)}`, {
    kind: 'network',
    method: req.method,
    url: req.url,
    cause: e,
  });
}

/** Throws the standard error for an unexpected status. */
export function unexpected(req: HttpRequest, res: HttpResponse, what?: string): never {
  throw httpError(req.method, req.url, res.status, res.body, what);
}

function isReadableStream(x: unknown): x is ReadableStream<Uint8Array> {
  return typeof (x as ReadableStream | undefined)?.getReader === 'function';
}

function bodySize(b: RequestBody): number {
  return b instanceof Uint8Array ? b.length : isReadableStream(b) ? 0 : (b as Blob).size;
}

function piecesStream(
  bytes: Uint8Array,
  progress: (n: number) => void,
): ReadableStream<Uint8Array> {
  let off = 0;
  return new ReadableStream<Uint8Array>(
    {
      pull(c) {
        if (off >= bytes.length) {
          c.close();
          return;
        }
        const piece = bytes.subarray(off, off + PIECE);
        off += piece.length;
        c.enqueue(piece);
        progress(piece.length);
      },
    },
    { highWaterMark: 0 },
  );
}

function countingStream(
  src: ReadableStream<Uint8Array>,
  progress: (n: number) => void,
): ReadableStream<Uint8Array> {
  const reader = src.getReader();
  return new ReadableStream<Uint8Array>(
    {
      async pull(c) {
        const r = await reader.read();
        if (r.done) {
          c.close();
          return;
        }
        c.enqueue(r.value);
        progress(r.value.length);
      },
      cancel(reason) {
        return reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}

async function readText(res: Response, touch: () => void): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const dec = new TextDecoder();
  let out = '';
  for (;;) {
    const r = await reader.read();
    if (r.done) break;
    touch();
    // tus answers are small; keep at most 64 KiB of an unexpected body.
    if (out.length < 65536) out += dec.decode(r.value, { stream: true });
  }
  return out + dec.decode();
}

function describe(e: unknown): string {
  if (e instanceof Error) {
    const cause = (e as { cause?: unknown }).cause;
    const c = cause instanceof Error ? ` (${cause.message})` : '';
    return `${e.message}${c}`;
  }
  return String(e);
}
