/**
 * A parallel upload from its parent's side: checks the layout against the source,
 * spawns one child Upload per partial over its window of the file (run.ts runs them and
 * keeps the resume entry), sums their progress into the parent's, then sends the final
 * POST (final.ts) and forgets the resume entry. When the server takes a final before its
 * partials' bytes (final-first.ts), the final goes first and completes with the partials.
 */

import type { PartialRole, Pausable, UploadContext } from '../context.js';
import { TusError, toTusError } from '../errors.js';
import type { UploadOptions } from '../options.js';
import type { ServerCaps } from '../protocol/caps.js';
import type { EntryFields } from '../resume-record.js';
import type { UploadSource } from '../sources/types.js';
import type { StoredPartial } from '../stores/types.js';
import type { UploadResult } from '../upload-events.js';
import { EntryWriter } from './entry-writer.js';
import { createFinal } from './final.js';
import { awaitFinal, createFinalFirst, finalFirstPossible, finalState } from './final-first.js';
import { type PartialUpload, runPartials } from './run.js';
import { sliceSource } from './slice-source.js';

/** Makes an Upload (passed in: this module does not import the class it serves). */
export type SpawnUpload = (
  source: UploadSource,
  o: UploadOptions,
  role: PartialRole,
) => PartialUpload & Pausable;

/**
 * Runs `layout` (fresh, or from the store); `alignment` null means resumed.
 */
export async function runParallel(
  ctx: UploadContext,
  spawnUpload: SpawnUpload,
  layout: StoredPartial[],
  alignment: number | null,
  createdAt: string,
  storedFinalUrl: string | null = null,
): Promise<UploadResult> {
  await ctx.gate.checkpoint();
  const caps: ServerCaps = await ctx.discover();
  if (!ctx.checksum.decided) await ctx.decideChecksum();
  const size = checkLayout(ctx, layout);
  ctx.emit('parallel', {
    partials: layout.map((p) => ({ ...p })),
    alignment,
    resumed: alignment === null,
  });
  const fields = { endpoint: ctx.o.endpoint!, size, metadata: ctx.metadata(), createdAt };
  let finalUrl = storedFinalUrl;
  if (finalUrl) {
    // A run killed after its last partial finished: the final may be complete already.
    const state = await finalState(ctx, finalUrl);
    if (state === 'complete') return done(ctx, finalUrl, size);
    if (state === 'gone') {
      // Expired or terminated with its partials: start over.
      ctx.emit('restarted', { previousUrl: finalUrl, status: 404 });
      for (const p of layout) Object.assign(p, { uploadUrl: null, offset: 0 });
      finalUrl = null;
    }
  }
  // Partials created here start at offset 0: their children need no HEAD.
  const fresh = new Set<string>();
  if (!finalUrl && finalFirstPossible(caps, layout)) {
    finalUrl = await finalFirst(ctx, layout, fields, fresh);
  }
  // terminate() deletes the final with the partials.
  if (finalUrl) ctx.partialUrls.add(finalUrl);
  const entry = ctx.record.entry(fields);
  const pinned = finalUrl !== null;
  const spawn = (p: StoredPartial, onCreated: (url: string) => Promise<void>) =>
    spawnChild(ctx, spawnUpload, p, {
      caps,
      onCreated,
      pinned,
      startOffset: p.uploadUrl && fresh.has(p.uploadUrl) ? 0 : undefined,
    });
  const urls = await runPartials(
    {
      store: ctx.record.store,
      entry: entry && { ...entry, ...finalOf(finalUrl) },
      spawn,
      onPartial: (e) => {
        if (e.state === 'restarted') ctx.partialUrls.delete(e.url);
        else ctx.partialUrls.add(e.url);
        ctx.emit('partial', e);
      },
      onProgress: (sent, acked) => ctx.noteAggregate(sent, acked),
      onRetry: (e) => ctx.emit('retry', e),
      onChunk: (e) => ctx.emit('chunk', { ...e, bytesAcknowledged: ctx.counters.acked }),
      onStoreError: (e) => ctx.emit('storeError', toTusError(e)),
    },
    layout,
  )
    .catch(async (e: unknown) => {
      // A partial of a final made first is gone: that final can never complete, so a
      // rerun must start over rather than resume it.
      const status = (e as { status?: number }).status;
      if (pinned && (status === 404 || status === 410)) await ctx.record.forget();
      throw e;
    })
    .finally(() => ctx.children.clear());
  if (finalUrl) {
    await awaitFinal(ctx, finalUrl);
    return done(ctx, finalUrl, size);
  }
  return done(ctx, await createFinal(ctx, urls), size);
}

/** The size the layout covers, which must be the source's when that is known. */
function checkLayout(ctx: UploadContext, layout: StoredPartial[]): number {
  const size = layout[layout.length - 1]!.end;
  if (ctx.total !== null && size !== ctx.total) {
    throw new TusError(`stored partials cover ${size} bytes, the source has ${ctx.total}`, {
      kind: 'protocol',
    });
  }
  ctx.total = size;
  return size;
}

/**
 * Creates the missing partials and the final before any bytes (final-first.ts), storing
 * every URL as it comes; adds the partials it created to `fresh`. null: the server
 * refused the final.
 */
async function finalFirst(
  ctx: UploadContext,
  layout: StoredPartial[],
  fields: EntryFields,
  fresh: Set<string>,
): Promise<string | null> {
  let pending: string | null = null;
  const writer = ctx.record.store
    ? new EntryWriter(ctx.record.store, () => {
        const first = layout.find((p) => p.uploadUrl !== null);
        const entry = ctx.record.entry(fields);
        if (!first?.uploadUrl || !entry) return null;
        const partials = layout.map((p) => ({ ...p }));
        return { ...entry, uploadUrl: first.uploadUrl, partials, ...finalOf(pending) };
      })
    : null;
  return createFinalFirst(ctx, layout, {
    save: async (url) => {
      pending = url;
      await writer?.flush();
    },
    onCreated: (index, url) => {
      fresh.add(url);
      ctx.partialUrls.add(url);
      ctx.emit('partial', { index, count: layout.length, state: 'created', url, offset: 0 });
    },
  });
}

/** A child Upload over partial `p`'s window of the file, reached by pause/resume/abort. */
function spawnChild(
  ctx: UploadContext,
  spawnUpload: SpawnUpload,
  p: StoredPartial,
  role: PartialRole,
): PartialUpload {
  const child = spawnUpload(
    sliceSource(ctx.source, p.start, p.end),
    {
      ...ctx.o,
      uploadUrl: p.uploadUrl ?? undefined,
      store: null,
      parallel: 1,
      metadata: {},
      defaultMetadata: false,
      signal: undefined,
      checksum: ctx.checksum.algorithm ?? false,
      dedupe: false, // the parent made the instant attempt for the whole file
    },
    role,
  );
  ctx.children.add(child);
  if (ctx.gate.paused) child.pause();
  return child;
}

async function done(ctx: UploadContext, url: string, size: number): Promise<UploadResult> {
  ctx.url = url;
  ctx.noteAck(size);
  await ctx.record.finished();
  return { url, size };
}

function finalOf(url: string | null): { finalUrl?: string } {
  return url ? { finalUrl: url } : {};
}
