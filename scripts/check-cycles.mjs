#!/usr/bin/env node
// Fails when a package's source has an import cycle. Reads every module's imports with the
// TypeScript compiler's own pre-processor (type-only imports count: a cycle of types is
// still two modules that cannot be read one without the other), resolves the relative ones
// and looks for strongly connected components (Tarjan).
//
//   node scripts/check-cycles.mjs [--graph] [dir ...]   default: packages/*/src
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

const args = process.argv.slice(2);
const showGraph = args.includes('--graph');
const roots = args.filter((a) => !a.startsWith('--'));
const repo = resolve(dirname(new URL(import.meta.url).pathname), '..');
const dirs = roots.length
  ? roots.map((r) => resolve(r))
  : readdirSync(join(repo, 'packages')).map((p) => join(repo, 'packages', p, 'src'));

function sources(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sources(path));
    else if (/\.(ts|tsx|mts)$/.test(name) && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

function resolveImport(from, spec) {
  if (!spec.startsWith('.')) return undefined;
  const base = resolve(dirname(from), spec);
  const candidates = [
    base.replace(/\.(m?js)$/, '.ts'),
    base.replace(/\.js$/, '.tsx'),
    `${base}.ts`,
    join(base, 'index.ts'),
  ];
  return candidates.find((c) => existsSync(c) && statSync(c).isFile());
}

function graphOf(dir) {
  const graph = new Map();
  for (const file of sources(dir)) {
    const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    const deps = new Set();
    for (const ref of info.importedFiles) {
      const target = resolveImport(file, ref.fileName);
      if (target) deps.add(target);
    }
    graph.set(file, deps);
  }
  return graph;
}

function stronglyConnected(graph) {
  let index = 0;
  const stack = [];
  const meta = new Map();
  const components = [];
  const visit = (v) => {
    meta.set(v, { index, low: index, onStack: true });
    index++;
    stack.push(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!meta.has(w)) {
        visit(w);
        meta.get(v).low = Math.min(meta.get(v).low, meta.get(w).low);
      } else if (meta.get(w).onStack) {
        meta.get(v).low = Math.min(meta.get(v).low, meta.get(w).index);
      }
    }
    if (meta.get(v).low === meta.get(v).index) {
      const component = [];
      let w;
      do {
        w = stack.pop();
        meta.get(w).onStack = false;
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || graph.get(v).has(v)) components.push(component);
    }
  };
  for (const v of graph.keys()) if (!meta.has(v)) visit(v);
  return components;
}

function levels(graph) {
  const memo = new Map();
  const depth = (v) => {
    if (memo.has(v)) return memo.get(v);
    memo.set(v, 0);
    let d = 0;
    for (const w of graph.get(v)) if (graph.has(w)) d = Math.max(d, depth(w) + 1);
    memo.set(v, d);
    return d;
  };
  let max = 0;
  for (const v of graph.keys()) max = Math.max(max, depth(v));
  return max + 1;
}

let failed = 0;
for (const dir of dirs) {
  const graph = graphOf(dir);
  const edges = [...graph.values()].reduce((n, deps) => n + deps.size, 0);
  const cycles = stronglyConnected(graph);
  const name = relative(repo, dir);
  console.log(
    `${name}: ${graph.size} modules, ${edges} import edges, ${levels(graph)} levels, ${cycles.length} cycles`,
  );
  if (showGraph) {
    for (const [file, deps] of graph) {
      console.log(
        `  ${relative(dir, file)} -> ${[...deps].map((d) => relative(dir, d)).join(', ')}`,
      );
    }
  }
  for (const component of cycles) {
    failed++;
    console.log(`  cycle: ${component.map((f) => relative(dir, f)).join(' <-> ')}`);
  }
}
if (failed) {
  console.log(`check-cycles: ${failed} import cycle(s)`);
  process.exit(1);
}
