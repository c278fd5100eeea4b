// Frees consumed request chunks promptly. Each 64 KiB chunk of a request body is a
// Buffer whose memory lives outside the JS heap; its small wrapper dies young, but V8 only
// runs a young-generation collection when the (mostly empty) young heap fills, so tens of
// MiB of dead chunks pile up per upload between collections and peak RSS grows with
// throughput. A minor collection every RECLAIM_EVERY bytes received keeps that pile small
// (a scavenge of a nearly empty young heap is cheap). Collecting more often than every
// RECLAIM_EVERY promotes more short-lived objects to the old generation and costs CPU;
// less often lets RSS grow (BENCHMARKS.md, "Figures behind the code's choices").
import { gc } from './gc.js';

const RECLAIM_EVERY = 2 * 1024 * 1024;

let sinceLast = 0;

/** Counts bytes consumed from request bodies; runs a minor GC every RECLAIM_EVERY bytes. */
export function noteConsumed(bytes: number): void {
  if (!gc) return;
  sinceLast += bytes;
  if (sinceLast >= RECLAIM_EVERY) {
    sinceLast = 0;
    gc({ type: 'minor' });
  }
}
