// Builds a final upload's parts from its partial objects, following s3/concat/plan.ts: a
// part inside one partial is an UploadPartCopy (no byte through this server); a part
// that straddles partials is read back by ranges and uploaded. Parts already in the
// multipart upload (an earlier attempt that crashed) are kept, so building is resumable.
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { multipartId, type UploadInfo } from '../info.js';
import { objectKey } from '../keys.js';
import { copyPart } from '../parts/copy.js';
import { PartPipeline } from '../parts/pipeline.js';
import type { StoredPart } from '../state/progress.js';
import { type PlannedPart, planFinal } from './plan.js';

export interface ConcatCounters {
  /** Parts of final uploads made by UploadPartCopy, and their bytes. */
  partsCopied: number;
  bytesCopied: number;
  /** Parts of final uploads that straddled partials: read back and uploaded. */
  partsAssembled: number;
  bytesAssembled: number;
}

export interface ConcatDeps {
  client: S3Client;
  bucket: string;
  prefix: string;
  /** Parts built at once (copies cost this server nothing but a request each). */
  concurrency: number;
  uploadPart(info: UploadInfo, partNumber: number, body: Buffer): Promise<StoredPart>;
  counters: ConcatCounters;
}

export async function buildFinalParts(
  deps: ConcatDeps,
  info: UploadInfo,
  existing: readonly StoredPart[],
): Promise<StoredPart[]> {
  if (info.concat?.role !== 'final') throw new Error(`upload ${info.id} is not a final upload`);
  const partials = info.concat.partials;
  const plan = planFinal(
    partials.map((p) => p.size),
    info.partSize,
  );
  const have = new Map(existing.map((p) => [p.partNumber, p]));
  const parts: StoredPart[] = [];
  const pipeline = new PartPipeline(deps.concurrency);
  for (const planned of plan) {
    const done = have.get(planned.partNumber);
    if (done && done.size === planned.size) {
      parts.push(done);
      continue;
    }
    await pipeline.add(async () => {
      parts.push(await buildPart(deps, info, planned));
    });
  }
  await pipeline.drain();
  return parts.sort((a, b) => a.partNumber - b.partNumber);
}

async function buildPart(
  deps: ConcatDeps,
  info: UploadInfo,
  planned: PlannedPart,
): Promise<StoredPart> {
  const partials = (info.concat as { partials: Array<{ id: string }> }).partials;
  const keyOf = (source: number) => objectKey(deps.prefix, (partials[source] as { id: string }).id);
  const [only] = planned.pieces;
  if (planned.pieces.length === 1 && only) {
    const part = await copyPart(
      deps.client,
      {
        bucket: deps.bucket,
        key: objectKey(deps.prefix, info.id),
        uploadId: multipartId(info),
        partNumber: planned.partNumber,
      },
      keyOf(only.source),
      only.start,
      only.end,
    );
    deps.counters.partsCopied++;
    deps.counters.bytesCopied += part.size;
    return part;
  }
  const chunks = await Promise.all(
    planned.pieces.map(async (piece) => {
      const res = await deps.client.send(
        new GetObjectCommand({
          Bucket: deps.bucket,
          Key: keyOf(piece.source),
          Range: `bytes=${piece.start}-${piece.end - 1}`,
        }),
      );
      const bytes = Buffer.from((await res.Body?.transformToByteArray()) ?? new Uint8Array());
      if (bytes.length !== piece.end - piece.start) {
        throw new Error(`partial ${keyOf(piece.source)} is shorter than its recorded size`);
      }
      return bytes;
    }),
  );
  const body = Buffer.concat(chunks);
  const part = await deps.uploadPart(info, planned.partNumber, body);
  deps.counters.partsAssembled++;
  deps.counters.bytesAssembled += part.size;
  return part;
}
