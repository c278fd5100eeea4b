/** Node-only entry: file path and Readable sources, JSON file store, plus the whole core. */

export * from './index.js';
export { type NodeFileSourceOptions, nodeFileSource } from './sources/node-file.js';
export { nodeStreamSource } from './sources/node-stream.js';
export { JsonFileStore, type JsonFileStoreOptions } from './stores/json-file.js';

import { type NodeFileSourceOptions, nodeFileSource } from './sources/node-file.js';
import { Upload, type UploadOptions, type UploadResult } from './upload.js';

/** Uploads a file by path (opens and closes it); `onUpload` sees the Upload to subscribe to events. */
export async function uploadFile(
  path: string,
  options: UploadOptions & { file?: NodeFileSourceOptions },
  onUpload?: (upload: Upload) => void,
): Promise<UploadResult> {
  const source = await nodeFileSource(path, options.file);
  try {
    const upload = new Upload(source, options);
    onUpload?.(upload);
    return await upload.start();
  } finally {
    await source.close();
  }
}
