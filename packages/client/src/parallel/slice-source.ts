/** A window [start, end) of a re-readable source, seen as a source of its own (one partial upload). */
import type { SourceChunk, UploadSource } from '../sources/types.js';

export function sliceSource(source: UploadSource, start: number, end: number): UploadSource {
  const size = end - start;
  const digester = source.digester;
  return {
    size,
    rereadable: source.rereadable,
    async read(s: number, e: number): Promise<SourceChunk> {
      const c = await source.read(start + s, start + Math.min(e, size));
      return { ...c, last: s + c.size >= size };
    },
    // Offsets of the window, mapped onto the underlying source.
    digester: digester
      ? (s, algorithm) => {
          const d = digester.call(source, start + s, algorithm);
          return {
            get position() {
              return d.position - start;
            },
            advance: (to: number) => d.advance(start + Math.min(to, size)),
            digest: () => d.digest(),
          };
        }
      : undefined,
    // Partials are resumed through the parent's store entry, never on their own.
    async identity() {
      return null;
    },
    // The parent owns (and closes) the underlying source.
    async close() {},
  };
}
