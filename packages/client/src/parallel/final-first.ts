/**
 * A parallel upload with the final first, when the server advertises
 * `concatenation-unfinished`: every partial is created without bytes, then the final that
 * names them, all before a byte goes out. Our server then lets the partials write straight
 * into the final's S3 multipart upload, so the final is complete as soon as the last
 * partial is (nothing is copied); with a declared digest it copies the partials and reads
 * them back once they are in, and answers 460 on the final if they are not the declared
 * file (finalState). The caller stores every URL before bytes go out, so a
 * killed run resumes each partial and still reaches the same final.
 */

import type { UploadContext } from '../context.js';
import { DigestMismatchError, httpError, TusError, toTusError } from '../errors.js';
import type { ServerCaps } from '../protocol/caps.js';
import { parseOffset } from '../protocol/requests.js';
import { sleep } from '../retry.js';
import type { StoredPartial } from '../stores/types.js';
import { createFinal, createPartial } from './final.js';

export const UNFINISHED_EXTENSION = 'concatenation-unfinished';

export function finalFirstPossible(caps: ServerCaps, layout: readonly StoredPartial[]): boolean {
  // Partials that may hold bytes already (an older run) cannot join a final first.
  return caps.extensions.has(UNFINISHED_EXTENSION) && layout.every((p) => p.offset === 0);
}

export interface FinalFirstHost {
  /** Stores the entry as it stands (partial URLs, and the final's once known). */
  save(finalUrl: string | null): Promise<void>;
  /** Partial `index` was just created (at offset 0). */
  onCreated(index: number, url: string): void;
}

/**
 * Creates the partials `layout` lacks (setting their URLs), then the final. Returns the
 * final's URL, or null when the server refused it (4xx): the partials are still plain
 * partials without bytes, for the final-after-partials way.
 */
export async function createFinalFirst(
  ctx: UploadContext,
  layout: StoredPartial[],
  host: FinalFirstHost,
): Promise<string | null> {
  await Promise.all(
    layout.map(async (p, index) => {
      if (p.uploadUrl) return;
      const url = await createPartial(ctx, p.end - p.start);
      p.uploadUrl = url;
      p.offset = 0;
      await host.save(null);
      host.onCreated(index, url);
    }),
  );
  try {
    const url = await createFinal(
      ctx,
      layout.map((p) => p.uploadUrl as string),
    );
    await host.save(url);
    return url;
  } catch (e) {
    const err = toTusError(e);
    if (err.kind === 'http' && err.status !== undefined && err.status < 500) return null;
    throw err;
  }
}

export type FinalState = 'complete' | 'pending' | 'gone';

/**
 * HEAD on the final: complete once it answers an Upload-Offset equal to its length; a 460
 * (its declared digest did not match the partials) is a DigestMismatchError.
 */
export async function finalState(ctx: UploadContext, url: string): Promise<FinalState> {
  const req = await ctx.conn.prepare('HEAD', url, {});
  const res = await ctx.conn.exchange(req);
  if (res.status === 404 || res.status === 410) return 'gone';
  if (res.status === 460 && ctx.digest) {
    // Our server read the finished partials back and they are not the declared file: nothing
    // was published, and a rerun must hash and upload afresh (as for a single upload).
    await ctx.record.forget();
    throw new DigestMismatchError('HEAD', url, ctx.digest.header, res.body);
  }
  if (res.status < 200 || res.status >= 300) {
    throw httpError('HEAD', url, res.status, res.body, 'cannot read the final upload');
  }
  const offset = parseOffset(res.headers.get('Upload-Offset'));
  const length = parseOffset(res.headers.get('Upload-Length'));
  return offset !== null && offset === length ? 'complete' : 'pending';
}

/** The server completes the final with its last partial: waits (briefly) until it says so. */
export async function awaitFinal(ctx: UploadContext, url: string): Promise<void> {
  let last: unknown = null;
  for (const delay of [0, 200, 500, 1000, 2000, 4000, 8000, 15000]) {
    if (delay > 0) await sleep(delay, ctx.gate.signal).catch(() => {});
    await ctx.gate.checkpoint();
    try {
      const state = await finalState(ctx, url);
      if (state === 'complete') return;
      if (state === 'gone') {
        throw new TusError(`final upload ${url} is gone`, { kind: 'http', status: 404, url });
      }
    } catch (e) {
      const err = toTusError(e);
      if (err.kind === 'aborted' || err.kind === 'digest' || ctx.gate.aborted) throw err;
      if (err.status === 404 || (err.kind === 'http' && (err.status ?? 0) < 500)) throw err;
      last = err;
    }
  }
  throw new TusError(`final upload ${url} is not complete although all its partials are`, {
    kind: 'protocol',
    url,
    cause: last ?? undefined,
  });
}
