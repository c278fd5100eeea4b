// Keeps V8's young generation at its initial size (1 MiB semi-spaces) in the CLI process.
// Left alone, V8 grows it to 16 MiB semi-spaces while the AWS SDK and @tus/server load and
// keeps it there: ~8 MiB of resident memory that holds nothing but garbage between
// scavenges. With the forced minor GCs of chunk-reclaimer.ts the server gains nothing
// from a bigger one (measured, 1 GiB in one PATCH: RSS at start 80 -> 73 MiB, peak down
// as much, CPU per GiB unchanged).
//
// --max-semi-space-size only works on the command line (the heap is sized before any
// script runs), but V8 reads the growth factor each time it would grow the young
// generation, so setting it to 1 before the heavy imports has the same effect from inside.
import v8 from 'node:v8';

/** Whether the operator sized the young generation already (node flag or NODE_OPTIONS). */
function sizedByOperator(): boolean {
  const flags = [...process.execArgv, process.env.NODE_OPTIONS ?? ''].join(' ');
  return /semi[-_]space/.test(flags);
}

export function capYoungGeneration(): void {
  if (sizedByOperator()) return;
  v8.setFlagsFromString('--semi-space-growth-factor=1');
}
