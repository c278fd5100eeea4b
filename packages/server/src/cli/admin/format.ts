// How `uploads list` prints what it found (pure): a table for people, one JSON object per
// line for scripts.
import type { UnfinishedUpload } from '../../s3/admin.js';

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** 0 -> "0B", 1536 -> "1.5KiB", 8388608 -> "8MiB". */
export function formatBytes(n: number): string {
  let v = n;
  let unit = 0;
  while (v >= 1024 && unit < UNITS.length - 1) {
    v /= 1024;
    unit++;
  }
  const text = unit === 0 || Number.isInteger(v) ? String(v) : v.toFixed(1).replace(/\.0$/, '');
  return `${text}${UNITS[unit]}`;
}

/** The two largest units of an age: "45s", "12m30s", "3h5m", "2d4h". */
export function formatAge(ms: number): string {
  const s = Math.floor(Math.max(0, ms) / 1000);
  const steps: Array<[number, string]> = [
    [86_400, 'd'],
    [3_600, 'h'],
    [60, 'm'],
    [1, 's'],
  ];
  const i = steps.findIndex(([unit]) => s >= unit);
  if (i < 0) return '0s';
  const [big, bigName] = steps[i] as [number, string];
  const head = `${Math.floor(s / big)}${bigName}`;
  const small = steps[i + 1];
  if (!small) return head;
  const rest = Math.floor((s % big) / small[0]);
  return rest > 0 ? `${head}${rest}${small[1]}` : head;
}

const COLUMNS = ['ID', 'OWNER', 'SIZE', 'OFFSET', 'PARTS', 'AGE'] as const;

function row(u: UnfinishedUpload): string[] {
  return [
    u.id,
    u.owner === '' ? '-' : u.owner,
    u.size === undefined ? 'deferred' : formatBytes(u.size),
    formatBytes(u.offset),
    u.staged > 0 ? `${u.parts}+${formatBytes(u.staged)}` : String(u.parts),
    formatAge(u.ageMs),
  ];
}

/** A header and one line per upload, columns padded; a line saying so when there are none. */
export function formatTable(uploads: readonly UnfinishedUpload[]): string {
  if (uploads.length === 0) return 'no unfinished uploads\n';
  const rows = [[...COLUMNS], ...uploads.map(row)];
  const widths = COLUMNS.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows
    .map((r) =>
      r
        .map((cell, c) => cell.padEnd(widths[c] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .map((line) => `${line}\n`)
    .join('');
}

/** One JSON object per upload and line; a deferred size is null, the age in seconds. */
export function formatJsonLines(uploads: readonly UnfinishedUpload[]): string {
  return uploads
    .map((u) =>
      JSON.stringify({
        id: u.id,
        owner: u.owner,
        size: u.size ?? null,
        offset: u.offset,
        parts: u.parts,
        staged: u.staged,
        partSize: u.partSize,
        createdAt: u.createdAt,
        ageSeconds: Math.floor(u.ageMs / 1000),
      }),
    )
    .map((line) => `${line}\n`)
    .join('');
}
