// V8 heap settings for the CLI process, which runs nothing but the server. A library user's
// process keeps its own settings: these are set only by cli.ts, before the heavy imports.
//
// Young generation: kept at its initial size (1 MiB semi-spaces). Left alone, V8 grows it
// to 16 MiB semi-spaces while the AWS SDK and @tus/server load and keeps it there: ~8 MiB
// of resident memory that holds nothing but garbage between scavenges. With the forced
// minor GCs of body/chunk-reclaimer.ts the server gains nothing from a bigger one (measured,
// 1 GiB in one PATCH: RSS at start 80 -> 73 MiB, peak down as much, CPU per GiB unchanged).
// --max-semi-space-size only works on the command line (the heap is sized before any
// script runs), but V8 reads the growth factor each time it would grow the young
// generation, so setting it to 1 before the heavy imports has the same effect from inside.
//
// Scavenges on one thread: a 1 MiB young generation scavenged every 2 MiB of body holds
// ~30 KB of survivors, too little to split; the helper threads only add start-up and
// hand-off costs, and on a busy machine the main thread waits for helpers that are not
// scheduled. V8 reads the flag at every scavenge, so it works from inside too. Measured
// (1 GiB in one PATCH, 2 runs each): 2.3 -> 2.15 CPU s/GiB, four PATCHes at once 3.45 ->
// 3.2.
//
// Old generation: --optimize-for-size makes V8 grow the old generation in smaller steps, so
// it collects sooner. Every S3 request leaves ~80 KiB of SDK objects that live long enough
// to be promoted; by default they piled up to ~10 MiB per GiB uploaded before a full
// collection. Measured (1 GiB in one PATCH, 3 runs each): peak RSS 102 -> 96 MiB, server
// CPU 2.42 -> 2.73 s/GiB.
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
 * MiB of garbage that no request would make V8 collect soon. Measured: RSS at start
 * 72 -> 69 MiB, 1 GiB in one PATCH peak 97 -> 96 MiB; ~20 ms, once.
 */
export function collectStartupGarbage(): void {
  gc?.();
}
