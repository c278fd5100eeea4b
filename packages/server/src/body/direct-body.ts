// A request body the store reads straight from node's IncomingMessage.
//
// @tus/server takes a Fetch API Request, so a body would otherwise pass five streams
// before the store sees a byte: IncomingMessage -> web ReadableStream (front/node-bridge.ts) ->
// Readable.fromWeb -> PassThrough -> StreamLimiter -> the store's iterator. Each hop
// allocates promises and wrappers per 64 KiB chunk (seen with a sampling heap profiler),
// which the server then spends its time collecting.
// Here @tus/server gets an empty placeholder body instead, and the store (only one that
// says it can, see readsDirectBody) reads the IncomingMessage itself through BodyReader.
//
// The placeholder still carries what @tus/server must see: it ends when the real body
// ended, and fails with the real body's error, so @tus/server's own error mapping (a body
// cut off by the client is ERRORS.ABORTED) stays as it is. The other way round, when
// @tus/server stops a request early (another request took its upload's lock over), it
// ends the stream it hands the store; the store's reader then ends too, as that stream
// would have, and the bytes received so far count.
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';

/**
 * Queued body bytes beyond which the socket is paused; the kernel's socket buffer holds
 * more. Small on purpose: a chunk that waits here through two minor collections (one per
 * 2 MiB of all bodies, body/chunk-reclaimer.ts) is promoted with its 64 KiB, which only a full
 * collection frees. With four bodies at once, a 1 MiB queue promotes chunks all the time
 * and costs full collections (BENCHMARKS.md, "Figures behind the code's choices").
 */
export const BODY_HIGH_WATER_MARK = 256 * 1024;

/**
 * A body that brings no byte for this long is cut by default (ms). Long enough for a phone
 * that drops to a slow network for a moment, short enough that a client that went away does
 * not hold its upload's lock and part memory for minutes (node's own requestTimeout is 300 s
 * for the whole request, which a slow honest upload may need).
 */
export const DEFAULT_IDLE_TIMEOUT = 30_000;

/**
 * A body the store may leave unread: hold() pauses its socket until the next next() (a
 * request waiting for part memory, s3/memory/turns.ts), and interrupt() ends a next() that
 * waits for the client's bytes with an empty chunk (the request gives back what it holds).
 */
export interface HoldableBody {
  hold(): void;
  /** Whether a next() was waiting; it resolves with an empty chunk. */
  interrupt(): boolean;
}

export function holdable(body: unknown): HoldableBody | undefined {
  return body instanceof BodyReader ? body : undefined;
}

const EMPTY = Buffer.alloc(0);

/** A datastore that reads the request body itself when the request context offers it. */
export interface DirectBodyStore {
  readonly readsDirectBody: true;
}

export function readsDirectBody(store: unknown): store is DirectBodyStore {
  return (store as Partial<DirectBodyStore> | null)?.readsDirectBody === true;
}

export class DirectBody {
  /** The body @tus/server gets: no bytes, ends or fails with the real one. */
  readonly placeholder: ReadableStream<Uint8Array>;
  private controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  private settled = false;
  private reader: BodyReader | undefined;

  constructor(private readonly req: IncomingMessage) {
    this.placeholder = new ReadableStream<Uint8Array>({
      start: (controller) => {
        this.controller = controller;
      },
      cancel: () => {
        // @tus/server gave up on the request (an error answer): stop reading.
        this.settled = true;
        this.reader?.stop();
      },
    });
  }

  /**
   * The real body, for the store. `handed` is the stream @tus/server gave the store: it
   * ends early only when @tus/server stops the request, and then so does the reader.
   * Claiming twice is a bug (one body, one reader). A body silent for `idleTimeout` ms
   * (0: never) is cut as if the client had closed the connection.
   */
  /** Body bytes that arrived from the client so far (the metrics' bytes received). */
  get received(): number {
    return this.reader?.received ?? 0;
  }

  claim(handed: Readable, idleTimeout = 0): BodyReader {
    if (this.reader) throw new Error('request body claimed twice');
    const hooks = { onEnd: () => this.close(), onError: (err: Error) => this.fail(err) };
    const reader = new BodyReader(this.req, hooks, idleTimeout);
    this.reader = reader;
    // It carries no bytes; reading it is what lets its end (ours, or @tus/server's) show.
    handed.on('data', () => {});
    const stop = () => reader.stop();
    handed.once('end', stop);
    handed.once('close', stop);
    handed.once('error', stop);
    return reader;
  }

  private close(): void {
    if (this.settled) return;
    this.settled = true;
    try {
      this.controller?.close();
    } catch {
      // Cancelled meanwhile: nothing reads it any more.
    }
  }

  private fail(err: Error): void {
    if (this.settled) return;
    this.settled = true;
    try {
      this.controller?.error(err);
    } catch {
      // As above.
    }
  }
}

interface ReaderHooks {
  /** Every byte of the body was handed out. */
  onEnd(): void;
  /** The body failed (the client cut the connection). */
  onError(err: Error): void;
}

