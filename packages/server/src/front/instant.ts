// The instant-upload headers of a request (server README, "Instant upload (protocol)"),
// read into the request context for a store that implements it. Every refusal here
// depends on the request's own headers only, never on what is stored.
import { PROOF_HEADER, parseProofHeader } from '../instant/proof.js';
import {
  checkInstantCreation,
  checkProofRequest,
  INSTANT_HEADER,
  parseInstantHeader,
} from '../instant/request.js';
import type { RequestContext } from './request-context.js';

/** Fills ctx.instant (a POST) or ctx.instantProof (a PATCH); TusError 400 when malformed. */
export function readInstantHeaders(request: Request, ctx: RequestContext): void {
  const h = request.headers;
  if (request.method === 'POST') {
    if (!parseInstantHeader(h.get(INSTANT_HEADER) ?? undefined)) return;
    checkInstantCreation({
      length: declaredLength(h.get('upload-length')),
      hasDigest: ctx.reprDigest !== undefined,
      // A chunked body has no Content-Length: it is a body all the same.
      bodyLength: ctx.contentLength ?? (h.has('transfer-encoding') ? 1 : 0),
      concat: h.has('upload-concat'),
    });
    ctx.instant = true;
    return;
  }
  const value = h.get(PROOF_HEADER);
  if (request.method !== 'PATCH' || value === null) return;
  const proof = parseProofHeader(value);
  checkProofRequest(ctx.contentLength ?? -1);
  ctx.instantProof = { proof, receivedAt: performance.now() };
}

function declaredLength(value: string | null): number | undefined {
  if (value === null || !/^\d+$/.test(value.trim())) return undefined;
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : undefined;
}
