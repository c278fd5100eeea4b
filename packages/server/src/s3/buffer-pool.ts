// Reuses part-sized buffers. Without it every part is a fresh 8+ MiB allocation that
// only a later GC returns, and RSS climbs with throughput instead of staying at
// (parts in flight + 1) x part size.

export class BufferPool {
  private readonly free = new Map<number, Buffer[]>();

  constructor(private readonly maxFreePerSize: number) {}

  take(size: number): Buffer {
    return this.free.get(size)?.pop() ?? Buffer.allocUnsafe(size);
  }

  /** Returns a buffer that nothing references any more. */
  give(buf: Buffer): void {
    let list = this.free.get(buf.length);
    if (!list) {
      // Only a few sizes recur (the configured part sizes); forget the rarest first.
      if (this.free.size >= 4) this.free.delete(this.free.keys().next().value as number);
      list = [];
      this.free.set(buf.length, list);
    }
    if (list.length < this.maxFreePerSize) list.push(buf);
  }
}
