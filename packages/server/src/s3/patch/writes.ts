// What one PATCH has put into the multipart upload: the parts (the upload's earlier ones
// and its own), which part numbers it wrote, and the staged segments those parts contain.
import type { StoreContext } from '../context.js';
import type { UploadInfo } from '../info.js';
import type { PartPipeline } from '../parts/pipeline.js';
import type { StoredPart, StoredSegment } from '../state/progress.js';
import type { FullPart } from './part-cutter.js';
import { sendPart } from './send.js';

export class PartWrites {
  private readonly parts: StoredPart[];
  /** Part numbers uploaded by this request. */
  readonly written = new Set<number>();
  /** Segments of earlier requests folded into this request's parts. */
  readonly folded: StoredSegment[] = [];

  constructor(
    private readonly ctx: StoreContext,
    private readonly info: UploadInfo,
    existing: readonly StoredPart[],
  ) {
    this.parts = [...existing];
  }

  /** Queues `part` on `into`; throws if `into` failed before it. */
  async upload(part: FullPart, into: PartPipeline): Promise<void> {
    // Folded segments go once the part counts (a mark may keep it out for a while).
    this.fold(part.segs);
    const { ctx, info } = this;
    try {
      await into.add(async () => {
        try {
          this.record(await sendPart(ctx, info, part), part.partNumber);
        } finally {
          part.pooled?.release();
        }
      });
    } catch (err) {
      // The pipeline failed before this part's task started, so nothing awaits its
      // streamed request: stop it before the lease returns the buffer it still reads.
      await part.streamed?.abandon();
      throw err;
    }
  }

  fold(segs: readonly StoredSegment[]): void {
    this.folded.push(...segs);
  }

  record(stored: StoredPart, partNumber: number): void {
    this.parts.push(stored);
    this.written.add(partNumber);
  }

  /** Every part, in part-number order. */
  sorted(): StoredPart[] {
    return this.parts.sort((a, b) => a.partNumber - b.partNumber);
  }
}