/**
 * An async iterator over an IncomingMessage's chunks with a byte-counted queue: the
 * socket pauses once BODY_HIGH_WATER_MARK bytes wait, and stays paused until the first
 * next() (the store may first wait for part memory, with nothing of the body read). Leaving the loop early (return())
 * or stop() ends it without destroying the request: the rest of the body is drained so
 * the answer can still go out on this connection. A failed body hands out what it queued
 * before the failure, then throws.
 */
export class BodyReader implements AsyncIterableIterator<Buffer>, HoldableBody {
  private readonly queue: Buffer[] = [];
  private queued = 0;
  private ended = false;
  private failure: Error | undefined;
  private finished = false;
  private wake: (() => void) | undefined;
  private idle: NodeJS.Timeout | undefined;
  private interrupted = false;
  /** Bytes that arrived, handed out or not. */
  received = 0;
  private readonly onData = (chunk: Buffer) => {
    this.received += chunk.length;
    this.queue.push(chunk);
    this.queued += chunk.length;
    if (this.queued >= BODY_HIGH_WATER_MARK) this.req.pause();
    this.notify();
  };
  private readonly onEnd = () => {
    this.ended = true;
    this.notify();
  };
  private readonly onError = (err?: Error) => {
    if (this.ended || this.failure) return;
    this.failure = err ?? new Error('client closed the connection mid-body');
    this.hooks.onError(this.failure);
    this.notify();
  };
  private readonly onClose = () => this.onError();

  constructor(
    private readonly req: IncomingMessage,
    private readonly hooks: ReaderHooks,
    private readonly idleTimeout = 0,
  ) {
    if (req.readableEnded) {
      this.ended = true;
      return;
    }
    req.on('data', this.onData);
    req.once('end', this.onEnd);
    req.once('error', this.onError);
    req.once('close', this.onClose);
    req.pause();
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  async next(): Promise<IteratorResult<Buffer>> {
    for (;;) {
      const chunk = this.queue.shift();
      if (chunk) {
        this.queued -= chunk.length;
        // A chunk ends the wait an interrupt was for.
        this.interrupted = false;
        this.resumeBelowMark();
        return { value: chunk, done: false };
      }
      if (this.failure) {
        this.detach();
        throw this.failure;
      }
      if (this.ended || this.finished) {
        this.finishClean();
        return { value: undefined, done: true };
      }
      if (this.interrupted) {
        this.interrupted = false;
        return { value: EMPTY, done: false };
      }
      this.resumeBelowMark();
      this.armIdle();
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
  }

  /** Only the socket this reader paused is resumed: not a call per chunk. */
  private resumeBelowMark(): void {
    if (this.queued < BODY_HIGH_WATER_MARK && !this.finished && this.req.isPaused()) {
      this.req.resume();
    }
  }

  /** Leaves the socket paused until the next next(): nothing more is read meanwhile. */
  hold(): void {
    if (!this.finished && !this.ended && !this.failure) this.req.pause();
  }

  /**
   * A next() waiting for the client's bytes resolves with an empty chunk. The idle timer
   * keeps running: the client is no less silent.
   */
  interrupt(): boolean {
    const wake = this.wake;
    if (!wake) return false;
    this.wake = undefined;
    this.interrupted = true;
    wake();
    return true;
  }

  /**
   * Only a wait for the client's bytes counts as idle: while the store is busy with what
   * arrived (the socket paused by this reader), the client is not the one waiting.
   */
  private armIdle(): void {
    if (this.idleTimeout <= 0 || this.idle) return;
    this.idle = setTimeout(() => {
      this.idle = undefined;
      if (this.ended || this.finished || this.failure) return;
      // As a cut connection: what arrived is kept; the client is gone or too slow to wait for.
      this.req.destroy(new Error(`request body idle for ${this.idleTimeout} ms`));
    }, this.idleTimeout);
    this.idle.unref();
  }

  /** The consumer left its loop early: what is queued is dropped with the rest. */
  async return(): Promise<IteratorResult<Buffer>> {
    this.queue.length = 0;
    this.queued = 0;
    this.stop();
    return { value: undefined, done: true };
  }

  /** Ends the iteration after what is queued; the rest of the body is drained unread. */
  stop(): void {
    if (this.finished) return;
    this.finished = true;
    this.detach();
    if (!this.ended && !this.failure) this.req.resume();
    this.notify();
  }

  private finishClean(): void {
    const whole = this.ended && !this.finished;
    this.finished = true;
    this.detach();
    if (whole) this.hooks.onEnd();
  }

  private detach(): void {
    if (this.idle) clearTimeout(this.idle);
    this.idle = undefined;
    this.req.off('data', this.onData);
    this.req.off('end', this.onEnd);
    this.req.off('error', this.onError);
    this.req.off('close', this.onClose);
  }

  private notify(): void {
    if (this.idle) {
      clearTimeout(this.idle);
      this.idle = undefined;
    }
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
