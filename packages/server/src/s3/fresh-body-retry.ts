// The SDK retries a request only when it can send its body again: a buffer, not a stream.
// A part or segment held as slabs, or led by staged segments streamed from S3, goes out as
// a stream, yet its bytes are still held (or still in S3): such a request is tried again
// here, each attempt with a body built anew, as the SDK would try a buffered one.
import type { Readable } from 'node:stream';
import { TusError } from '../errors.js';

/**
 * Attempts of a stream-bodied request, the first included, when the client tells none:
 * the SDK's standard count. Otherwise the client's own `maxAttempts` (s3/client.ts).
 */
export const FRESH_BODY_ATTEMPTS = 3;

/** What a client (or a test's stand-in) says of its attempts. */
interface AttemptsOf {
  config?: { maxAttempts?: () => Promise<number> };
}

async function attemptsOf(client: AttemptsOf): Promise<number> {
  const n = await client.config?.maxAttempts?.();
  return n !== undefined && Number.isInteger(n) && n >= 1 ? n : FRESH_BODY_ATTEMPTS;
}
const BACKOFF_MS = 100;

/** A failure another attempt may not meet: S3 unreachable, or a 5xx or throttling answer. */
export function isTransient(err: unknown): boolean {
  // Storage that did not answer (s3/transport-errors.ts).
  if (err instanceof TusError) return err.status_code === 503;
  const e = err as { $metadata?: { httpStatusCode?: number } } | null;
  const status = e?.$metadata?.httpStatusCode;
  return status !== undefined && (status >= 500 || status === 429);
}

/**
 * Sends `body()` with `send`; a stream body that fails transiently is built and sent again,
 * as often as `client` would try a request.
 * `before` runs right before each attempt (the fence check: a holder that lost its lock
 * does not try again).
 * A stream body can fail on its own (a staged segment's GET cut or stalled by S3): the SDK
 * pipes the body into its request and listens to no error of it, so such a failure would
 * be an unhandled 'error' that ends the process, and the request would wait out its idle
 * timeout on a socket. Here it aborts the request (`signal`, for the SDK's `abortSignal`)
 * and counts as that attempt's failure.
 */
export async function sendWithFreshBody<T>(
  client: AttemptsOf,
  body: () => Buffer | Readable,
  send: (body: Buffer | Readable, signal: AbortSignal) => Promise<T>,
  before: () => void = () => {},
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const current = body();
    const abort = new AbortController();
    const bodyFailure = Buffer.isBuffer(current) ? undefined : failureOf(current, abort);
    try {
      before();
      const sent = send(current, abort.signal);
      return await (bodyFailure ? Promise.race([sent, bodyFailure.failed]) : sent);
    } catch (caught) {
      const err = bodyFailure?.error ?? caught;
      if (Buffer.isBuffer(current)) throw err; // the SDK tried it again already
      // Stops what the stream still reads (staged segments' GETs).
      current.destroy();
      if (!isTransient(err) || attempt >= (await attemptsOf(client))) throw err;
      await new Promise((resolve) => setTimeout(resolve, BACKOFF_MS * 2 ** (attempt - 1)));
    } finally {
      bodyFailure?.detach();
    }
  }
}

interface BodyFailure {
  /** Rejects with the body's own error, once it has one. */
  failed: Promise<never>;
  error: unknown;
  detach(): void;
}

function failureOf(body: Readable, abort: AbortController): BodyFailure {
  let onError: (err: unknown) => void = () => {};
  const out: BodyFailure = {
    failed: new Promise<never>((_, reject) => {
      onError = (err: unknown) => {
        out.error ??= err;
        abort.abort(err);
        reject(err);
      };
    }),
    error: undefined,
    // A destroyed body may still emit: its listener stays, it only records.
    detach: () => {
      body.off('error', onError);
      body.on('error', () => {});
    },
  };
  out.failed.catch(() => {});
  body.on('error', onError);
  return out;
}
