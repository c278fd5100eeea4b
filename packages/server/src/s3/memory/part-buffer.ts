// The bytes of one part as they arrive, in slabs taken from the request's lease one at a
// time: a part costs the memory of what it holds, not of what it may yet receive. A part
// larger than the whole budget streams to S3 and gives each slab back once the kernel has
// it (s3/parts/streamed.ts), so its slabs are a window, not the part.
import type { BufferLease } from './buffer-pool.js';

export class PartBuffer {
  /** Slabs in order; a slab given back early is undefined. */
  private readonly slabs: Array<Buffer | undefined> = [];
  private filled = 0;
  /** Bytes before this were given back (only a part that streams gives back early). */
  private freedTo = 0;
  private early = false;

  constructor(
    /** Bytes of the part: the buffer is full at this many. */
    readonly size: number,
    private readonly lease: BufferLease,
  ) {}

  get slabSize(): number {
    return this.lease.budget.slabSize;
  }

  /** Bytes received. */
  get length(): number {
    return this.filled;
  }

  get full(): boolean {
    return this.filled === this.size;
  }

  /** Whether a byte more needs another slab first. */
  get needsSlab(): boolean {
    return this.filled === this.slabs.length * this.slabSize && this.filled < this.size;
  }

  /** Whether any of the bytes received were given back (they cannot be staged any more). */
  get lostBytes(): boolean {
    return this.early;
  }

  /** Takes the next slab (waits for the lease, may fail with the budget's 503). */
  async grow(): Promise<void> {
    this.add(await this.lease.take());
  }

  /** Adds the next slab, taken from this buffer's lease. */
  add(slab: Buffer): void {
    if (!this.needsSlab) throw new Error('a part buffer given a slab it has no use for');
    this.slabs.push(slab);
  }

  /** Copies from `chunk` at `pos` what fits in the current slab; returns how many bytes. */
  copy(chunk: Buffer, pos: number): number {
    const slabSize = this.slabSize;
    const index = Math.floor(this.filled / slabSize);
    const slab = this.slabs[index] as Buffer;
    const at = this.filled - index * slabSize;
    const room = Math.min(slabSize - at, this.size - this.filled);
    const n = Math.min(chunk.length - pos, room);
    chunk.copy(slab, at, pos, pos + n);
    this.filled += n;
    return n;
  }

  /** The bytes from `from` to `to` (absolute within the part) as slab views, no copies. */
  slice(from: number, to: number): Buffer[] {
    if (from < this.freedTo) throw new Error('part bytes read after they were given back');
    const out: Buffer[] = [];
    const slabSize = this.slabSize;
    for (let pos = from; pos < to; ) {
      const index = Math.floor(pos / slabSize);
      const at = pos - index * slabSize;
      const end = Math.min(to - index * slabSize, slabSize);
      out.push((this.slabs[index] as Buffer).subarray(at, end));
      pos = index * slabSize + end;
    }
    return out;
  }

  /** Every byte received, as slab views. */
  chunks(): Buffer[] {
    return this.slice(0, this.filled);
  }

  /** Gives back the slabs wholly before `bytes`: nothing reads them again. */
  freeBefore(bytes: number): void {
    const slabSize = this.slabSize;
    const upTo = Math.floor(Math.min(bytes, this.filled) / slabSize);
    for (let i = Math.floor(this.freedTo / slabSize); i < upTo; i++) {
      const slab = this.slabs[i];
      this.slabs[i] = undefined;
      if (slab) this.lease.give(slab);
      this.early = true;
    }
    this.freedTo = Math.max(this.freedTo, upTo * slabSize);
  }

  /** Gives back every slab. */
  release(): void {
    for (let i = 0; i < this.slabs.length; i++) {
      const slab = this.slabs[i];
      this.slabs[i] = undefined;
      if (slab) this.lease.give(slab);
    }
    this.freedTo = this.filled;
  }
}
