// The bytes after the request's last whole part: the upload's last part when they end a
// known-size upload, otherwise a segment staged for the next request to continue.
import type { UploadInfo } from '../info.js';
import type { PartPipeline } from '../parts/pipeline.js';
import type { UploadState } from '../state/upload-state.js';
import type { PartCutter } from './part-cutter.js';
import type { PartWrites } from './writes.js';

export interface TailRequest {
  info: UploadInfo;
  state: UploadState;
  cutter: PartCutter;
  writes: PartWrites;
  /** Where the body's parts went. */
  pipeline: PartPipeline;
  /** Throws when the bytes so far, the whole upload, do not match its declared digest. */
  verifyLast(): void;
}

/**
 * Stages the tail into `sink` (the body's pipeline, or the one verified parts went to) and
 * waits until every part of the request is durable. A failure is returned, not thrown:
 * what did get durable still settles.
 */
export async function writeTail(
  req: TailRequest,
  sink: PartPipeline,
): Promise<{ error: unknown } | undefined> {
  const { info, state, cutter, writes, pipeline } = req;
  try {
    if (cutter.fill > 0 && !sink.failed) {
      if (info.size !== undefined && cutter.end === info.size) {
        // Before the last part goes out: a one-part upload's PutObject is the object.
        const mismatch = verified(req);
        if (mismatch) {
          cutter.release();
          await Promise.allSettled([sink.drain(), pipeline.drain()]);
          return mismatch;
        }
        await writes.upload(cutter.take(), sink);
      } else {
        state.staged = true;
        await cutter.stageSegment();
      }
    }
    await sink.drain();
    if (sink !== pipeline) await pipeline.drain();
  } catch (error) {
    return { error };
  }
  return undefined;
}

function verified(req: TailRequest): { error: unknown } | undefined {
  try {
    req.verifyLast();
    return undefined;
  } catch (error) {
    return { error };
  }
}
