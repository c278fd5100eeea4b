// Peers B and C: stock tus-js-client 4 in Node, reading the file through a fs.ReadStream
// (it re-opens the path per chunk: ranged streams, no buffering). Same options for both
// servers. chunkSize null = Infinity = the whole file in one PATCH.
import { createReadStream } from 'node:fs';
import * as tus from 'tus-js-client';
import { pool, runClient } from './common.mjs';

await runClient(async (job) => {
  let retries = 0;
  const uploads = await pool(
    job.files,
    job.concurrency,
    (f) =>
      new Promise((resolve, reject) => {
        const upload = new tus.Upload(createReadStream(f.path), {
          endpoint: job.endpoint,
          chunkSize: job.chunkSize ?? Number.POSITIVE_INFINITY,
          metadata: { filename: f.name, filetype: 'application/octet-stream' },
          retryDelays: [0, 500, 2000],
          storeFingerprintForResuming: false,
          onShouldRetry(err) {
            const status = err.originalResponse ? err.originalResponse.getStatus() : 0;
            const retry = !(status >= 400 && status < 500 && status !== 409 && status !== 423);
            if (retry) retries++;
            return retry;
          },
          onError: reject,
          onSuccess: () => resolve({ url: upload.url, file: f.path, size: f.size }),
        });
        upload.start();
      }),
  );
  return { uploads, retries };
});
