// Experiment only (BENCHMARKS.md, "Scale"): preloaded into a server child with
// --server-node-args=--require=<this file>, it writes process.memoryUsage() (MiB) and the
// open handles' count to stderr, i.e. the server log, every second, to see where RSS
// above partMemory sits (V8 heap, ArrayBuffers, or outside both).
const MiB = 1024 * 1024;
setInterval(() => {
  const m = process.memoryUsage();
  const f = (x) => Math.round(x / MiB);
  process.stderr.write(
    `memlog ${Date.now()} rss=${f(m.rss)} heapTotal=${f(m.heapTotal)} heapUsed=${f(m.heapUsed)} external=${f(m.external)} arrayBuffers=${f(m.arrayBuffers)} handles=${process.getActiveResourcesInfo().length}\n`,
  );
}, 1000).unref();
