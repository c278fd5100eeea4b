/**
 * A parallel upload from its parent's side: checks the layout against the source,
 * spawns one child Upload per partial over its window of the file (run.ts runs them and
 * keeps the resume entry), sums their progress into the parent's, then sends the final
 * POST (final.ts) and forgets the resume entry.
 */
import type { ServerCaps } from '../caps.js';
import type { PartialRole, UploadContext } from '../context.js';
import { TusError } from '../errors.js';
import type { UploadOptions } from '../options.js';
import type { UploadSource } from '../sources/types.js';
import type { StoredPartial } from '../stores/types.js';
import type { Upload, UploadResult } from '../upload.js';
import { createFinal } from './final.js';
import { runPartials } from './run.js';
import { sliceSource } from './slice-source.js';

/** Makes an Upload (passed in: this module does not import the class it serves). */
export type SpawnUpload = (source: UploadSource, o: UploadOptions, role: PartialRole) => Upload;

/**
 * Runs `layout` (fresh, or from the store); `alignment` null means resumed.
 */
export async function runParallel(
  ctx: UploadContext,
  spawnUpload: SpawnUpload,
  layout: StoredPartial[],
  alignment: number | null,
  createdAt: string,
): Promise<UploadResult> {
  await ctx.gate.checkpoint();
  const caps: ServerCaps = await ctx.discover();
  if (!ctx.checksum.decided) await ctx.decideChecksum();
  const size = layout[layout.length - 1]!.end;
  if (ctx.total !== null && size !== ctx.total) {
    throw new TusError(`stored partials cover ${size} bytes, the source has ${ctx.total}`, {
      kind: 'protocol',
    });
  }
  ctx.total = size;
  ctx.emit('parallel', {
    partials: layout.map((p) => ({ ...p })),
    alignment,
    resumed: alignment === null,
  });
  const urls = await runPartials(
    {
      store: ctx.record.store,
      entry: ctx.record.entry({
        endpoint: ctx.o.endpoint!,
        size,
        metadata: ctx.metadata(),
        createdAt,
      }),
      spawn: (p, onCreated) => {
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
          },
          { caps, onCreated },
        );
        ctx.children.add(child);
        if (ctx.gate.paused) child.pause();
        return child;
      },
      onPartial: (e) => {
        if (e.state === 'restarted') ctx.partialUrls.delete(e.url);
        else ctx.partialUrls.add(e.url);
        ctx.emit('partial', e);
      },
      onProgress: (sent, acked) => ctx.noteAggregate(sent, acked),
      onRetry: (e) => ctx.emit('retry', e),
      onChunk: (e) => ctx.emit('chunk', { ...e, bytesAcknowledged: ctx.counters.acked }),
    },
    layout,
  ).finally(() => ctx.children.clear());
  const url = await createFinal(ctx, urls);
  ctx.url = url;
  ctx.noteAck(size);
  await ctx.record.finished();
  return { url, size };
}
