/**
 * What the modules of one upload share: what is known about it (URL, length, server
 * caps, checksum, progress, resume entry) and what moves it (connection, chunk sizer,
 * retry budget, pause gate). Upload (upload.ts) owns one; the single-stream loop
 * (single/) and the parallel orchestration (parallel/) work on it.
 */

import { ChecksumChoice } from './checksum/choice.js';
import { type DigestThread, reprDigest, wholeSha256 } from './checksum/whole-file.js';
import { ChunkSizer } from './chunk-size.js';
import { Connection } from './connection.js';
import type { UploadOptions } from './options.js';
import { PauseGate } from './pause-gate.js';
import { ProgressCounters } from './progress.js';
import type { ServerCaps } from './protocol/caps.js';
import { ResumeRecord } from './resume-record.js';
import { RetryBudget, retryPolicy } from './retry.js';
import type { UploadSource } from './sources/types.js';
import type { StoredUpload } from './stores/types.js';
import type { ProgressEvent, UploadEvents } from './upload-events.js';

/** How a parent parallel upload drives one of its partials (not public API). */
export interface PartialRole {
  caps: ServerCaps;
  /** Awaited once the partial's URL is known, before more of its bytes go out. */
  onCreated(url: string): Promise<void>;
  /** The server's offset when the parent just created the partial (no HEAD needed). */
  startOffset?: number;
  /**
   * The partial belongs to a final created before its bytes (concatenation-unfinished): a
   * new partial in its place would never reach that final, so a gone one fails the upload.
   */
  pinned?: boolean;
}

/** What pause(), resume() and abort() reach: a parallel upload's partials. */
export interface Pausable {
  pause(): void;
  resume(): void;
  abort(): void;
}

export type Emit = <K extends keyof UploadEvents>(event: K, payload: UploadEvents[K]) => void;

export class UploadContext {
  /** The upload URL once known. */
  url: string | null;
  /** null while the length is deferred. */
  total: number | null;
  caps: ServerCaps | null;
  /**
   * The whole-file Repr-Digest (option `digest`; parents only): `declared` once a request
   * that carried it was answered, or when the resume store says creation carried it.
   */
  digest: { header: string; declared: boolean } | null = null;
  /** Where this run computed the digest (not set when it came from the resume store). */
  digestThread: DigestThread | undefined;
  /** Consecutive 460 answers for the chunk being sent. */
  checksumFailures = 0;
  readonly sizer: ChunkSizer;
  readonly budget: RetryBudget;
  readonly conn: Connection;
  readonly gate = new PauseGate();
  readonly counters = new ProgressCounters();
  readonly checksum: ChecksumChoice;
  readonly record: ResumeRecord;
  /** Partials of a parallel upload in flight (pause/resume/abort reach them). */
  readonly children = new Set<Pausable>();
  /** URLs of this parallel upload's partials (for terminate()). */
  readonly partialUrls = new Set<string>();

  constructor(
    readonly source: UploadSource,
    readonly o: UploadOptions,
    readonly role: PartialRole | null,
    readonly emit: Emit,
  ) {
    // A partial's checksum is its parent's: only the parent reports it.
    // The draft has no per-request checksum field.
    const checksum = o.protocol === 'ietf-draft' ? false : (o.checksum ?? 'auto');
    this.checksum = new ChecksumChoice(source, checksum, (algorithm) => {
      if (!role) emit('checksum', { algorithm });
    });
    this.caps = role?.caps ?? null;
    if (!o.endpoint && !o.uploadUrl) {
      throw new TypeError('Upload: `endpoint` or `uploadUrl` is required');
    }
    if (o.dedupe && o.protocol === 'ietf-draft') {
      // The instant-upload exchange is a tus extension (creation header, proof PATCH).
      throw new TypeError("Upload: `dedupe` speaks tus 1.0; not with protocol 'ietf-draft'");
    }
    if (o.dedupe && o.digest === false) {
      throw new TypeError(
        "Upload: `dedupe` needs the whole-file digest (leave `digest` unset or 'sha256')",
      );
    }
    this.sizer = new ChunkSizer(o.chunkSize ?? 'auto');
    this.budget = new RetryBudget(retryPolicy(o.retry), o.random);
    this.conn = new Connection(o, () => this.gate.signal);
    this.total = source.size;
    this.url = o.uploadUrl ?? null;
    this.record = new ResumeRecord(o);
  }

  get progress(): ProgressEvent {
    const c = this.counters;
    return { bytesSent: c.sent, bytesAcknowledged: c.acked, bytesTotal: this.total };
  }

  /** The server's caps, asking OPTIONS the first time. */
  async discover(): Promise<ServerCaps> {
    if (!this.caps) this.caps = await this.conn.discover(this.o.endpoint ?? this.url!);
    return this.caps;
  }

  /** Computes the whole-file digest, or takes the one the resume entry declared. */
  async prepareDigest(stored: StoredUpload | undefined): Promise<void> {
    const wanted = this.o.digest === 'sha256' || this.o.dedupe === true;
    if (!wanted || this.role || this.digest) return;
    if (stored?.digest) {
      this.digest = { header: stored.digest, declared: true };
    } else {
      const { sha256, thread } = await wholeSha256(this.source);
      this.digestThread = thread;
      this.digest = { header: reprDigest(sha256), declared: false };
    }
    this.emit('digest', {
      reprDigest: this.digest.header,
      fromStore: this.digest.declared,
      ...(this.digestThread ? { thread: this.digestThread } : {}),
    });
  }

  /** Chooses the checksum algorithm (asking OPTIONS first unless checksums are off). */
  async decideChecksum(): Promise<void> {
    if (this.checksum.needsCaps) await this.discover();
    this.checksum.choose(this.caps);
  }

  /** Upload-Metadata: `filename` and `filetype` from the source unless set or turned off. */
  metadata(): Record<string, string> {
    const meta: Record<string, string> = {};
    if (this.o.defaultMetadata !== false) {
      if (this.source.name) meta.filename = this.source.name;
      if (this.source.type) meta.filetype = this.source.type;
    }
    return { ...meta, ...this.o.metadata };
  }

  /** A request's body was handed over up to absolute offset `abs`. */
  noteSent(abs: number): void {
    if (this.counters.send(abs)) this.emit('progress', this.progress);
  }

  /** The server holds `abs` bytes it did not get from us (an instant upload's copy). */
  noteAdopted(abs: number): void {
    if (this.counters.adopt(abs)) this.emit('progress', this.progress);
  }

  /** The server has everything below `abs`: progress resets the retry budget. */
  noteAck(abs: number): void {
    if (!this.counters.ack(abs)) return;
    this.budget.progress();
    this.checksumFailures = 0;
    this.emit('progress', this.progress);
  }

  /** Progress of a parallel upload: the sum over its partials (both monotonic). */
  noteAggregate(sent: number, acked: number): void {
    const m = this.counters.aggregate(sent, acked);
    if (!m.moved) return;
    if (m.ackMoved) this.budget.progress();
    this.emit('progress', this.progress);
  }

  /** A request carrying `size` bytes at `offset` was answered with offset `next`. */
  acknowledge(offset: number, next: number, durationMs: number, size: number): void {
    if (next === offset + size) this.sizer.record(size, durationMs);
    this.noteAck(next);
    this.emit('chunk', {
      offset,
      length: next - offset,
      bytesAcknowledged: this.counters.acked,
      durationMs,
      nextChunkSize: this.sizer.current,
    });
  }
}
