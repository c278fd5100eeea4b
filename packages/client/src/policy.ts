/**
 * What the upload does after a failed request. Pure: the state machine in upload.ts asks,
 * this module answers.
 */
import type { TusError } from './errors.js';

export type Phase = 'options' | 'create' | 'head' | 'patch' | 'delete';

export type Decision =
  /** Wait (backoff) then HEAD and continue from the server's offset. */
  | { action: 'retry' }
  /** HEAD now and continue from the server's offset (409: our offset was wrong). */
  | { action: 'resync' }
  /** The upload is gone on the server: start a new one (if the source can be read again). */
  | { action: 'restart' }
  /** The chunk was too large for the server: shrink it and try again. */
  | { action: 'shrink' }
  /** 460: the bytes arrived corrupted (Upload-Checksum mismatch); send them again, bounded. */
  | { action: 'resend' }
  | { action: 'fail' };

export function decide(phase: Phase, error: TusError): Decision {
  switch (error.kind) {
    case 'network':
    case 'stall':
      return { action: 'retry' };
    case 'http':
      return decideStatus(phase, error.status ?? 0);
    default:
      return { action: 'fail' };
  }
}

export function decideStatus(phase: Phase, status: number): Decision {
  if (status === 423 || status === 429 || status === 408 || status >= 500) {
    return { action: 'retry' };
  }
  if (status === 409 && phase === 'patch') return { action: 'resync' };
  if ((status === 404 || status === 410) && (phase === 'head' || phase === 'patch')) {
    return { action: 'restart' };
  }
  if (status === 413 && (phase === 'patch' || phase === 'create')) return { action: 'shrink' };
  if (status === 460 && (phase === 'patch' || phase === 'create')) return { action: 'resend' };
  return { action: 'fail' };
}
