// The I/O a proof's decision (instant/verify.ts) needs, over this store: the challenge
// consumed from the upload's info record, the tenant's index entry, and ranged reads of
// the entry's object whose ETags are kept for the copy that follows a proof that holds.
import type { StoredChallenge } from '../../instant/challenge.js';
import { forgetUpload, getEntry, readEntryRangeTagged } from '../../instant/index-store.js';
import type { ProofIo } from '../../instant/verify.js';
import type { StoreContext } from '../context.js';
import type { UploadInfo } from '../info.js';
import { writeInfo } from '../info-io.js';
import type { UploadState } from '../state/upload-state.js';

/**
 * `state.info` loses its challenge as soon as consume() resolves (the record in S3 first);
 * `etags` collects the ETag of every range read.
 */
export function proofIo(ctx: StoreContext, state: UploadState, etags: Set<string>): ProofIo {
  return {
    consume: async () => {
      const { info } = state;
      const challenge = info.instant;
      if (challenge === undefined) return undefined;
      const spent: UploadInfo = { ...info };
      delete spent.instant;
      // Durable before anything that depends on what is stored: a second proof, here or
      // on another instance, finds no challenge.
      ctx.fence.assertHeld();
      await writeInfo(ctx, spent);
      state.info = spent;
      return boundTo(challenge, info) ? challenge : undefined;
    },
    lookup: (tenant, sha256, size) => getEntry(ctx, tenant, sha256, size),
    readRange: async (entry, offset, length) => {
      const read = await readEntryRangeTagged(ctx, entry, offset, length);
      if (read?.etag !== undefined) etags.add(read.etag);
      return read?.bytes;
    },
    // Only if it still names the same upload: a fresh entry written meanwhile stays.
    forget: async (tenant, entry) => {
      await forgetUpload(ctx, tenant, entry.sha256, entry.size, entry.uploadId);
    },
    now: () => Date.now(),
  };
}

/** The challenge is for the digest and length this upload declared. */
function boundTo(challenge: StoredChallenge, info: UploadInfo): boolean {
  return challenge.sha256 === info.digest?.declared && challenge.size === info.size;
}
