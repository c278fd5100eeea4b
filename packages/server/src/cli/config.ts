// Parsing of human-friendly sizes and durations for the CLI and env (pure).

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1000,
  kb: 1000,
  m: 1000 ** 2,
  mb: 1000 ** 2,
  g: 1000 ** 3,
  gb: 1000 ** 3,
  t: 1000 ** 4,
  tb: 1000 ** 4,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
};

/** "8MiB", "5GB", "1048576" -> bytes. Throws a one-line message on anything else. */
export function parseSize(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  const unit = m ? SIZE_UNITS[(m[2] ?? '').toLowerCase()] : undefined;
  if (!m || unit === undefined) {
    throw new Error(`invalid size "${text}" (use e.g. 8MiB, 5GB or a byte count)`);
  }
  return Math.round(Number(m[1]) * unit);
}

const DURATION_UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/** "24h", "30m", "1d", "0" -> milliseconds. */
export function parseDuration(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(text);
  if (!m) throw new Error(`invalid duration "${text}" (use e.g. 24h, 30m, 1d)`);
  const n = Number(m[1]);
  if (!m[2]) {
    if (n === 0) return 0;
    throw new Error(`invalid duration "${text}": give a unit (ms, s, m, h, d)`);
  }
  return Math.round(n * (DURATION_UNITS[m[2]] ?? 1));
}

/** "/files", "files/", "" -> "/files" or "/". */
export function normalizePath(path: string): string {
  const trimmed = path.trim().replace(/^\/+|\/+$/g, '');
  return `/${trimmed}`;
}
