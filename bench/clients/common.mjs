// Shared by the client children: read the job, run tasks N at a time, report one JSON line.
// A client child measures its own wall time (from its first request to its last answer),
// its peak RSS (VmHWM) and CPU time, so module loading is not counted as upload time.
import { readFileSync } from 'node:fs';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/**
 * The job file written by bench/run.mjs:
 * { files: [{ path, size, name }], concurrency, chunkSize (null = one PATCH),
 *   endpoint?, s3?, parallel?, checksum?, keyPrefix? }
 */
export function readJob() {
  const file = process.argv[2];
  if (!file) throw new Error('usage: node <client>.mjs JOB.json');
  return JSON.parse(readFileSync(file, 'utf8'));
}

/**
 * Runs `fn(item, index)` over `items`, at most `n` at once; rejects on the first failure.
 * Each result object gets `startMs` and `endMs` (from the pool's start): the scale workload
 * compares the slowest upload with the fastest.
 */
export async function pool(items, n, fn) {
  const out = new Array(items.length);
  const t0 = performance.now();
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        const startMs = performance.now() - t0;
        const r = await fn(items[i], i);
        out[i] = r && typeof r === 'object' ? { ...r, startMs, endMs: performance.now() - t0 } : r;
      } catch (e) {
        failed = true;
        throw e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
  return out;
}

function vmHwmBytes() {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) * 1024 : null;
}

/** Runs the uploads and prints the result line: { ok, elapsedMs, uploads, retries, ... }. */
export async function runClient(upload) {
  const job = readJob();
  const started = performance.now();
  const cpu0 = process.cpuUsage();
  try {
    const { uploads, retries = 0 } = await upload(job);
    const elapsedMs = performance.now() - started;
    const cpu = process.cpuUsage(cpu0);
    const total = process.cpuUsage();
    process.stdout.write(
      `${JSON.stringify({
        ok: true,
        elapsedMs,
        uploads,
        retries,
        cpuSec: (cpu.user + cpu.system) / 1e6,
        cpuTotalSec: (total.user + total.system) / 1e6,
        peakRssBytes: vmHwmBytes(),
      })}\n`,
    );
    process.exit(0);
  } catch (e) {
    const msg = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    process.stdout.write(`${JSON.stringify({ ok: false, error: msg.split('\n')[0] })}\n`);
    process.exit(1);
  }
}
