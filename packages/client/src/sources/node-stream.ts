/** Node Readable source of unknown length (deferred length, at most one chunk buffered). */
import type { Readable } from 'node:stream';
import { type StreamSourceOptions, streamSource } from './stream.js';
import type { UploadSource } from './types.js';

export function nodeStreamSource(readable: Readable, o: StreamSourceOptions = {}): UploadSource {
  return streamSource(readable as AsyncIterable<Uint8Array>, o);
}
