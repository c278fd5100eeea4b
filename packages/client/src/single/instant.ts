/**
 * The instant-upload attempt (option `dedupe`, issue 22; the protocol is in the server's
 * README): create with `Upload-Instant: ?1`, answer the challenge with a proof over the
 * byte ranges it names, read the answer. Tried once and never repeated: the challenge is
 * single use, so whatever fails, the upload goes on as an ordinary one (its digest
 * declared) and the report says why.
 */
import type { UploadContext } from '../context.js';
import { abortedError, httpError, TusError, toTusError } from '../errors.js';
import { type InstantChallenge, parseChallengeHeader, proofHeader } from '../instant/challenge.js';
import { computeInstantProof } from '../instant/proof.js';
import { headState, parseOffset, proofHeaders } from '../protocol/requests.js';
import { terminateUpload } from '../terminate.js';
import type { InstantReason, InstantReport } from '../upload-events.js';
import { create } from './steps.js';

export const INSTANT_EXTENSION = 'instant-upload';

export interface InstantStart {
  report: InstantReport;
  /** The server's offset of ctx.url once created (null: unknown, HEAD first). */
  offset: number | null;
}

/** A stored upload (or `uploadUrl`) continues as it is: no challenge can be had for it. */
export const RESUMED: InstantReport = {
  outcome: 'uploaded',
  reason: 'resumed',
  message: 'resumed an upload created earlier (its single-use challenge was spent then)',
};

const uploaded = (reason: InstantReason, message: string, offset: number | null) => ({
  report: { outcome: 'uploaded' as const, reason, message },
  offset,
});

/** Runs the attempt; ctx.url is set when it created an upload (complete when 'instant'). */
export async function attemptInstant(ctx: UploadContext): Promise<InstantStart> {
  const total = ctx.total ?? 0; // the digest already refused sources of unknown size
  if (total === 0) return uploaded('empty', 'a 0-byte file has nothing to prove', null);
  await ctx.gate.checkpoint();
  const caps = await ctx.discover();
  if (caps.known && !caps.extensions.has(INSTANT_EXTENSION)) {
    return uploaded('no-challenge', 'the server does not offer instant upload', null);
  }
  const challenge = await createWithInstant(ctx, total);
  if (challenge && 'report' in challenge) return challenge;
  if (!challenge) return uploaded('no-challenge', 'the server sent no challenge', 0);
  return prove(ctx, ctx.url!, challenge, total);
}

/** The creation POST: the challenge (undefined: none came), or why the attempt ends here. */
async function createWithInstant(
  ctx: UploadContext,
  total: number,
): Promise<InstantChallenge | undefined | InstantStart> {
  for (;;) {
    try {
      return parseChallengeHeader((await create(ctx, true)).challenge, total);
    } catch (e) {
      const err = toTusError(e);
      if (ctx.gate.aborted || err.kind === 'limit') throw err;
      if (ctx.url) throw err; // created, then failed: not an answer of the attempt's making
      if (ctx.gate.paused) {
        // Not an answer either: no upload came of it; ask again once resumed.
        await ctx.gate.checkpoint();
        continue;
      }
      if (err.kind === 'aborted') throw err;
      if (err.status === 400) {
        const why = err.serverMessage ? `: ${err.serverMessage}` : '';
        return uploaded('refused', `the server refused Upload-Instant (HTTP 400${why})`, null);
      }
      return uploaded('failed', `the creation with Upload-Instant failed (${err.message})`, null);
    }
  }
}

async function prove(
  ctx: UploadContext,
  url: string,
  challenge: InstantChallenge,
  total: number,
): Promise<InstantStart> {
  // Reads only the challenge's ranges; a source that fails here fails the upload anyway.
  const proof = proofHeader(await computeInstantProof(challenge, ctx.source));
  let offset: number | null;
  try {
    await ctx.gate.checkpoint();
    const req = await ctx.conn.prepare('PATCH', url, proofHeaders(proof), new Uint8Array(0));
    const res = await ctx.conn.exchange(req);
    if (res.status < 200 || res.status >= 300) {
      throw httpError('PATCH', url, res.status, res.body, 'instant-upload proof refused');
    }
    offset = parseOffset(res.headers.get('Upload-Offset'));
    if (offset === null || offset > total) {
      throw new TusError(`PATCH ${url}: invalid Upload-Offset after the proof`, {
        kind: 'protocol',
        url,
      });
    }
  } catch (e) {
    if (ctx.gate.aborted) throw abortedError(e);
    return afterLostAnswer(ctx, url, total, toTusError(e));
  }
  return settle(ctx, offset, total, 'not-proven', NOT_PROVEN);
}

const NOT_PROVEN =
  'the server does not have this content for this tenant (or the challenge failed)';

function settle(
  ctx: UploadContext,
  offset: number,
  total: number,
  reason: InstantReason,
  message: string,
): InstantStart {
  if (offset !== total) return uploaded(reason, message, offset);
  ctx.noteAdopted(total);
  return { report: { outcome: 'instant', message: 'the server already had this content' }, offset };
}

/**
 * The proof got no usable answer, so whether the server copied the content is unknown:
 * one HEAD says (Upload-Offset N: it did). The proof is not sent again: its challenge is
 * spent. When the HEAD fails too, the ordinary loop HEADs again with its retries.
 */
async function afterLostAnswer(
  ctx: UploadContext,
  url: string,
  total: number,
  err: TusError,
): Promise<InstantStart> {
  const why = `the proof got no answer (${err.message})`;
  try {
    await ctx.gate.checkpoint();
    const res = await ctx.conn.exchange(await ctx.conn.prepare('HEAD', url, {}));
    if (res.status >= 200 && res.status < 300) {
      return settle(ctx, headState(url, res, total).offset, total, 'failed', why);
    }
  } catch (e) {
    if (ctx.gate.aborted) throw abortedError(e);
  }
  return uploaded('failed', why, null);
}

/**
 * The attempt's upload (no byte in it) makes way for a parallel upload: deleted, and
 * forgotten by the store. A failed DELETE leaves it to the server's expiration.
 */
export async function abandonAttempt(ctx: UploadContext): Promise<void> {
  const url = ctx.url;
  if (!url) return;
  await terminateUpload(url, { ...ctx.o, retry: { maxRetries: 1 } }).catch(() => {});
  await ctx.record.forget();
  ctx.url = null;
}
