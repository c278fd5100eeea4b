/**
 * The upload state machine: (OPTIONS) -> create (POST, maybe with the first bytes) or
 * HEAD a known URL -> PATCH loop from the server's offset -> done. Failures go through
 * policy.ts (retry / resync / restart / shrink / resend / fail) and retry.ts (backoff,
 * budget). With `parallel` > 1 the file goes up as partial uploads (parallel/run.ts, each
 * one an Upload of this class) joined by a final POST (tus concatenation).
 */
import { checksumCaps, parseCaps, type ServerCaps, unknownCaps } from './caps.js';
import { DigestAhead } from './checksum/ahead.js';
import {
  type ChecksumAlgorithm,
  type ChecksumOption,
  chooseChecksum,
} from './checksum/algorithms.js';
import { type ChecksummedBody, checksumChunk } from './checksum/digest.js';
import { type ChunkSizeOption, ChunkSizer } from './chunk-size.js';
import { httpError, isTusError, TusError } from './errors.js';
import { Emitter } from './events.js';
import { fingerprintKey } from './fingerprint.js';
import {
  defaultStreamBodies,
  type HttpRequest,
  type HttpResponse,
  type RequestBody,
  send,
} from './http.js';
import { encodeMetadata } from './metadata.js';
import { planParallel } from './parallel/plan.js';
import { type PartialEvent, runPartials } from './parallel/run.js';
import { sliceSource } from './parallel/slice-source.js';
import { decide, type Phase } from './policy.js';
import { RetryBudget, type RetryOptions, retryPolicy, sleep } from './retry.js';
import type { SourceChunk, UploadSource } from './sources/types.js';
import type { StoredPartial, StoredUpload, UploadStore } from './stores/types.js';

export const TUS_VERSION = '1.0.0';

/** What `onBeforeRequest` may inspect and change (headers are mutable). */
export interface RequestInfo {
  method: string;
  url: string;
  headers: Record<string, string>;
}

export interface UploadOptions {
  /** Creation URL (POST). Needed unless `uploadUrl` is given. */
  endpoint?: string;
  /** Resume this upload URL instead of looking one up in the store. */
  uploadUrl?: string;
  /** Upload-Metadata, encoded exactly as UTF-8. */
  metadata?: Record<string, string>;
  /** Add `filename` and `filetype` from the source unless set (default true). */
  defaultMetadata?: boolean;
  /** Headers sent with every request. */
  headers?: Record<string, string>;
  /** Called before every request; may change `headers` (e.g. a fresh auth token). */
  onBeforeRequest?: (req: RequestInfo) => void | Promise<void>;
  /** Bytes per PATCH, or adaptive ('auto', the default). */
  chunkSize?: ChunkSizeOption;
  /** Backoff, cap and retry budget. */
  retry?: RetryOptions;
  /** Abort a request when no byte moved for this long, then retry (default 30 s; 0 = never). */
  stallTimeoutMs?: number;
  /** Resume store; null or absent = no resume across runs. */
  store?: UploadStore | null;
  /** Look for a stored upload to resume (default true). */
  resume?: boolean;
  /** Forget the stored URL once the upload completes (default true). */
  removeFromStoreOnSuccess?: boolean;
  /** Send the first chunk with the POST when the server supports it (default true). */
  creationWithUpload?: boolean;
  /** Aborting it stops the upload (the upload stays resumable). */
  signal?: AbortSignal;
  /** fetch implementation (default globalThis.fetch). */
  fetch?: typeof fetch;
  /** Stream Uint8Array bodies piecewise (default: in Node only); see http.ts. */
  streamBodies?: boolean;
  /**
   * Upload-Checksum on every request with a body: 'auto' (default) uses sha256 when the
   * server advertises the checksum extension (else the best algorithm both have, else
   * none); an algorithm name insists on it (fails if the server says it lacks it); false
   * sends none.
   */
  checksum?: ChecksumOption;
  /** Resends of one chunk the server rejected with 460 (checksum mismatch) before failing (default 3). */
  checksumRetries?: number;
  /**
   * Upload as this many partial uploads at once, joined by the server (tus concatenation),
   * each aligned to the server's S3 part size. Falls back to one upload (a `fallback`
   * event says why) when the server lacks concatenation or the source is a stream.
   */
  parallel?: number;
  /** Random source in [0, 1) for the jitter (tests). */
  random?: () => number;
}

