/**
 * Starts checksum/digest-worker.ts beside this module to hash a Blob off the main thread.
 * Where that cannot be (no Worker: Node, React Native; a page built without the worker
 * file; a CSP that forbids it; the unbundled dist/, whose worker imports hash-wasm by a
 * bare name a worker cannot resolve) it answers null and the caller hashes on its own
 * thread, as before.
 */
import type { DigestAnswer, DigestRequest } from './digest-worker.js';

type WorkerLike = {
  addEventListener(type: 'message', l: (e: MessageEvent<DigestAnswer>) => void): void;
  addEventListener(type: 'error' | 'messageerror', l: (e: Event) => void): void;
  postMessage(message: DigestRequest): void;
  terminate(): void;
};
type WorkerCtor = new (url: URL, options: { type: 'module'; name?: string }) => WorkerLike;

/** The Blob's SHA-256 from a worker, or null where no worker could do it. */
export async function sha256InWorker(blob: Blob): Promise<Uint8Array | null> {
  const Ctor = (globalThis as { Worker?: WorkerCtor }).Worker;
  if (typeof Ctor !== 'function') return null;
  let worker: WorkerLike;
  try {
    worker = new Ctor(new URL('./digest-worker.js', import.meta.url), {
      type: 'module',
      name: 'tus-s3 digest',
    });
  } catch {
    return null;
  }
  try {
    return await new Promise<Uint8Array | null>((resolve) => {
      worker.addEventListener('message', (e) => resolve(e.data.ok ? e.data.sha256 : null));
      // A script that does not load (or a message that cannot be read) is an error event.
      worker.addEventListener('error', () => resolve(null));
      worker.addEventListener('messageerror', () => resolve(null));
      worker.postMessage({ blob });
    });
  } finally {
    worker.terminate();
  }
}
