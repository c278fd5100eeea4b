// The PATCH receiver: a request body cut at absolute part boundaries into UploadParts
// (several in flight while the next part fills, slabs from the part budget) and a staged tail
// segment, with the Upload-Checksum rules for what may count before the body matched.
// Each request is a PatchRequest (request.ts); this holds what requests share.
import { digesterReady } from '../../extensions/checksum.js';
import { BufferLease, leaseBytes } from '../memory/buffer-pool.js';
import type { PartBudget } from '../memory/part-budget.js';
import type { Progress } from '../state/progress.js';
import type { UploadState } from '../state/upload-state.js';
import type { PatchFacts } from './plan.js';
import { PatchRequest, type RequestDeps } from './request.js';

export type { PatchFacts } from './plan.js';

export interface ReceiverDeps extends RequestDeps {
  /** Parts' worth of slabs one PATCH holds at once (s3/memory/buffer-pool.ts: BufferLease). */
  partBuffers: number;
  /** Part memory, shared by every request. */
  budget: PartBudget;
}

export class PatchReceiver {
  constructor(private readonly deps: ReceiverDeps) {}

  /**
   * Cuts the body at absolute part boundaries. Whole parts go out as UploadPart while the
   * next is received; the rest is staged as a segment. Returns the progress once every
   * received byte is durable.
   *
   * Under an Upload-Checksum nothing of the request may count before its whole body
   * matched. Whole parts still stream to S3, under a mark that keeps them out of the
   * offset (s3/staging/marks.ts), or, for a deferred length, as pending objects copied into
   * parts after the match (s3/staging/pending.ts). The tail stays in memory until the match, and so
   * does the last whole part unless it streamed (a request declared past its first part, without
   * Content-MD5, streams its parts under a mark put first): a PATCH of one part (a common case)
   * needs neither. Segments
   * folded into this request's parts are deleted only once those parts count.
   */
  async receive(
    body: AsyncIterable<Buffer>,
    state: UploadState,
    facts: PatchFacts,
  ): Promise<Progress> {
    const { budget, partBuffers } = this.deps;
    if (facts.checksum) await digesterReady(facts.checksum.algorithm);
    const lease = new BufferLease(budget, leaseBytes(state.info.partSize, partBuffers, budget));
    try {
      return await new PatchRequest(this.deps, lease, state, facts).run(body);
    } finally {
      // Every path out of a request has drained its part uploads: nothing still sends
      // these buffers.
      lease.returnAll();
    }
  }
}