/** How a parent parallel upload drives one of its partials (not public API). */
interface PartialRole {
  caps: ServerCaps;
  /** Awaited once the partial's URL is known, before more of its bytes go out. */
  onCreated(url: string): Promise<void>;
}

/** A final POST copies every partial server-side before it answers: allow it time. */
const FINAL_IDLE_MS = 10 * 60_000;

export interface ProgressEvent {
  /** Bytes handed to the connection (never decreases). */
  bytesSent: number;
  /** Bytes the server confirmed (never decreases). */
  bytesAcknowledged: number;
  /** null while the length is deferred. */
  bytesTotal: number | null;
}

export interface UploadEvents {
  progress: ProgressEvent;
  /** A PATCH (or POST with data) was acknowledged. */
  chunk: {
    offset: number;
    length: number;
    bytesAcknowledged: number;
    durationMs: number;
    nextChunkSize: number;
  };
  created: { url: string };
  /** Continuing a known upload from the server's offset. */
  resumed: { url: string; offset: number };
  /** The stored upload is gone (404/410): a new one is started from byte 0. */
  restarted: { previousUrl: string; status: number };
  retry: { attempt: number; delayMs: number; error: TusError };
  /** The checksum algorithm chosen for this upload (null: none). */
  checksum: { algorithm: ChecksumAlgorithm | null };
  /** `parallel` was asked for but the upload goes as one; says why. */
  fallback: { reason: string };
  /** A parallel upload starts (or resumes) with these partials; alignment null when resumed. */
  parallel: { partials: StoredPartial[]; alignment: number | null; resumed: boolean };
  /** One partial of a parallel upload was created, resumed, restarted or finished. */
  partial: PartialEvent;
  paused: undefined;
  success: UploadResult;
  error: TusError;
}

export interface UploadResult {
  url: string;
  size: number;
}

export type UploadState = 'idle' | 'running' | 'paused' | 'done' | 'failed' | 'aborted';

export class Upload extends Emitter<UploadEvents> {
  private readonly o: UploadOptions;
  private readonly sizer: ChunkSizer;
  private readonly budget: RetryBudget;
  private readonly fetchImpl: typeof fetch;
  private readonly streamBodies: boolean;
  private total: number | null;
  private fingerprint: string | null = null;
  private caps: ServerCaps | null = null;
  private _url: string | null;
  private _state: UploadState = 'idle';
  private sent = 0;
  private acked = 0;
  private running: Promise<UploadResult> | null = null;
  /** Aborted by pause(), abort(), terminate() or the caller's signal. */
  private controller = new AbortController();
  private aborted = false;
  private pauseWaiter: { promise: Promise<void>; resolve: () => void } | null = null;
  /** undefined until decided (needs OPTIONS unless checksum is false). */
  private checksumAlg: ChecksumAlgorithm | null | undefined;
  /** Consecutive 460 answers for the chunk being sent. */
  private checksumFailures = 0;
  private readonly ahead: DigestAhead;
  /** Partials of a parallel upload in flight (pause/resume/abort reach them). */
  private readonly children = new Set<Upload>();
  /** URLs of this parallel upload's partials (for terminate()). */
  private readonly partialUrls = new Set<string>();
  private readonly role: PartialRole | null;

