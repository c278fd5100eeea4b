// Open markers written late. A one-part upload created without its bytes (tus-js-client's
// POST, then one PATCH) usually completes within a second; its marker (s3/open-marker.ts)
// would be written at creation and deleted at completion, two S3 requests of the four such
// a file costs. Here the marker waits `delayMs` and is never written if the upload finishes
// (or is removed) in this process first. Until then the upload is in no listing:
// - a crash in that window leaves an info without a marker, which the sweep's full pass
//   finds (expiration/full-pass.ts), as it finds one whose marker write failed;
// - an upload completed on another instance gets its marker late, which the sweep drops
//   (expiration/apply.ts, remove-unless-whole);
// - quotas count uploads by their markers, so a store with quotas writes them at once.
// drained() writes every marker still waiting, so a clean shutdown leaves none unwritten.

/** How long a marker waits when the store's `openMarkerDelay` is not set. */
export const DEFAULT_OPEN_MARKER_DELAY_MS = 10_000;

/** Most markers waiting at once; past it a marker is written at once. */
const MAX_WAITING = 10_000;

export class PendingMarkers {
  private readonly waiting = new Map<string, NodeJS.Timeout>();
  private readonly writes = new Set<Promise<void>>();

  constructor(
    private readonly delayMs: number,
    private readonly write: (id: string) => Promise<void>,
    private readonly onError: (err: unknown, id: string) => void,
  ) {}

  /** Writes `id`'s marker after the delay, or now when too many wait. */
  async schedule(id: string): Promise<void> {
    if (this.waiting.size >= MAX_WAITING) return this.write(id);
    this.cancel(id);
    const timer = setTimeout(() => this.fire(id), this.delayMs);
    timer.unref();
    this.waiting.set(id, timer);
  }

  /** Whether `id`'s marker was waiting (and now never will be written). */
  cancel(id: string): boolean {
    const timer = this.waiting.get(id);
    if (timer === undefined) return false;
    clearTimeout(timer);
    this.waiting.delete(id);
    return true;
  }

  get size(): number {
    return this.waiting.size;
  }

  /** Writes every waiting marker now and waits for all writes in flight. */
  async flush(): Promise<void> {
    for (const id of [...this.waiting.keys()]) this.fire(id);
    while (this.writes.size > 0) await Promise.allSettled([...this.writes]);
  }

  private fire(id: string): void {
    if (!this.cancel(id)) return;
    const writing = this.write(id).catch((err: unknown) => this.onError(err, id));
    this.writes.add(writing);
    void writing.finally(() => this.writes.delete(writing));
  }
}
