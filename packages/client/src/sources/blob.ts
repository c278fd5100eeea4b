/** Blob / File source (browser, React Native, Node's Blob). Slices lazily; nothing is loaded up front. */
import { type SourceIdentity, sampleHash } from '../fingerprint.js';
import type { SourceChunk, UploadSource } from './types.js';

export function blobSource(blob: Blob): UploadSource {
  const file = blob as Partial<File>;
  return {
    size: blob.size,
    name: typeof file.name === 'string' ? file.name : undefined,
    type: blob.type || undefined,
    rereadable: true,
    blob,
    async read(start: number, end: number): Promise<SourceChunk> {
      const e = Math.min(end, blob.size);
      const body = blob.slice(start, e);
      return { body, size: e - start, last: e >= blob.size };
    },
    async identity(): Promise<SourceIdentity | null> {
      const lastModified = typeof file.lastModified === 'number' ? file.lastModified : null;
      let hash = '';
      // React Native's Blob has no arrayBuffer(): fall back to size + lastModified.
      if (typeof blob.slice(0, 0).arrayBuffer === 'function') {
        hash = await sampleHash(blob.size, async (s, e) => {
          return new Uint8Array(await blob.slice(s, e).arrayBuffer());
        });
      }
      return { size: blob.size, lastModified, sampleHash: hash };
    },
    async close() {},
  };
}
