/**
 * The requests of a single-stream upload, one function each: create (POST, maybe with
 * the first chunk), HEAD (where the server is) and PATCH (the next chunk). Each updates
 * the upload's context; failures are thrown for the loop (run.ts) to recover from.
 */
import type { UploadContext } from '../context.js';
import { DigestMismatchError, httpError, TusError } from '../errors.js';
import type { RequestBody } from '../http.js';
import {
  draftAppendedOffset,
  draftAppendHeaders,
  draftCreationHeaders,
} from '../protocol/ietf-draft.js';
import {
  createdUrl,
  creationHeaders,
  headState,
  parseOffset,
  patchedOffset,
  patchHeaders,
} from '../protocol/requests.js';

export interface Created {
  offset: number | null;
  sentBytes: number;
  /** Upload-Instant-Challenge of the answer (creation with `instant`). */
  challenge: string | null;
}

/** POST; `instant` asks for an instant-upload challenge (no body then). */
export async function create(ctx: UploadContext, instant = false): Promise<Created> {
  const endpoint = ctx.o.endpoint!;
  const caps = ctx.caps!;
  const total = ctx.total;
  if (caps.maxSize !== null && total !== null && total > caps.maxSize) {
    throw new TusError(
      `upload of ${total} bytes exceeds the server's limit (Tus-Max-Size ${caps.maxSize})`,
      { kind: 'limit', url: endpoint },
    );
  }
  const meta = ctx.metadata();
  const draft = ctx.o.protocol === 'ietf-draft';
  const headers = draft
    ? draftCreationHeaders(total, meta)
    : creationHeaders(total, meta, ctx.role !== null);
  if (ctx.digest) headers['Repr-Digest'] = ctx.digest.header;
  if (instant) headers['Upload-Instant'] = '?1';

  const withBody =
    !instant &&
    !draft &&
    ctx.o.creationWithUpload !== false &&
    total !== null &&
    total > 0 &&
    caps.extensions.has('creation-with-upload');
  let body: RequestBody | undefined;
  let bodySize = 0;
  if (withBody) {
    const chunk = await ctx.source.read(0, Math.min(ctx.sizer.current, total));
    body = chunk.body;
    bodySize = chunk.size;
    headers['Content-Type'] = 'application/offset+octet-stream';
    const c = await ctx.checksum.forChunk(chunk, 0, ctx.sizer.current, ctx.total);
    if (c) {
      body = c.body;
      headers['Upload-Checksum'] = c.header;
    }
  }
  const req = await ctx.conn.prepare('POST', endpoint, headers, body);
  const t0 = Date.now();
  const res = await ctx.conn.exchange(req, withBody ? (n) => ctx.noteSent(n) : undefined);
  if (res.status === 460 && bodySize === total)
    await digestRefused(ctx, 'POST', endpoint, res.body);
  // 460 with a Location: the upload exists but kept none of the body; HEAD, then PATCH.
  const createdWithoutBody = res.status === 460 && res.headers.get('Location') !== null;
  if (res.status !== 201 && !createdWithoutBody)
    throw httpError('POST', endpoint, res.status, res.body, 'creation failed');
  const url = createdUrl(endpoint, res);
  ctx.url = url;
  await ctx.role?.onCreated(url);
  await ctx.record.save(url, {
    endpoint,
    size: ctx.total,
    metadata: meta,
    createdAt: new Date().toISOString(),
    ...(ctx.digest ? { digest: ctx.digest.header } : {}),
  });
  if (ctx.digest) ctx.digest.declared = true;
  ctx.emit('created', { url });
  if (createdWithoutBody)
    throw httpError('POST', endpoint, res.status, res.body, 'creation failed');
  const challenge = res.headers.get('Upload-Instant-Challenge');
  if (!withBody) return { offset: 0, sentBytes: 0, challenge };
  const off = parseOffset(res.headers.get('Upload-Offset'));
  if (off === null) return { offset: null, sentBytes: bodySize, challenge };
  ctx.acknowledge(0, off, Date.now() - t0, bodySize);
  return { offset: off, sentBytes: bodySize, challenge };
}

/** The server's offset of `url` (and its length, when ours was deferred). */
export async function head(ctx: UploadContext, url: string): Promise<number> {
  const req = await ctx.conn.prepare('HEAD', url, {});
  const res = await ctx.conn.exchange(req);
  if (res.status < 200 || res.status >= 300) {
    throw httpError('HEAD', url, res.status, res.body, 'cannot resume');
  }
  const s = headState(url, res, ctx.total);
  if (s.length !== null) ctx.total = s.length;
  ctx.noteAck(s.offset);
  return s.offset;
}

/** PATCH the next chunk from `offset`; `complete` once the server has every byte. */
export async function patch(
  ctx: UploadContext,
  url: string,
  offset: number,
): Promise<{ offset: number; complete: boolean }> {
  const want = ctx.sizer.current;
  const end = ctx.total === null ? offset + want : Math.min(offset + want, ctx.total);
  const chunk = await ctx.source.read(offset, end);
  const declare = ctx.total === null && chunk.last;
  const draft = ctx.o.protocol === 'ietf-draft';
  // The draft's last append says so; its length follows from its Content-Length.
  const last = chunk.last || (ctx.total !== null && offset + chunk.size >= ctx.total);
  const headers = draft
    ? draftAppendHeaders(offset, last)
    : patchHeaders(offset, declare ? offset + chunk.size : null);
  // Resuming an upload created without it (another run, `uploadUrl`): declare it now.
  if (ctx.digest && !ctx.digest.declared) headers['Repr-Digest'] = ctx.digest.header;
  let body = chunk.body;
  const c = await ctx.checksum.forChunk(chunk, offset, ctx.sizer.current, ctx.total);
  if (c) {
    body = c.body;
    headers['Upload-Checksum'] = c.header;
  }
  const req = await ctx.conn.prepare('PATCH', url, headers, body);
  const t0 = Date.now();
  const res = await ctx.conn.exchange(req, (n) => ctx.noteSent(offset + n));
  if (res.status === 460 && ctx.total !== null && end >= ctx.total) {
    await digestRefused(ctx, 'PATCH', url, res.body);
  }
  if (res.status < 200 || res.status >= 300) {
    throw httpError('PATCH', url, res.status, res.body);
  }
  const next = draft
    ? draftAppendedOffset(url, res, offset, chunk.size)
    : patchedOffset(url, res, offset, chunk.size);
  if (ctx.digest) ctx.digest.declared = true;
  if (declare) ctx.total = offset + chunk.size;
  ctx.acknowledge(offset, next, Date.now() - t0, chunk.size);
  const complete = ctx.total !== null && next >= ctx.total;
  return { offset: next, complete };
}

/**
 * A 460 on the request bringing the last byte, with a digest declared: the server's
 * SHA-256 of the upload differs, so resending cannot help. The entry is forgotten (a new
 * run hashes the file afresh and uploads it anew); without a digest, the caller's usual
 * 460 handling (resend) applies.
 */
async function digestRefused(ctx: UploadContext, method: string, url: string, body: string) {
  if (!ctx.digest) return;
  await ctx.record.forget();
  throw new DigestMismatchError(method, url, ctx.digest.header, body);
}
