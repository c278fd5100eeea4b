// V8's gc() for the server's own use, without requiring --expose-gc on the command line.
import v8 from 'node:v8';
import vm from 'node:vm';

/** gc() runs a full collection; gc({ type: 'minor' }) a scavenge. */
export type Gc = (options?: { type: 'minor' }) => void;

function obtainGc(): Gc | undefined {
  const existing = (globalThis as { gc?: Gc }).gc;
  if (existing) return existing;
  try {
    v8.setFlagsFromString('--expose-gc');
    // A fresh context picks up the flag; the main one was created before it.
    return vm.runInNewContext('gc') as Gc;
  } catch {
    return undefined;
  }
}

export const gc: Gc | undefined = obtainGc();
