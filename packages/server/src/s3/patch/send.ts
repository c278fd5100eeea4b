// One whole part to S3: awaited if it streamed while filling, sent through a StreamedPart
// if it has a multipart target (so its buffer is free once the kernel has it; staged
// segments it begins with are streamed from S3 first), and a plain upload otherwise.
import type { StoreContext } from '../context.js';
import type { UploadInfo } from '../info.js';
import { md5Of } from '../memory/bytes.js';
import { StreamedPart } from '../parts/streamed.js';
import { multipartTarget } from '../parts/target.js';
import { uploadPart } from '../parts/upload.js';
import { md5After } from '../staging/staged-body.js';
import type { StoredPart } from '../state/progress.js';
import type { FullPart } from './part-cutter.js';

/**
 * A streamed part that failed is resent if its buffer is still held (its head, if any,
 * streamed from S3 again: segments stay until the part counts); if the kernel already had
 * all of it, the failure stands and the part does not count.
 */
export async function sendPart(
  ctx: StoreContext,
  info: UploadInfo,
  part: FullPart,
): Promise<StoredPart> {
  let streamed = part.streamed;
  const whole = part.pooled;
  if (!streamed && whole && multipartTarget(ctx.prefix, info) !== undefined) {
    // A head is hashed from S3 first, so that S3 checks the part (an ETag is the MD5 of a
    // part only without SSE-KMS/SSE-C).
    const md5 = part.head
      ? await md5After(ctx.partChecksum, part.head, part.body)
      : md5Of(ctx.partChecksum, part.body);
    // After that read from S3, which can take a while: right before the write.
    ctx.fence.assertHeld();
    streamed = StreamedPart.whole(ctx, info, part.partNumber, whole, md5, part.head);
    // From here the part decides when its buffer is free (s3/parts/streamed.ts).
    part.pooled = undefined;
    streamed.handOver(() => whole.release());
  }
  if (!streamed) return uploadPart(ctx, info, part.partNumber, part.body, part.head);
  const sent = await streamed.done;
  if (!(sent instanceof Error)) {
    if (part.streamed) ctx.metrics.partsStreamed++;
    ctx.metrics.partsUploaded++;
    ctx.metrics.partBytesUploaded += sent.size;
    return sent;
  }
  const again = streamed.reclaim();
  if (!again) {
    ctx.metrics.partsFailedAfterSend++;
    throw sent;
  }
  ctx.metrics.partsResent++;
  ctx.log.warn(
    { err: sent, part: part.partNumber },
    'part upload failed; resending it from memory',
  );
  try {
    return await uploadPart(ctx, info, part.partNumber, again.chunks(), part.head);
  } finally {
    again.release();
  }
}
