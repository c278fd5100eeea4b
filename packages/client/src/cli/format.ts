/** Pure helpers of the tus-upload CLI: argument parsing and progress rendering. */
import type { InstantReport } from '../upload-events.js';

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${v.toFixed(1)} ${units[i]}`;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** "K: V" -> [K, V]. */
export function parseHeader(text: string): [string, string] {
  const i = text.indexOf(':');
  const name = i > 0 ? text.slice(0, i).trim() : '';
  if (!name || !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name)) {
    throw new RangeError(`not a header ("Name: value"): ${text}`);
  }
  return [name, text.slice(i + 1).trim()];
}

/** "k=v" -> [k, v] (the value may contain '='; it is kept exactly). */
export function parseMetadataArg(text: string): [string, string] {
  const i = text.indexOf('=');
  if (i <= 0) throw new RangeError(`not metadata ("key=value"): ${text}`);
  return [text.slice(0, i), text.slice(i + 1)];
}

/** Exponentially smoothed rate in bytes/s. Pure: feed it (bytes, time) samples. */
export class RateMeter {
  private lastBytes: number | null = null;
  private lastMs = 0;
  private value = 0;
  constructor(private readonly halfLifeMs = 2000) {}
  sample(bytes: number, nowMs: number): number {
    if (this.lastBytes === null) {
      this.lastBytes = bytes;
      this.lastMs = nowMs;
      return 0;
    }
    const dt = nowMs - this.lastMs;
    if (dt <= 0) return this.value;
    const inst = ((bytes - this.lastBytes) * 1000) / dt;
    const alpha = 1 - 0.5 ** (dt / this.halfLifeMs);
    this.value = this.value === 0 ? inst : this.value + alpha * (inst - this.value);
    this.lastBytes = bytes;
    this.lastMs = nowMs;
    return this.value;
  }
  get rate(): number {
    return this.value;
  }
}

export interface ProgressView {
  sent: number;
  acked: number;
  total: number | null;
  rate: number;
}

function eta(v: ProgressView): string {
  return v.total !== null && v.rate > 0 ? formatDuration((v.total - v.acked) / v.rate) : '--:--';
}

/** One-line TTY bar: [=====>    ]  40.0%  40.0 MiB / 100.0 MiB  20.0 MiB/s  ETA 0:03 */
export function renderBar(v: ProgressView, width = 30): string {
  const frac = v.total ? Math.min(1, v.acked / v.total) : 0;
  const filled = Math.floor(frac * width);
  const bar = v.total
    ? `${'='.repeat(filled)}${filled < width ? '>' : ''}${' '.repeat(Math.max(0, width - filled - 1))}`
    : '?'.repeat(width);
  const pct = v.total ? `${(frac * 100).toFixed(1).padStart(5)}%` : '  ?  ';
  const tot = v.total === null ? '?' : formatBytes(v.total);
  return `[${bar}] ${pct}  ${formatBytes(v.acked)} / ${tot}  ${formatBytes(v.rate)}/s  ETA ${eta(v)}`;
}

/** Plain periodic line for logs (non-TTY). */
export function renderLine(v: ProgressView): string {
  const pct = v.total ? `${((v.acked / v.total) * 100).toFixed(1)}%` : '?%';
  return `progress ${pct} acknowledged=${v.acked} sent=${v.sent} total=${v.total ?? '?'} rate=${formatBytes(v.rate)}/s eta=${eta(v)}`;
}

const TYPES: Record<string, string> = {
  txt: 'text/plain',
  html: 'text/html',
  css: 'text/css',
  csv: 'text/csv',
  json: 'application/json',
  js: 'text/javascript',
  pdf: 'application/pdf',
  zip: 'application/zip',
  gz: 'application/gzip',
  tar: 'application/x-tar',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  svg: 'image/svg+xml',
  mp4: 'video/mp4',
  webm: 'video/webm',
  mov: 'video/quicktime',
  mp3: 'audio/mpeg',
  wav: 'audio/wav',
  bin: 'application/octet-stream',
};

/** Content type from the file name's extension (application/octet-stream otherwise). */
export function guessType(name: string): string {
  const m = /\.([^./]+)$/.exec(name);
  return (m && TYPES[m[1]!.toLowerCase()]) || 'application/octet-stream';
}

/** A message on one line (errors may carry newlines from a server's body). */
export function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}

/** The --dedupe line: whether the server already had the file, and the body bytes sent. */
export function instantLine(report: InstantReport, bytesSent: number): string {
  const sent = `${bytesSent} bytes sent`;
  return report.outcome === 'instant'
    ? `instant upload: ${report.message} (${sent})`
    : `uploaded normally: ${report.message} (${sent})`;
}
