/**
 * The creation POSTs of a parallel upload that its children do not send: the final
 * (Upload-Concat: final;<partial URLs>, no body, no Upload-Length), which joins its
 * partials into the file, and, when the final comes first (final-first.ts), the partials
 * themselves (Upload-Concat: partial, no body). Retried like any creation.
 */
import type { UploadContext } from '../context.js';
import { abortedError, DigestMismatchError, httpError, toTusError } from '../errors.js';
import { decide } from '../policy.js';
import { createdUrl, creationHeaders, finalHeaders } from '../protocol/requests.js';
import { sleep } from '../retry.js';

/** A final POST after its partials copies every one server-side before it answers. */
const FINAL_IDLE_MS = 10 * 60_000;

/** Returns the final upload's URL. */
export async function createFinal(ctx: UploadContext, urls: string[]): Promise<string> {
  const headers = finalHeaders(urls, ctx.metadata());
  // The final POST is what completes a parallel upload: the server checks the digest there.
  if (ctx.digest) headers['Repr-Digest'] = ctx.digest.header;
  const url = await postCreation(ctx, headers, 'concatenation failed', FINAL_IDLE_MS);
  ctx.emit('created', { url });
  return url;
}

/** A partial upload of `size` bytes, created without any of them; returns its URL. */
export function createPartial(ctx: UploadContext, size: number): Promise<string> {
  return postCreation(ctx, creationHeaders(size, {}, true), 'creation failed');
}

async function postCreation(
  ctx: UploadContext,
  headers: Record<string, string>,
  failure: string,
  idleMs?: number,
): Promise<string> {
  const endpoint = ctx.o.endpoint!;
  for (;;) {
    await ctx.gate.checkpoint();
    try {
      const req = await ctx.conn.prepare('POST', endpoint, headers);
      const res = await ctx.conn.exchange(req, undefined, idleMs);
      const declared = headers['Repr-Digest'];
      if (res.status === 460 && declared) {
        await ctx.record.forget(); // as for a single upload: a rerun starts afresh
        throw new DigestMismatchError('POST', endpoint, declared, res.body);
      }
      if (res.status !== 201) throw httpError('POST', endpoint, res.status, res.body, failure);
      return createdUrl(endpoint, res);
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
