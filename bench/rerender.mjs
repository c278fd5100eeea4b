#!/usr/bin/env node
// Rebuilds the chart and the markdown of a finished run from its JSON (after a change to
// bench/lib/report.mjs), without running anything:
//   node bench/rerender.mjs bench/results/<date>.json     (updates BENCHMARKS.md too)
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeReports } from './lib/report.mjs';

const file = process.argv[2];
if (!file) {
  console.error('usage: node bench/rerender.mjs bench/results/<date>.json');
  process.exit(2);
}
const ROOT = path.resolve(fileURLToPath(new URL('..', import.meta.url)));
const run = JSON.parse(readFileSync(file, 'utf8'));
const { summary: _s, targets: _t, records, workloads, ...meta } = run;
// The case labels live in run.mjs; the JSON keeps ids, so take them from the summary's run.
const { CASES } = await import('./lib/cases.mjs');
const official = path.resolve(path.dirname(file)) === path.join(ROOT, 'bench/results');
await writeReports({
  meta,
  records,
  workloads,
  cases: CASES,
  official,
  root: ROOT,
  workDir: path.join(ROOT, 'bench/.work'),
  stem: path.basename(file, '.json'),
});
