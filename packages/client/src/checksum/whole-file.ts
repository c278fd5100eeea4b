/**
 * The whole-file digest (issue 22; RFC 9530 Repr-Digest): SHA-256 of the entire source,
 * computed before the upload is created so it can be declared on the creation POST, and
 * checked by the server before it publishes the object. One piece in memory at a time:
 * node:crypto over ranged reads for a Node file (its digester); a Blob in a Worker where the
 * page can start one (checksum/worker-sha256.ts), so a large file does not hold up the page;
 * hash-wasm (or @noble/hashes without WebAssembly) over slices on this thread elsewhere.
 */
import { TusError } from '../errors.js';
import { base64Encode } from '../protocol/metadata.js';
import type { SourceChunk, UploadSource } from '../sources/types.js';
import { collect } from './digest.js';
import { createHasher } from './hasher.js';
import { sha256InWorker } from './worker-sha256.js';

/** 'sha256': compute and declare it; false (default): none. */
export type DigestOption = 'sha256' | false;

const PIECE = 4 * 1024 * 1024;

/** Where the digest was computed: a Worker, or the thread that runs the upload. */
export type DigestThread = 'worker' | 'main';

export async function wholeSha256(
  source: UploadSource,
): Promise<{ sha256: Uint8Array; thread: DigestThread }> {
  const size = source.size;
  if (size === null || !source.rereadable) {
    // Hashing a one-pass stream first would mean holding all of it.
    throw new TusError(
      'digest: needs a source of known size that can be read twice (not a stream)',
      {
        kind: 'unsupported',
      },
    );
  }
  if (source.digester) {
    const d = source.digester(0, 'sha256');
    await d.advance(size);
    return { sha256: d.digest(), thread: 'main' };
  }
  const inWorker = source.blob ? await sha256InWorker(source.blob) : null;
  if (inWorker) return { sha256: inWorker, thread: 'worker' };
  const h = await createHasher('sha256');
  for (let at = 0; at < size; at += PIECE) {
    h.update(await bytesOf(await source.read(at, Math.min(size, at + PIECE))));
  }
  return { sha256: h.digest(), thread: 'main' };
}

async function bytesOf(chunk: SourceChunk): Promise<Uint8Array> {
  const body = chunk.body;
  if (body instanceof Uint8Array) return body;
  if (typeof (body as ReadableStream).getReader === 'function') {
    return collect(body as ReadableStream<Uint8Array>, chunk.size);
  }
  const blob = body as Blob;
  if (typeof blob.arrayBuffer !== 'function') {
    throw new TusError('digest: this Blob cannot be read back (no arrayBuffer())', {
      kind: 'unsupported',
    });
  }
  return new Uint8Array(await blob.arrayBuffer());
}

/** `Repr-Digest` value: an RFC 8941 byte sequence under the RFC 9530 key `sha-256`. */
export function reprDigest(sha256: Uint8Array): string {
  return `sha-256=:${base64Encode(sha256)}:`;
}
