#!/usr/bin/env node
// Summarizes V8 .cpuprofile files (node --cpu-prof, as `pnpm bench --profile` writes them
// to bench/.work/prof/): the top functions by self time, and by file.
//   node bench/profile-top.mjs bench/.work/prof/one-patch-C-r0.cpuprofile [--top 25]
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    top: { type: 'string', default: '25' },
    // Also print the call stacks (innermost first) that lead to functions of this name.
    callers: { type: 'string' },
  },
});
const top = Number(values.top);

const shortUrl = (url) => {
  if (!url) return '(native)';
  const p = url.replace(/^file:\/\//, '');
  const nm = p.lastIndexOf('node_modules/');
  if (nm >= 0)
    return p.slice(nm + 'node_modules/'.length).replace(/^\.pnpm\/[^/]+\/node_modules\//, '');
  return path.relative(process.cwd(), p);
};

for (const file of positionals) {
  const prof = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const dt = new Map();
  // timeDeltas[i] is the time before samples[i].
  for (const [i, id] of prof.samples.entries()) {
    dt.set(id, (dt.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0));
  }
  const total = [...dt.values()].reduce((a, b) => a + b, 0);
  const fns = new Map();
  const files = new Map();
  for (const [id, us] of dt) {
    const cf = byId.get(id).callFrame;
    const name = cf.functionName || '(anonymous)';
    const where = cf.url ? `${shortUrl(cf.url)}:${cf.lineNumber + 1}` : '';
    const key = `${name} ${where}`.trim();
    fns.set(key, (fns.get(key) ?? 0) + us);
    const f = cf.url ? shortUrl(cf.url).split(':')[0] : name.startsWith('(') ? name : '(native)';
    files.set(f, (files.get(f) ?? 0) + us);
  }
  const pct = (us) => `${((100 * us) / total).toFixed(1).padStart(5)} %`;
  const ms = (us) => `${(us / 1000).toFixed(0).padStart(7)} ms`;
  console.log(`${file}: ${(total / 1e6).toFixed(2)} s sampled`);
  console.log('  self time by function:');
  for (const [k, us] of [...fns].sort((a, b) => b[1] - a[1]).slice(0, top))
    console.log(`  ${pct(us)} ${ms(us)}  ${k}`);
  console.log('  self time by file:');
  for (const [k, us] of [...files].sort((a, b) => b[1] - a[1]).slice(0, Math.ceil(top / 2)))
    console.log(`  ${pct(us)} ${ms(us)}  ${k}`);
  if (values.callers) {
    const parent = new Map();
    for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    const frame = (id) => {
      const cf = byId.get(id).callFrame;
      return `${cf.functionName || '(anonymous)'}${cf.url ? ` ${shortUrl(cf.url)}:${cf.lineNumber + 1}` : ''}`;
    };
    const stacks = new Map();
    for (const [id, us] of dt) {
      if (byId.get(id).callFrame.functionName !== values.callers) continue;
      const chain = [];
      for (let p = id; p !== undefined && chain.length < 8; p = parent.get(p)) chain.push(frame(p));
      const key = chain.join('\n        <- ');
      stacks.set(key, (stacks.get(key) ?? 0) + us);
    }
    console.log(`  stacks of ${values.callers}:`);
    for (const [k, us] of [...stacks].sort((a, b) => b[1] - a[1]).slice(0, 6))
      console.log(`  ${pct(us)} ${ms(us)}  ${k}`);
  }
}