  constructor(
    readonly source: UploadSource,
    options: UploadOptions,
    /** @internal set by a parallel parent for its partials */
    role?: PartialRole,
  ) {
    super();
    this.role = role ?? null;
    this.ahead = new DigestAhead(source);
    if (role) this.caps = role.caps;
    if (!options.endpoint && !options.uploadUrl) {
      throw new TypeError('Upload: `endpoint` or `uploadUrl` is required');
    }
    this.o = options;
    this.sizer = new ChunkSizer(options.chunkSize ?? 'auto');
    this.budget = new RetryBudget(retryPolicy(options.retry), options.random);
    const f = options.fetch ?? globalThis.fetch;
    if (typeof f !== 'function') throw new TypeError('Upload: no fetch in this environment');
    this.fetchImpl = f.bind(globalThis);
    this.streamBodies = options.streamBodies ?? defaultStreamBodies();
    this.total = source.size;
    this._url = options.uploadUrl ?? null;
    if (options.signal) {
      if (options.signal.aborted) this.abort();
      else options.signal.addEventListener('abort', () => this.abort(), { once: true });
    }
  }

  /** The upload URL once known. */
  get url(): string | null {
    return this._url;
  }
  get state(): UploadState {
    return this._state;
  }
  get progress(): ProgressEvent {
    return { bytesSent: this.sent, bytesAcknowledged: this.acked, bytesTotal: this.total };
  }
  /** Size of the next PATCH body. */
  get chunkSize(): number {
    return this.sizer.current;
  }

  /** Starts (or returns the running) upload; settles when it completes, fails or is aborted. */
  start(): Promise<UploadResult> {
    if (!this.running) {
      this._state = 'running';
      this.running = this.run().then(
        (r) => {
          this._state = 'done';
          this.emit('success', r);
          return r;
        },
        (e: unknown) => {
          const err = toTusError(e);
          this._state = err.kind === 'aborted' ? 'aborted' : 'failed';
          this.emit('error', err);
          throw err;
        },
      );
    } else if (this._state === 'paused') {
      this.resume();
    }
    return this.running;
  }

  /** Aborts the request in flight and waits; `resume()` continues from the server's offset. */
  pause(): void {
    if (this._state !== 'running' || this.pauseWaiter) return;
    let resolve!: () => void;
    const promise = new Promise<void>((r) => {
      resolve = r;
    });
    this.pauseWaiter = { promise, resolve };
    this._state = 'paused';
    this.controller.abort(new Error('paused'));
    for (const c of this.children) c.pause();
    this.emit('paused', undefined);
  }

  resume(): void {
    if (!this.pauseWaiter) return;
    const w = this.pauseWaiter;
    this.pauseWaiter = null;
    this.controller = new AbortController();
    this._state = 'running';
    for (const c of this.children) c.resume();
    w.resolve();
  }

