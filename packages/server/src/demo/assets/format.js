// Numbers as people read them: sizes in binary units, rates, percentages.

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** @param {number} n bytes */
export function formatBytes(n) {
  let v = n;
  let u = 0;
  while (v >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${v} B` : `${v.toFixed(v < 10 ? 2 : 1)} ${UNITS[u]}`;
}

/** @param {number} bytesPerSecond */
export function formatRate(bytesPerSecond) {
  return `${formatBytes(Math.round(bytesPerSecond))}/s`;
}

/** @param {number} part @param {number} whole */
export function percent(part, whole) {
  return whole > 0 ? Math.floor((part / whole) * 100) : 0;
}

/**
 * Acknowledged bytes per second over the last few seconds: a rate that follows pauses and
 * bursts without jumping at every chunk.
 */
export class RateMeter {
  /** @param {number} windowMs */
  constructor(windowMs = 3000) {
    this.windowMs = windowMs;
    /** @type {Array<[number, number]>} */
    this.samples = [];
  }
  /** @param {number} bytes @param {number} now */
  add(bytes, now = performance.now()) {
    this.samples.push([now, bytes]);
    while (this.samples.length > 2 && now - this.samples[0][0] > this.windowMs)
      this.samples.shift();
  }
  reset() {
    this.samples = [];
  }
  /** @returns {number} bytes per second, 0 without two samples */
  rate() {
    const first = this.samples[0];
    const last = this.samples[this.samples.length - 1];
    if (!first || !last || last[0] === first[0]) return 0;
    return ((last[1] - first[1]) * 1000) / (last[0] - first[0]);
  }
}
