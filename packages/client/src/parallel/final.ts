/**
 * The final POST of a parallel upload (Upload-Concat: final;<partial URLs>, no body, no
 * Upload-Length), which joins its partials into the file; retried like any creation.
 */
import type { UploadContext } from '../context.js';
import { abortedError, httpError, toTusError } from '../errors.js';
import { decide } from '../policy.js';
import { createdUrl, finalHeaders } from '../requests.js';
import { sleep } from '../retry.js';

/** A final POST copies every partial server-side before it answers: allow it time. */
const FINAL_IDLE_MS = 10 * 60_000;

/** Returns the final upload's URL. */
export async function createFinal(ctx: UploadContext, urls: string[]): Promise<string> {
  const endpoint = ctx.o.endpoint!;
  for (;;) {
    await ctx.gate.checkpoint();
    try {
      const headers = finalHeaders(urls, ctx.metadata());
      const req = await ctx.conn.prepare('POST', endpoint, headers);
      const res = await ctx.conn.exchange(req, undefined, FINAL_IDLE_MS);
      if (res.status !== 201) {
        throw httpError('POST', endpoint, res.status, res.body, 'concatenation failed');
      }
      const url = createdUrl(endpoint, res);
      ctx.emit('created', { url });
      return url;
    } catch (e) {
      const err = toTusError(e);
      if (ctx.gate.aborted) throw abortedError(err);
      if (err.kind === 'aborted' || ctx.gate.paused) continue; // paused: wait, then again
      if (decide('create', err).action !== 'retry') throw err;
      const delay = ctx.budget.next();
      if (delay === null) throw err;
      ctx.emit('retry', { attempt: ctx.budget.attempts, delayMs: delay, error: err });
      await sleep(delay, ctx.gate.signal).catch(() => {});
    }
  }
}
