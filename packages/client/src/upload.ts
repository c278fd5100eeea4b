/**
 * Upload: one file to one tus server, and the public face of the client. It owns the
 * lifecycle (start, pause, resume, abort, terminate, state) and decides how the bytes go:
 * as one stream of requests (single/run.ts) or, with `parallel` > 1, as partial uploads
 * joined by a final POST (parallel/orchestrate.ts; each partial is an Upload of this
 * class). What they share lives in context.ts; failures go through policy.ts and retry.ts.
 */
import { type PartialRole, UploadContext } from './context.js';
import { toTusError } from './errors.js';
import { Emitter } from './events.js';
import type { UploadOptions } from './options.js';
import { runParallel } from './parallel/orchestrate.js';
import { type ParallelPlan, planParallel } from './parallel/plan.js';
import { abandonAttempt, attemptInstant, RESUMED } from './single/instant.js';
import { runSingle } from './single/run.js';
import type { UploadSource } from './sources/types.js';
import type { StoredPartial, StoredUpload } from './stores/types.js';
import { terminateUpload } from './terminate.js';
import type {
  InstantReport,
  ProgressEvent,
  UploadEvents,
  UploadResult,
  UploadState,
} from './upload-events.js';

export type { RequestInfo, UploadOptions } from './options.js';
export { terminateUpload } from './terminate.js';
export type {
  InstantReason,
  InstantReport,
  PartialEvent,
  PartialState,
  ProgressEvent,
  UploadEvents,
  UploadResult,
  UploadState,
} from './upload-events.js';

export class Upload extends Emitter<UploadEvents> {
  private readonly ctx: UploadContext;
  private _state: UploadState = 'idle';
  private running: Promise<UploadResult> | null = null;
  /** Option `dedupe`: what the instant-upload attempt came to. */
  private instant: InstantReport | null = null;

  constructor(
    readonly source: UploadSource,
    options: UploadOptions,
    /** @internal set by a parallel parent for its partials */
    role?: PartialRole,
  ) {
    super();
    this.ctx = new UploadContext(source, options, role ?? null, (event, payload) =>
      this.emit(event, payload),
    );
    if (options.signal) {
      if (options.signal.aborted) this.abort();
      else options.signal.addEventListener('abort', () => this.abort(), { once: true });
    }
  }

  /** The upload URL once known. */
  get url(): string | null {
    return this.ctx.url;
  }
  get state(): UploadState {
    return this._state;
  }
  get progress(): ProgressEvent {
    return this.ctx.progress;
  }
  /** Size of the next PATCH body. */
  get chunkSize(): number {
    return this.ctx.sizer.current;
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
          if (err.kind !== 'aborted') this.ctx.conn.forgetDiscovery();
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
    if (this._state !== 'running' || this.ctx.gate.paused) return;
    this._state = 'paused';
    this.ctx.gate.pause();
    for (const c of this.ctx.children) c.pause();
    this.emit('paused', undefined);
  }

  resume(): void {
    if (!this.ctx.gate.paused) return;
    this._state = 'running';
    for (const c of this.ctx.children) c.resume();
    this.ctx.gate.resume();
  }

  /** Stops the upload for good in this object; it stays resumable from the store. */
  abort(): void {
    if (!this.ctx.gate.abort()) return;
    for (const c of this.ctx.children) c.abort();
  }

  /** Aborts, then deletes the upload on the server (tus termination) and forgets it. */
  async terminate(): Promise<void> {
    const running = this.running;
    this.abort();
    await running?.catch(() => {});
    // An unfinished parallel upload is its partials: delete each.
    const urls = this.ctx.url ? [this.ctx.url] : [...this.ctx.partialUrls];
    for (const url of urls) await terminateUpload(url, this.ctx.o);
    await this.ctx.record.forget();
  }

  private async run(): Promise<UploadResult> {
    const ctx = this.ctx;
    const stored = await ctx.record.load(this.source, !ctx.url);
    if (stored && !stored.partials) ctx.url = stored.uploadUrl;
    await ctx.prepareDigest(stored);
    const result = await this.route(stored);
    return this.instant ? { ...result, instant: this.instant } : result;
  }

  private async route(stored: StoredUpload | undefined): Promise<UploadResult> {
    const ctx = this.ctx;
    const dedupe = ctx.o.dedupe === true && !ctx.role;
    if (dedupe && (ctx.url || stored?.partials?.length)) this.reportInstant(RESUMED);
    // A stored parallel upload resumes as one, whatever `parallel` says now: its partials
    // hold bytes the server already has.
    if (stored?.partials && stored.partials.length > 0) {
      return this.runParallel(stored.partials, null, stored.createdAt, stored.finalUrl ?? null);
    }
    let plan: ParallelPlan | null = null;
    if (!ctx.url && (ctx.o.parallel ?? 1) > 1 && ctx.o.protocol === 'ietf-draft') {
      this.emit('fallback', { reason: 'the IETF draft has no concatenation: one upload' });
    } else if (!ctx.url && (ctx.o.parallel ?? 1) > 1) {
      await ctx.gate.checkpoint();
      plan = planParallel({
        parallel: ctx.o.parallel ?? 1,
        size: ctx.total,
        rereadable: this.source.rereadable,
        caps: await ctx.discover(),
      });
      if (plan.mode === 'single' && plan.reason) this.emit('fallback', { reason: plan.reason });
    }
    let created: { offset: number | null } | undefined;
    if (dedupe && !ctx.url) {
      // Instant first, whatever `parallel` says: it sends no file byte.
      const attempt = await attemptInstant(ctx);
      this.reportInstant(attempt.report);
      if (attempt.report.outcome === 'instant') return runSingle(ctx, attempt);
      created = attempt;
    }
    if (plan?.mode === 'parallel') {
      await abandonAttempt(ctx);
      const layout = plan.ranges.map((r) => ({ ...r, uploadUrl: null, offset: 0 }));
      return this.runParallel(layout, plan.alignment, new Date().toISOString());
    }
    return runSingle(ctx, created);
  }

  private reportInstant(report: InstantReport): void {
    this.instant = report;
    this.emit('instant', report);
  }

  private runParallel(
    layout: StoredPartial[],
    alignment: number | null,
    createdAt: string,
    finalUrl: string | null = null,
  ): Promise<UploadResult> {
    const spawn = (source: UploadSource, o: UploadOptions, role: PartialRole) =>
      new Upload(source, o, role);
    return runParallel(this.ctx, spawn, layout, alignment, createdAt, finalUrl);
  }
}
