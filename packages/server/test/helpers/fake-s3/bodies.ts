// Request and response bodies as the SDK handles them: a request body may be a Buffer or
// Uint8Array, a string, a node Readable or any async iterable of chunks, and is read to
// its end (a request is only answered once S3 has the whole body); a response body has
// the SDK's transformTo* methods.
import { Readable } from 'node:stream';
import { badRequest } from './errors.js';

/**
 * The whole request body, copied: the store reuses its part buffers once a request is
 * answered, so nothing here may keep a view of them. An abort (the store abandoning a
 * streamed part) rejects as the SDK does, with an AbortError.
 */
export async function readBody(body: unknown, signal?: AbortSignal): Promise<Buffer> {
  if (body === undefined || body === null) return Buffer.alloc(0);
  if (typeof body === 'string') return Buffer.from(body, 'utf-8');
  if (body instanceof Uint8Array) return Buffer.from(body);
  if (!isAsyncIterable(body)) throw new Error(`fake S3: unsupported body ${typeof body}`);
  const it = body[Symbol.asyncIterator]();
  const aborted = abortPromise(signal);
  const chunks: Buffer[] = [];
  try {
    for (;;) {
      const next = await Promise.race([it.next(), aborted.promise]);
      if (next.done) break;
      const chunk = next.value as Uint8Array | string;
      chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk));
    }
  } catch (err) {
    // Not awaited: an iterator's return() waits for a pending next() that may never settle.
    if (body instanceof Readable) body.destroy();
    else void it.return?.();
    throw err;
  } finally {
    aborted.dispose();
  }
  return Buffer.concat(chunks);
}

/** A handler's body: FakeS3.send has read it whole already. */
export function received(body: unknown): Buffer {
  return Buffer.isBuffer(body) ? body : Buffer.alloc(0);
}

/** S3 refuses a body whose length differs from its Content-Length. */
export function checkLength(bytes: Buffer, declared: unknown): void {
  if (declared !== undefined && declared !== bytes.length) {
    throw badRequest(
      'IncompleteBody',
      `body has ${bytes.length} bytes, Content-Length ${String(declared)}`,
    );
  }
}

/** A GetObject Body: a Readable with the SDK's transformTo* methods. */
export function responseBody(bytes: Buffer) {
  const stream = Readable.from(bytes.length > 0 ? [bytes] : []);
  return Object.assign(stream, {
    transformToByteArray: async () => new Uint8Array(bytes),
    transformToString: async (encoding: BufferEncoding = 'utf-8') => bytes.toString(encoding),
    transformToWebStream: () => Readable.toWeb(stream),
  });
}

function isAsyncIterable(v: unknown): v is AsyncIterable<unknown> {
  return typeof (v as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function';
}

function abortPromise(signal: AbortSignal | undefined) {
  let dispose = () => {};
  const promise = new Promise<never>((_, reject) => {
    if (!signal) return;
    const fail = () => reject(Object.assign(new Error('Request aborted'), { name: 'AbortError' }));
    if (signal.aborted) return fail();
    signal.addEventListener('abort', fail, { once: true });
    dispose = () => signal.removeEventListener('abort', fail);
  });
  // Never awaited when the body ends first.
  promise.catch(() => {});
  return { promise, dispose: () => dispose() };
}
