// V8 heap settings for the CLI process, which runs nothing but the server. A library user's
// process keeps its own settings: these are set only by cli.ts, before the heavy imports.
//
// Young generation: kept at its initial size (1 MiB semi-spaces). Left alone, V8 grows it
// to 16 MiB semi-spaces while the AWS SDK and @tus/server load and keeps it there: ~8 MiB
// of resident memory that holds nothing but garbage between scavenges. With the forced
// minor GCs of body/chunk-reclaimer.ts the server gains nothing from a bigger one, and RSS
// drops by that much at the same CPU.
// --max-semi-space-size only works on the command line (the heap is sized before any
// script runs), but V8 reads the growth factor each time it would grow the young
// generation, so setting it to 1 before the heavy imports has the same effect from inside.
//
// Scavenges on one thread: a 1 MiB young generation scavenged every 2 MiB of body holds
// ~30 KB of survivors, too little to split; the helper threads only add start-up and
// hand-off costs, and on a busy machine the main thread waits for helpers that are not
// scheduled. V8 reads the flag at every scavenge, so it works from inside too; it saves CPU
// per GiB, more so with several PATCHes at once.
//
// Old generation: --optimize-for-size makes V8 grow the old generation in smaller steps, so
// it collects sooner. Every S3 request leaves ~80 KiB of SDK objects that live long enough
// to be promoted; by default they pile up for most of a GiB uploaded before a full
// collection. It trades some CPU for a lower peak RSS.
//
// The figures behind each setting: BENCHMARKS.md, "Figures behind the code's choices".
import v8 from 'node:v8';
import { gc } from '../body/gc.js';

/** Whether the operator sized the young generation already (node flag or NODE_OPTIONS). */
function sizedByOperator(): boolean {
  return /semi[-_]space/.test(nodeFlags());
}

function nodeFlags(): string {
  return [...process.execArgv, process.env.NODE_OPTIONS ?? ''].join(' ');
}

export function tuneHeapForCli(): void {
  if (!sizedByOperator()) v8.setFlagsFromString('--semi-space-growth-factor=1');
  if (!/parallel[-_]scavenge/.test(nodeFlags())) v8.setFlagsFromString('--no-parallel-scavenge');
  if (!/optimize[-_]for[-_]size/.test(nodeFlags())) v8.setFlagsFromString('--optimize-for-size');
}

/**
 * One full collection once the server listens: loading the SDK and @tus/server leaves a few
 * MiB of garbage that no request would make V8 collect soon; it runs once, at start-up.
 */
export function collectStartupGarbage(): void {
  gc?.();
}
