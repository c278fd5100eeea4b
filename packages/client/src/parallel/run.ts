/**
 * Runs the partial uploads of a parallel upload (tus concatenation), each one an Upload
 * of its own over a window of the file, all at once. Every partial URL is in the resume
 * store (under the file's fingerprint) before any of its bytes are acknowledged, so a
 * killed run resumes every partial from its server offset. Returns the partial URLs, in
 * file order, for the final POST (Upload-Concat: final;...), which the caller sends.
 */
import type { StoredPartial, StoredUpload, UploadStore } from '../stores/types.js';
import type { PartialEvent, UploadEvents, UploadResult } from '../upload-events.js';
import { EntryWriter } from './entry-writer.js';
import { AggregateProgress } from './progress.js';

/**
 * What this module needs of a child upload: an Upload has it, but the class is not
 * imported (the Upload runs parallel uploads, so it depends on this module, not back).
 */
export interface PartialUpload {
  start(): Promise<UploadResult>;
  abort(): void;
  on<K extends keyof UploadEvents>(event: K, fn: (e: UploadEvents[K]) => void): unknown;
}

export interface ParallelHost {
  /** The file's resume store and the entry's fixed fields; null: no resume across runs. */
  store: UploadStore | null;
  entry: Omit<StoredUpload, 'uploadUrl' | 'partials'> | null;
  /**
   * A child upload for partial `p` (resuming `p.uploadUrl` when set); `onCreated` must be
   * awaited by the child before it sends more bytes.
   */
  spawn(p: StoredPartial, onCreated: (url: string) => Promise<void>): PartialUpload;
  onPartial(e: PartialEvent): void;
  onProgress(bytesSent: number, bytesAcknowledged: number): void;
  /** Forwards a child's retry event. */
  onRetry(e: UploadEvents['retry']): void;
  /** A child's acknowledged chunk, its offset made absolute in the file. */
  onChunk(e: UploadEvents['chunk']): void;
  /** A resume-store write that the upload did not wait for failed. */
  onStoreError(e: unknown): void;
}

export async function runPartials(host: ParallelHost, layout: StoredPartial[]): Promise<string[]> {
  const partials = layout.map((p) => ({ ...p }));
  const writer =
    host.store && host.entry
      ? new EntryWriter(host.store, () => {
          const first = partials.find((p) => p.uploadUrl !== null);
          if (!first?.uploadUrl || !host.entry) return null;
          return {
            ...host.entry,
            uploadUrl: first.uploadUrl,
            partials: partials.map((p) => ({ ...p })),
          };
        })
      : null;
  const agg = new AggregateProgress(partials.length);
  const count = partials.length;

  const children = partials.map((p, index) => {
    const child = host.spawn(p, async (url) => {
      p.uploadUrl = url;
      p.offset = 0;
      await writer?.flush();
    });
    child.on('created', (e) =>
      host.onPartial({ index, count, state: 'created', url: e.url, offset: 0 }),
    );
    child.on('resumed', (e) => {
      p.offset = e.offset;
      host.onPartial({ index, count, state: 'resumed', url: e.url, offset: e.offset });
    });
    child.on('restarted', (e) =>
      host.onPartial({ index, count, state: 'restarted', url: e.previousUrl, offset: 0 }),
    );
    child.on('chunk', (e) => {
      p.offset = e.bytesAcknowledged;
      writer?.schedule(host.onStoreError);
      host.onChunk({ ...e, offset: p.start + e.offset });
    });
    child.on('progress', (e) => {
      const t = agg.update(index, e.bytesSent, e.bytesAcknowledged);
      host.onProgress(t.bytesSent, t.bytesAcknowledged);
    });
    child.on('retry', (e) => host.onRetry(e));
    return child;
  });

  // Fail fast: the first partial that fails stops the others (they stay resumable).
  let firstError: unknown = null;
  const runs = children.map((child, index) =>
    child.start().then(
      (r) => {
        partials[index]!.offset = r.size;
        host.onPartial({ index, count, state: 'done', url: r.url, offset: r.size });
        return r.url;
      },
      (e: unknown) => {
        if (firstError === null) {
          firstError = e;
          for (const c of children) if (c !== child) c.abort();
        }
        throw e;
      },
    ),
  );
  const settled = await Promise.allSettled(runs);
  await writer?.flush().catch(host.onStoreError);
  if (firstError !== null) throw firstError;
  return settled.map((s) => (s as PromiseFulfilledResult<string>).value);
}