  /** Stops the upload for good in this object; it stays resumable from the store. */
  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    this.controller.abort(new Error('aborted'));
    for (const c of this.children) c.abort();
    const w = this.pauseWaiter;
    this.pauseWaiter = null;
    w?.resolve();
  }

  /** Aborts, then deletes the upload on the server (tus termination) and forgets it. */
  async terminate(): Promise<void> {
    const running = this.running;
    this.abort();
    await running?.catch(() => {});
    // An unfinished parallel upload is its partials: delete each.
    const urls = this._url ? [this._url] : [...this.partialUrls];
    for (const url of urls) await terminateUpload(url, this.o);
    if (this.fingerprint && this.o.store) await this.o.store.remove(this.fingerprint);
  }

  // ---------------------------------------------------------------------------

  private async run(): Promise<UploadResult> {
    const store = this.o.store ?? null;
    if (store && this.o.endpoint) {
      const id = await this.source.identity();
      if (id) this.fingerprint = fingerprintKey(this.o.endpoint, id);
    }
    let stored: StoredUpload | undefined;
    if (!this._url && store && this.fingerprint && this.o.resume !== false) {
      stored = await store.get(this.fingerprint);
      if (stored && !stored.partials) this._url = stored.uploadUrl;
    }

    // A stored parallel upload resumes as one, whatever `parallel` says now: its partials
    // hold bytes the server already has.
    if (stored?.partials && stored.partials.length > 0) {
      return this.runParallel(stored.partials, null, stored.createdAt);
    }
    if (!this._url && (this.o.parallel ?? 1) > 1) {
      await this.checkpoint();
      if (!this.caps) this.caps = await this.discover();
      const plan = planParallel({
        parallel: this.o.parallel ?? 1,
        size: this.total,
        rereadable: this.source.rereadable,
        caps: this.caps,
      });
      if (plan.mode === 'parallel') {
        const layout = plan.ranges.map((r) => ({ ...r, uploadUrl: null, offset: 0 }));
        return this.runParallel(layout, plan.alignment, new Date().toISOString());
      }
      if (plan.reason) this.emit('fallback', { reason: plan.reason });
    }
    return this.runSingle();
  }

  private async runSingle(): Promise<UploadResult> {
    const store = this.o.store ?? null;
    /** Server offset; null = unknown (HEAD first). */
    let offset: number | null = this._url ? null : 0;
    let resumedEmitted = false;
    let phase: Phase = 'create';
    let lastChunk = 0;

    for (;;) {
      try {
        await this.checkpoint();
        if (this.checksumAlg === undefined) {
          phase = 'options';
          await this.decideChecksum();
        }
        if (!this._url) {
          phase = this.caps ? 'create' : 'options';
          if (!this.caps) this.caps = await this.discover();
          phase = 'create';
          const r = await this.create();
          resumedEmitted = true; // a new upload: later HEADs are retries, not a resume
          offset = r.offset;
          lastChunk = r.sentBytes;
          continue;
        }
        if (offset === null) {
          phase = 'head';
          offset = await this.head(this._url);
          if (!resumedEmitted) {
            resumedEmitted = true;
            this.emit('resumed', { url: this._url, offset });
          }
          continue;
        }
        if (this.total !== null && offset >= this.total) {
          if (offset > this.total) {
            throw new TusError(`server offset ${offset} is past the upload length ${this.total}`, {
              kind: 'protocol',
            });
          }
          break;
        }
        phase = 'patch';
        lastChunk = Math.min(this.sizer.current, (this.total ?? Infinity) - offset);
        const r = await this.patch(this._url, offset);
        offset = r.offset;
        if (r.complete) break;
      } catch (e) {
        const err = toTusError(e);
        if (err.kind === 'aborted' || this.aborted || this.pauseWaiter) {
          if (this.aborted) throw abortedError(err);
          offset = this._url ? null : 0; // paused: HEAD after resume
          continue;
        }
        const d = decide(phase, err);
        if (d.action === 'restart' && this._url) {
          if (!this.source.rereadable) {
            throw new TusError(
              `${err.message}; the upload is gone and the source cannot be read again`,
              { kind: 'source', status: err.status, cause: err },
            );
          }
          const previousUrl = this._url;
          if (store && this.fingerprint) await store.remove(this.fingerprint);
          this._url = null;
          offset = 0;
          this.emit('restarted', { previousUrl, status: err.status ?? 0 });
          continue;
        }
        if (d.action === 'resend') {
          // 460: the server kept none of the request; send the same bytes again, a few times.
          this.checksumFailures++;
          const limit = this.o.checksumRetries ?? 3;
          if (this.checksumFailures > limit) {
            throw new TusError(
              `${err.message} (checksum mismatch ${this.checksumFailures} times in a row, giving up)`,
              {
                kind: 'http',
                status: err.status,
                serverMessage: err.serverMessage,
                method: err.method,
                url: err.url,
                cause: err,
              },
            );
          }
          this.emit('retry', { attempt: this.checksumFailures, delayMs: 0, error: err });
          if (phase === 'create') offset = this._url ? null : 0;
          continue;
        }
        if (d.action === 'shrink' && this.sizer.tooLarge(lastChunk || this.sizer.current)) {
          offset = this._url ? null : 0;
          continue;
        }
        if (
          d.action === 'retry' &&
          err.kind !== 'http' &&
          (phase === 'patch' || phase === 'create')
        ) {
          this.sizer.failed();
        }
        if (d.action === 'retry' || d.action === 'resync') {
          const delay = this.budget.next();
          if (delay === null) throw err;
          const wait = d.action === 'resync' ? 0 : delay;
          this.emit('retry', { attempt: this.budget.attempts, delayMs: wait, error: err });
          try {
            if (wait > 0) await sleep(wait, this.controller.signal);
          } catch {
            // paused or aborted while waiting: handled at the next checkpoint
          }
          offset = this._url ? null : 0;
          continue;
        }
        throw err;
      }
    }

    const url = this._url!;
    const size = this.total ?? offset ?? 0;
    this.noteAck(size);
    if (store && this.fingerprint && this.o.removeFromStoreOnSuccess !== false) {
      await store.remove(this.fingerprint);
    }
    return { url, size };
  }

  /** Waits while paused; throws when aborted. */
  private async checkpoint(): Promise<void> {
    while (this.pauseWaiter) await this.pauseWaiter.promise;
    if (this.aborted) throw abortedError();
  }

  private async discover(): Promise<ServerCaps> {
    try {
      const req = await this.prepare('OPTIONS', this.o.endpoint ?? this._url!, {});
      const res = await this.exchange(req);
      if (res.status >= 200 && res.status < 300) return parseCaps(res.headers);
    } catch (e) {
      if (isTusError(e, 'aborted')) throw e;
      // OPTIONS is optional (some proxies refuse it): proceed without extensions.
    }
    return unknownCaps();
  }

  /** Chooses the checksum algorithm (asking OPTIONS first unless checksums are off). */
  private async decideChecksum(): Promise<void> {
    const option = this.o.checksum ?? 'auto';
    if (option !== false && !this.caps) this.caps = await this.discover();
    this.checksumAlg = chooseChecksum(option, checksumCaps(this.caps ?? unknownCaps()));
    if (!this.role) this.emit('checksum', { algorithm: this.checksumAlg });
  }

  /** Partial uploads (parallel/run.ts), then the final POST that joins them. */
  private async runParallel(
    layout: StoredPartial[],
    alignment: number | null,
    createdAt: string,
  ): Promise<UploadResult> {
    await this.checkpoint();
    if (!this.caps) this.caps = await this.discover();
    if (this.checksumAlg === undefined) await this.decideChecksum();
    const caps = this.caps;
    const size = layout[layout.length - 1]!.end;
    if (this.total !== null && size !== this.total) {
      throw new TusError(`stored partials cover ${size} bytes, the source has ${this.total}`, {
        kind: 'protocol',
      });
    }
    this.total = size;
    const store = this.o.store ?? null;
    const fingerprint = this.fingerprint;
    this.emit('parallel', {
      partials: layout.map((p) => ({ ...p })),
      alignment,
      resumed: alignment === null,
    });
    const urls = await runPartials(
      {
        store,
        entry: fingerprint
          ? {
              fingerprint,
              endpoint: this.o.endpoint!,
              size,
              metadata: this.metadata(),
              createdAt,
            }
          : null,
        spawn: (p, onCreated) => {
          const child = new Upload(
            sliceSource(this.source, p.start, p.end),
            {
              ...this.o,
              uploadUrl: p.uploadUrl ?? undefined,
              store: null,
              parallel: 1,
              metadata: {},
              defaultMetadata: false,
              signal: undefined,
              checksum: this.checksumAlg ?? false,
            },
            { caps, onCreated },
          );
          this.children.add(child);
          if (this.pauseWaiter) child.pause();
          return child;
        },
        onPartial: (e) => {
          if (e.state === 'restarted') this.partialUrls.delete(e.url);
          else this.partialUrls.add(e.url);
          this.emit('partial', e);
        },
        onProgress: (sent, acked) => this.noteAggregate(sent, acked),
        onRetry: (e) => this.emit('retry', e),
        onChunk: (e) => this.emit('chunk', { ...e, bytesAcknowledged: this.acked }),
      },
      layout,
    ).finally(() => this.children.clear());
    this._url = await this.createFinal(urls);
    this.noteAck(size);
    if (store && fingerprint && this.o.removeFromStoreOnSuccess !== false) {
      await store.remove(fingerprint);
    }
    return { url: this._url, size };
  }

  /** POST Upload-Concat: final;<partial URLs> (no body, no Upload-Length). */
  private async createFinal(urls: string[]): Promise<string> {
    const endpoint = this.o.endpoint!;
    for (;;) {
      await this.checkpoint();
      try {
        const headers: Record<string, string> = { 'Upload-Concat': `final;${urls.join(' ')}` };
        const meta = this.metadata();
        if (Object.keys(meta).length > 0) headers['Upload-Metadata'] = encodeMetadata(meta);
        const req = await this.prepare('POST', endpoint, headers);
        const res = await this.exchange(req, undefined, FINAL_IDLE_MS);
        if (res.status !== 201) {
          throw httpError('POST', endpoint, res.status, res.body, 'concatenation failed');
        }
        const location = res.headers.get('Location');
        if (!location) {
          throw new TusError(`POST ${endpoint}: 201 without a Location header`, {
            kind: 'protocol',
          });
        }
        const url = new URL(location, res.url || endpoint).toString();
        this.emit('created', { url });
        return url;
      } catch (e) {
        const err = toTusError(e);
        if (this.aborted) throw abortedError(err);
        if (err.kind === 'aborted' || this.pauseWaiter) continue; // paused: wait, then again
        if (decide('create', err).action !== 'retry') throw err;
        const delay = this.budget.next();
        if (delay === null) throw err;
        this.emit('retry', { attempt: this.budget.attempts, delayMs: delay, error: err });
        await sleep(delay, this.controller.signal).catch(() => {});
      }
    }
  }

  private async create(): Promise<{ offset: number | null; sentBytes: number }> {
    const endpoint = this.o.endpoint!;
    const caps = this.caps!;
    if (caps.maxSize !== null && this.total !== null && this.total > caps.maxSize) {
      throw new TusError(
        `upload of ${this.total} bytes exceeds the server's limit (Tus-Max-Size ${caps.maxSize})`,
        { kind: 'limit', url: endpoint },
      );
    }
    const headers: Record<string, string> = {};
    if (this.total === null) headers['Upload-Defer-Length'] = '1';
    else headers['Upload-Length'] = String(this.total);
    const meta = this.metadata();
    if (Object.keys(meta).length > 0) headers['Upload-Metadata'] = encodeMetadata(meta);
    if (this.role) headers['Upload-Concat'] = 'partial';

    const withBody =
      this.o.creationWithUpload !== false &&
      this.total !== null &&
      this.total > 0 &&
      caps.extensions.has('creation-with-upload');
    let body: RequestBody | undefined;
    let bodySize = 0;
    if (withBody) {
      const chunk = await this.source.read(0, Math.min(this.sizer.current, this.total!));
      body = chunk.body;
      bodySize = chunk.size;
      headers['Content-Type'] = 'application/offset+octet-stream';
      const c = await this.checksum(chunk, 0);
      if (c) {
        body = c.body;
        headers['Upload-Checksum'] = c.header;
      }
    }
    const req = await this.prepare('POST', endpoint, headers, body);
    const t0 = Date.now();
    const res = await this.exchange(req, withBody ? 0 : undefined);
    const location = res.headers.get('Location');
    // 460 with a Location: the upload exists but kept none of the body; HEAD, then PATCH.
    const createdWithoutBody = res.status === 460 && location !== null;
    if (res.status !== 201 && !createdWithoutBody)
      throw httpError('POST', endpoint, res.status, res.body, 'creation failed');
    if (!location) {
      throw new TusError(`POST ${endpoint}: 201 without a Location header`, { kind: 'protocol' });
    }
    this._url = new URL(location, res.url || endpoint).toString();
    await this.role?.onCreated(this._url);
    if (this.o.store && this.fingerprint) {
      const entry: StoredUpload = {
        fingerprint: this.fingerprint,
        uploadUrl: this._url,
        endpoint,
        size: this.total,
        metadata: meta,
        createdAt: new Date().toISOString(),
      };
      await this.o.store.set(entry);
    }
    this.emit('created', { url: this._url });
    if (createdWithoutBody)
      throw httpError('POST', endpoint, res.status, res.body, 'creation failed');
    if (!withBody) return { offset: 0, sentBytes: 0 };
    const off = parseOffset(res.headers.get('Upload-Offset'));
    if (off === null) return { offset: null, sentBytes: bodySize };
    this.acknowledge(0, off, Date.now() - t0, bodySize);
    return { offset: off, sentBytes: bodySize };
  }

  private async head(url: string): Promise<number> {
    const req = await this.prepare('HEAD', url, {});
    const res = await this.exchange(req);
    if (res.status < 200 || res.status >= 300) {
      throw httpError('HEAD', url, res.status, res.body, 'cannot resume');
    }
    const off = parseOffset(res.headers.get('Upload-Offset'));
    if (off === null) {
      throw new TusError(`HEAD ${url}: no valid Upload-Offset`, { kind: 'protocol', url });
    }
    const len = parseOffset(res.headers.get('Upload-Length'));
    if (len !== null) {
      if (this.total !== null && len !== this.total) {
        throw new TusError(
          `HEAD ${url}: server has Upload-Length ${len}, source has ${this.total}`,
          {
            kind: 'protocol',
            url,
          },
        );
      }
      this.total = len;
    }
    this.noteAck(off);
    return off;
  }

  private async patch(url: string, offset: number): Promise<{ offset: number; complete: boolean }> {
    const want = this.sizer.current;
    const end = this.total === null ? offset + want : Math.min(offset + want, this.total);
    const chunk = await this.source.read(offset, end);
    const headers: Record<string, string> = {
      'Upload-Offset': String(offset),
      'Content-Type': 'application/offset+octet-stream',
    };
    const declare = this.total === null && chunk.last;
    if (declare) headers['Upload-Length'] = String(offset + chunk.size);
    let body = chunk.body;
    const c = await this.checksum(chunk, offset);
    if (c) {
      body = c.body;
      headers['Upload-Checksum'] = c.header;
    }
    const req = await this.prepare('PATCH', url, headers, body);
    const t0 = Date.now();
    const res = await this.exchange(req, offset);
    if (res.status < 200 || res.status >= 300) {
      throw httpError('PATCH', url, res.status, res.body);
    }
    const next = parseOffset(res.headers.get('Upload-Offset'));
    if (next === null || next < offset || next > offset + chunk.size) {
      throw new TusError(
        `PATCH ${url}: invalid Upload-Offset ${res.headers.get('Upload-Offset')} (sent ${offset}+${chunk.size})`,
        { kind: 'protocol', url },
      );
    }
    if (declare) this.total = offset + chunk.size;
    this.acknowledge(offset, next, Date.now() - t0, chunk.size);
    const complete = this.total !== null && next >= this.total;
    return { offset: next, complete };
  }

  /** Upload-Checksum of a chunk (null: checksums off), and the next chunk hashed ahead. */
  private async checksum(chunk: SourceChunk, offset: number): Promise<ChecksummedBody | null> {
    if (!this.checksumAlg) return null;
    let c: ChecksummedBody;
    try {
      c = await checksumChunk(this.source, chunk, offset, this.checksumAlg, this.ahead);
    } catch (e) {
      // 'auto' only uses checksums where it can: a Blob that cannot be read back (React
      // Native) goes without. An algorithm asked for by name fails instead.
      if ((this.o.checksum ?? 'auto') !== 'auto' || !isTusError(e, 'unsupported')) throw e;
      this.checksumAlg = null;
      if (!this.role) this.emit('checksum', { algorithm: null });
      return null;
    }
    this.hashAhead(offset + chunk.size);
    return c;
  }

  /** Hashes the chunk that will follow `from` while the current request is sent. */
  private hashAhead(from: number): void {
    if (!this.checksumAlg || this.total === null) return;
    const end = Math.min(from + this.sizer.current, this.total);
    this.ahead.prefetch(from, end, this.checksumAlg);
  }

  private acknowledge(offset: number, next: number, durationMs: number, size: number) {
    if (next === offset + size) this.sizer.record(size, durationMs);
    this.noteAck(next);
    this.emit('chunk', {
      offset,
      length: next - offset,
      bytesAcknowledged: this.acked,
      durationMs,
      nextChunkSize: this.sizer.current,
    });
  }

  private metadata(): Record<string, string> {
    const meta: Record<string, string> = {};
    if (this.o.defaultMetadata !== false) {
      if (this.source.name) meta.filename = this.source.name;
      if (this.source.type) meta.filetype = this.source.type;
    }
    return { ...meta, ...this.o.metadata };
  }

  private async prepare(
    method: string,
    url: string,
    headers: Record<string, string>,
    body?: RequestBody,
  ): Promise<HttpRequest> {
    const info: RequestInfo = {
      method,
      url,
      headers: { ...this.o.headers, 'Tus-Resumable': TUS_VERSION, ...headers },
    };
    await this.o.onBeforeRequest?.(info);
    return { method: info.method, url: info.url, headers: info.headers, body };
  }

  /** Sends; `bodyOffset` (absolute offset of the body's first byte) enables sent-progress. */
  private exchange(req: HttpRequest, bodyOffset?: number, minIdleMs = 0): Promise<HttpResponse> {
    const stall = this.o.stallTimeoutMs ?? 30_000;
    return send(
      req,
      {
        fetch: this.fetchImpl,
        stallTimeoutMs: stall > 0 ? Math.max(stall, minIdleMs) : stall,
        streamBodies: this.streamBodies,
      },
      {
        signal: this.controller.signal,
        onBodyProgress: bodyOffset === undefined ? undefined : (n) => this.noteSent(bodyOffset + n),
      },
    );
  }

  /** Progress of a parallel upload: the sum over its partials (both monotonic). */
  private noteAggregate(sent: number, acked: number): void {
    if (sent <= this.sent && acked <= this.acked) return;
    this.sent = Math.max(this.sent, sent);
    if (acked > this.acked) {
      this.acked = acked;
      this.budget.progress();
    }
    this.emit('progress', this.progress);
  }

  private noteSent(abs: number): void {
    if (abs <= this.sent) return;
    this.sent = abs;
    this.emit('progress', this.progress);
  }

  private noteAck(abs: number): void {
    if (abs <= this.acked) return;
    this.acked = abs;
    this.budget.progress();
    this.checksumFailures = 0;
    if (abs > this.sent) this.sent = abs;
    this.emit('progress', this.progress);
  }
}

