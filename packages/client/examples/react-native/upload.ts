/**
 * React Native usage: upload a file from the device with ranged reads, resumable across
 * app restarts through any UploadStore (e.g. one over AsyncStorage: four async methods).
 *
 *   import RNFS from 'react-native-fs';
 *   const { url } = await uploadFromDevice(RNFS, `${RNFS.DocumentDirectoryPath}/video.mp4`,
 *     'https://uploads.example.com/files', myAsyncStorageStore, (p) => setProgress(p));
 */
import { type ProgressEvent, Upload, type UploadOptions, type UploadStore } from '@tus-s3/client';
import { type RangeReader, rangeFileSource } from './range-file-source.js';

export async function uploadFromDevice(
  fs: RangeReader,
  path: string,
  endpoint: string,
  store: UploadStore,
  onProgress: (p: ProgressEvent) => void,
  /** More Upload options (headers, metadata, onBeforeRequest...). */
  more: Partial<UploadOptions> = {},
): Promise<{ url: string; resumedAt: number | null }> {
  const source = await rangeFileSource(fs, path);
  const upload = new Upload(source, {
    endpoint,
    store,
    chunkSize: 4 * 1024 * 1024, // the most bytes in memory at once
    retry: { delays: [0, 1000, 3000, 5000, 10000] },
    ...more,
  });
  let resumedAt: number | null = null;
  upload.on('resumed', (e) => {
    resumedAt = e.offset;
  });
  upload.on('progress', onProgress);
  const { url } = await upload.start();
  return { url, resumedAt };
}
