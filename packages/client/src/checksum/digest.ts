/**
 * The Upload-Checksum of one request body. The header goes out before the body, so the
 * digest is computed first, from the cheapest place that holds the bytes:
 * bytes in memory -> hash them; a source that hashes ranges itself (Node file) -> ask it
 * (the range may already be hashed, see ahead.ts);
 * a Blob -> read it once (the Blob itself is still what is sent); any other stream ->
 * buffer it (at most one chunk) and send the buffer.
 */
import { TusError } from '../errors.js';
import type { RequestBody } from '../http.js';
import type { SourceChunk, UploadSource } from '../sources/types.js';
import { DigestAhead } from './ahead.js';
import { type ChecksumAlgorithm, checksumHeader } from './algorithms.js';
import { digestBytes } from './hasher.js';

export interface ChecksummedBody {
  header: string;
  body: RequestBody;
}

export async function checksumChunk(
  source: UploadSource,
  chunk: SourceChunk,
  start: number,
  algorithm: ChecksumAlgorithm,
  /** Digests prefetched while the previous request was sent (sources with a digester). */
  ahead?: DigestAhead,
): Promise<ChecksummedBody> {
  const body = chunk.body;
  if (body instanceof Uint8Array) {
    return { header: checksumHeader(algorithm, await digestBytes(algorithm, body)), body };
  }
  if (source.digester) {
    const d = await (ahead ?? new DigestAhead(source)).digest(start, start + chunk.size, algorithm);
    return { header: checksumHeader(algorithm, d), body };
  }
  if (typeof (body as ReadableStream).getReader === 'function') {
    const bytes = await collect(body as ReadableStream<Uint8Array>, chunk.size);
    return { header: checksumHeader(algorithm, await digestBytes(algorithm, bytes)), body: bytes };
  }
  const blob = body as Blob;
  if (typeof blob.arrayBuffer !== 'function') {
    // React Native's Blob cannot be read back in JS.
    throw new TusError('checksum: this Blob cannot be read back (no arrayBuffer())', {
      kind: 'unsupported',
    });
  }
  const bytes = new Uint8Array(await blob.arrayBuffer());
  return { header: checksumHeader(algorithm, await digestBytes(algorithm, bytes)), body: blob };
}

export async function collect(
  stream: ReadableStream<Uint8Array>,
  size: number,
): Promise<Uint8Array> {
  const out = new Uint8Array(size);
  let off = 0;
  const reader = stream.getReader();
  for (;;) {
    const r = await reader.read();
    if (r.done) break;
    if (off + r.value.length > size)
      throw new TusError('source gave more bytes than it announced', { kind: 'source' });
    out.set(r.value, off);
    off += r.value.length;
  }
  return off === size ? out : out.subarray(0, off);
}
