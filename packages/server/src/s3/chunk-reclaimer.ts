// Frees consumed request chunks promptly. Each 64 KiB chunk of a request body is a
// Buffer whose memory lives outside the JS heap; its small wrapper dies young, but V8 only
// runs a young-generation collection when the (mostly empty) young heap fills, so tens of
// MiB of dead chunks pile up per upload between collections and peak RSS grows with
// throughput. A minor collection every RECLAIM_EVERY bytes received keeps that pile small
// (a scavenge of a nearly empty young heap costs well under a millisecond). Measured, 1 GiB
// in one PATCH: peak RSS 145-155 MB -> 121 MB, CPU unchanged (4.9 s).
import v8 from 'node:v8';
import vm from 'node:vm';

const RECLAIM_EVERY = 4 * 1024 * 1024;

type MinorGc = (options: { type: 'minor' }) => void;

function obtainGc(): MinorGc | undefined {
  const existing = (globalThis as { gc?: MinorGc }).gc;
  if (existing) return existing;
  try {
    v8.setFlagsFromString('--expose-gc');
    // A fresh context picks up the flag; the main one was created before it.
    return vm.runInNewContext('gc') as MinorGc;
  } catch {
    return undefined;
  }
}

const minorGc = obtainGc();
let sinceLast = 0;

/** Counts bytes consumed from request bodies; runs a minor GC every RECLAIM_EVERY bytes. */
export function noteConsumed(bytes: number): void {
  if (!minorGc) return;
  sinceLast += bytes;
  if (sinceLast >= RECLAIM_EVERY) {
    sinceLast = 0;
    minorGc({ type: 'minor' });
  }
}
