/**
 * The whole-file SHA-256 of a Blob off the page's main thread (a module Worker): hash-wasm
 * over 4 MiB slices, one in memory at a time. The browser bundle ships it built on its own
 * (dist/browser/digest-worker.js, hash-wasm inlined); checksum/worker-sha256.ts starts it.
 */
import { createSHA256 } from 'hash-wasm';

/** What the page sends: the Blob (structured clone: a reference, not a copy). */
export interface DigestRequest {
  blob: Blob;
}

/** What the worker answers: the digest, or why it could not make one. */
export type DigestAnswer = { ok: true; sha256: Uint8Array } | { ok: false; error: string };

const PIECE = 4 * 1024 * 1024;

export async function sha256OfBlob(blob: Blob): Promise<Uint8Array> {
  const h = await createSHA256();
  h.init();
  for (let at = 0; at < blob.size; at += PIECE) {
    h.update(new Uint8Array(await blob.slice(at, at + PIECE).arrayBuffer()));
  }
  return h.digest('binary');
}

/** The worker's global scope, as far as this file uses it (the DOM lib types a Window). */
interface WorkerScope {
  addEventListener(type: 'message', listener: (e: MessageEvent<DigestRequest>) => void): void;
  postMessage(message: DigestAnswer): void;
}

const scope = globalThis as unknown as WorkerScope;
// Only where it runs as a worker: imported anywhere else, this file just exports the hash.
if (typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope !== 'undefined') {
  scope.addEventListener('message', (e) => {
    sha256OfBlob(e.data.blob).then(
      (sha256) => scope.postMessage({ ok: true, sha256 }),
      (err: unknown) => scope.postMessage({ ok: false, error: String(err) }),
    );
  });
}