/** DELETE an upload (tus termination), retrying 423/5xx/network errors a few times. */
export async function terminateUpload(
  url: string,
  o: Pick<
    UploadOptions,
    'headers' | 'onBeforeRequest' | 'fetch' | 'stallTimeoutMs' | 'retry' | 'random'
  > = {},
): Promise<void> {
  const budget = new RetryBudget(retryPolicy(o.retry ?? { maxRetries: 3 }), o.random);
  const f = (o.fetch ?? globalThis.fetch).bind(globalThis);
  for (;;) {
    const info: RequestInfo = {
      method: 'DELETE',
      url,
      headers: { ...o.headers, 'Tus-Resumable': TUS_VERSION },
    };
    await o.onBeforeRequest?.(info);
    try {
      const res = await send(info, {
        fetch: f,
        stallTimeoutMs: o.stallTimeoutMs ?? 30_000,
        streamBodies: false,
      });
      if (res.status === 204 || res.status === 200 || res.status === 404 || res.status === 410)
        return;
      throw httpError('DELETE', url, res.status, res.body, 'termination failed');
    } catch (e) {
      const err = toTusError(e);
      const delay = decide('delete', err).action === 'retry' ? budget.next() : null;
      if (delay === null) throw err;
      await sleep(delay);
    }
  }
}

function parseOffset(v: string | null): number | null {
  if (v === null || !/^\d+$/.test(v.trim())) return null;
  const n = Number(v.trim());
  return Number.isSafeInteger(n) ? n : null;
}

function toTusError(e: unknown): TusError {
  if (e instanceof TusError) return e;
  const msg = e instanceof Error ? e.message : String(e);
  return new TusError(msg, { kind: 'source', cause: e });
}

function abortedError(cause?: unknown): TusError {
  return new TusError('upload aborted', { kind: 'aborted', cause });
}
