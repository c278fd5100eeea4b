/**
 * One upload as one stream of requests: (OPTIONS) -> create (POST, maybe with the first
 * bytes) or HEAD a known URL -> PATCH loop from the server's offset -> done. Every
 * failure goes through recover.ts, which says whether the offset still holds.
 */
import type { UploadContext } from '../context.js';
import { TusError, toTusError } from '../errors.js';
import type { Phase } from '../policy.js';
import type { UploadResult } from '../upload-events.js';
import { recover } from './recover.js';
import { create, head, patch } from './steps.js';

export async function runSingle(
  ctx: UploadContext,
  /** Set when this run just created ctx.url (the instant attempt): its offset, or null. */
  created?: { offset: number | null },
): Promise<UploadResult> {
  /** Server offset; null = unknown (HEAD first). */
  let offset: number | null = ctx.url
    ? created
      ? created.offset
      : (ctx.role?.startOffset ?? null)
    : 0;
  let resumedEmitted = offset !== null || created !== undefined;
  let phase: Phase = 'create';
  let lastChunk = 0;

  for (;;) {
    try {
      await ctx.gate.checkpoint();
      if (!ctx.checksum.decided) {
        phase = 'options';
        await ctx.decideChecksum();
      }
      if (!ctx.url) {
        phase = ctx.caps ? 'create' : 'options';
        await ctx.discover();
        phase = 'create';
        const r = await create(ctx);
        resumedEmitted = true; // a new upload: later HEADs are retries, not a resume
        offset = r.offset;
        lastChunk = r.sentBytes;
        continue;
      }
      if (offset === null) {
        phase = 'head';
        offset = await head(ctx, ctx.url);
        if (!resumedEmitted) {
          resumedEmitted = true;
          ctx.emit('resumed', { url: ctx.url, offset });
        }
        continue;
      }
      if (ctx.total !== null && offset >= ctx.total) {
        if (offset > ctx.total) {
          throw new TusError(`server offset ${offset} is past the upload length ${ctx.total}`, {
            kind: 'protocol',
          });
        }
        break;
      }
      phase = 'patch';
      lastChunk = Math.min(ctx.sizer.current, (ctx.total ?? Infinity) - offset);
      const r = await patch(ctx, ctx.url, offset);
      offset = r.offset;
      if (r.complete) break;
    } catch (e) {
      if ((await recover(ctx, phase, toTusError(e), lastChunk)) === 'reset') {
        offset = ctx.url ? null : 0;
      }
    }
  }

  const url = ctx.url!;
  const size = ctx.total ?? offset ?? 0;
  ctx.noteAck(size);
  await ctx.record.finished();
  return { url, size };
}
