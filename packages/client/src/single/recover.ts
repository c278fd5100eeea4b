/**
 * What a single-stream upload does after a failed request, carried out: policy.ts names
 * the action (retry / resync / restart / shrink / resend / fail), this applies it to the
 * upload (store, chunk size, retry budget, events, backoff wait) or throws.
 */
import type { UploadContext } from '../context.js';
import { abortedError, explained, TusError } from '../errors.js';
import { decide, type Phase } from '../policy.js';
import { sleep } from '../retry.js';

/**
 * 'keep': send the same request again from the same offset; 'reset': the offset is
 * unknown (HEAD the upload, or create one from byte 0 when there is no URL).
 */
export type Recovery = 'keep' | 'reset';

export async function recover(
  ctx: UploadContext,
  phase: Phase,
  err: TusError,
  /** Size of the body that failed (0: none yet). */
  lastChunk: number,
): Promise<Recovery> {
  if (err.kind === 'aborted' || ctx.gate.aborted || ctx.gate.paused) {
    if (ctx.gate.aborted) throw abortedError(err);
    return 'reset'; // paused: HEAD after resume
  }
  const d = decide(phase, err);
  if (d.action === 'restart' && ctx.url) {
    if (ctx.role?.pinned) {
      throw explained(err, '; the partial upload is gone, so its final cannot complete');
    }
    if (!ctx.source.rereadable) {
      throw new TusError(`${err.message}; the upload is gone and the source cannot be read again`, {
        kind: 'source',
        status: err.status,
        cause: err,
      });
    }
    const previousUrl = ctx.url;
    await ctx.record.forget();
    ctx.url = null;
    ctx.emit('restarted', { previousUrl, status: err.status ?? 0 });
    return 'reset';
  }
  if (d.action === 'resend') {
    // 460: the server kept none of the request; send the same bytes again, a few times.
    ctx.checksumFailures++;
    const limit = ctx.o.checksumRetries ?? 3;
    if (ctx.checksumFailures > limit) {
      throw explained(
        err,
        ` (checksum mismatch ${ctx.checksumFailures} times in a row, giving up)`,
      );
    }
    ctx.emit('retry', { attempt: ctx.checksumFailures, delayMs: 0, error: err });
    return phase === 'create' ? 'reset' : 'keep';
  }
  if (d.action === 'shrink' && ctx.sizer.tooLarge(lastChunk || ctx.sizer.current)) {
    return 'reset';
  }
  if (d.action === 'retry' && err.kind !== 'http' && (phase === 'patch' || phase === 'create')) {
    ctx.sizer.failed();
  }
  if (d.action === 'retry' || d.action === 'resync') {
    const delay = ctx.budget.next();
    if (delay === null) throw err;
    const wait = d.action === 'resync' ? 0 : delay;
    ctx.emit('retry', { attempt: ctx.budget.attempts, delayMs: wait, error: err });
    try {
      if (wait > 0) await sleep(wait, ctx.gate.signal);
    } catch {
      // paused or aborted while waiting: handled at the next checkpoint
    }
    return 'reset';
  }
  throw err;
}
