/**
 * Chunk sizing: fixed, or adaptive toward a target request duration. Pure.
 * The size also honours limits learned from the server (a 413 answer shrinks the ceiling).
 */

export const KiB = 1024;
export const MiB = 1024 * KiB;
const ALIGN = 64 * KiB;

export interface AdaptiveChunkOptions {
  /** First chunk (default 4 MiB). */
  initial?: number;
  /** Smallest chunk (default 256 KiB). */
  min?: number;
  /** Largest chunk (default 256 MiB). */
  max?: number;
  /** Request duration the size steers toward (default 3 s). */
  targetDurationMs?: number;
}

/** A number is a fixed size in bytes; 'auto' or an object is adaptive. */
export type ChunkSizeOption = number | 'auto' | AdaptiveChunkOptions;

export class ChunkSizer {
  readonly adaptive: boolean;
  private size: number;
  private min: number;
  private max: number;
  private readonly targetMs: number;

  constructor(option: ChunkSizeOption = 'auto') {
    if (typeof option === 'number') {
      if (!(option >= 1)) throw new RangeError(`chunk size must be >= 1 byte, got ${option}`);
      this.adaptive = false;
      this.size = Math.floor(option);
      this.min = 1;
      this.max = Number.MAX_SAFE_INTEGER;
      this.targetMs = 0;
    } else {
      const o = option === 'auto' ? {} : option;
      this.adaptive = true;
      this.min = o.min ?? 256 * KiB;
      this.max = Math.max(this.min, o.max ?? 256 * MiB);
      this.size = clamp(o.initial ?? 4 * MiB, this.min, this.max);
      this.targetMs = o.targetDurationMs ?? 3000;
    }
  }

  /** Size of the next chunk. */
  get current(): number {
    return this.size;
  }

  /**
   * A request of `bytes` took `durationMs`. Only full-size chunks steer the size; each
   * step at most halves or doubles it.
   */
  record(bytes: number, durationMs: number): void {
    if (!this.adaptive || bytes < this.size || bytes <= 0) return;
    const ms = Math.max(1, durationMs);
    const ideal = (bytes / ms) * this.targetMs;
    const next = clamp(ideal, this.size / 2, this.size * 2);
    this.size = align(clamp(next, this.min, this.max), this.min);
  }

  /**
   * A request died on the way (network error, stall). Adaptive sizes halve, so a link that
   * drops every few MiB still gets whole chunks through even if the server keeps nothing of
   * a cut request; record() grows them again once requests succeed.
   */
  failed(): void {
    if (this.adaptive) this.size = align(Math.max(this.min, this.size / 2), this.min);
  }

  /**
   * The server refused a chunk of `bytes` as too large (413). Returns false when the
   * chunk cannot get smaller, true when the next chunk is smaller.
   */
  tooLarge(bytes: number): boolean {
    const next = Math.floor(Math.min(bytes, this.size) / 2);
    if (next < 1 || next < (this.adaptive ? this.min : 1)) return false;
    this.max = Math.max(1, next);
    this.size = this.adaptive ? align(next, this.min) : next;
    if (!this.adaptive) this.min = 1;
    return true;
  }
}

function clamp(n: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, n));
}

function align(n: number, min: number): number {
  const a = Math.floor(n / ALIGN) * ALIGN;
  return Math.max(min, a > 0 ? a : Math.floor(n));
}

/** Parses "8M", "8MiB", "512k", "1048576" or "auto". */
export function parseChunkSize(text: string): number | 'auto' {
  if (text.trim().toLowerCase() === 'auto') return 'auto';
  return parseSize(text);
}

export function parseSize(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b)?\s*$/i.exec(text);
  if (!m) throw new RangeError(`not a size: ${text}`);
  const unit = (m[2] ?? '').toLowerCase();
  const mult = unit === '' ? 1 : 1024 ** ('kmgt'.indexOf(unit) + 1);
  const n = Math.floor(Number(m[1]) * mult);
  if (!(n >= 1)) throw new RangeError(`size must be >= 1 byte: ${text}`);
  return n;
}
