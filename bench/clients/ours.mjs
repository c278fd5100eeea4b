// Case D: @tus-s3/client (Node entry) against our server. One stream by default;
// `parallel` and `checksum` are passed only when run.mjs found the client supports them.
import { pathToFileURL } from 'node:url';
import { pool, readJob, runClient } from './common.mjs';

// run.mjs hands over its snapshot of the client's dist; the workspace link otherwise.
const spec = readJob().clientModule;
const { uploadFile } = await import(spec ? pathToFileURL(spec).href : '@tus-s3/client/node');

await runClient(async (job) => {
  let retries = 0;
  const uploads = await pool(job.files, job.concurrency, async (f) => {
    const options = {
      endpoint: job.endpoint,
      // One PATCH = one chunk as large as the file.
      chunkSize: job.chunkSize ?? Math.max(1, f.size),
      metadata: { filename: f.name, filetype: 'application/octet-stream' },
      store: null,
      retry: { delays: [0, 500, 2000] },
    };
    if (job.parallel) options.parallel = job.parallel;
    if (job.checksum) options.checksum = job.checksum;
    const result = await uploadFile(f.path, options, (u) => {
      u.on('retry', () => {
        retries++;
      });
    });
    if (result.size !== f.size) throw new Error(`client reports ${result.size} of ${f.size} bytes`);
    return { url: result.url, file: f.path, size: f.size };
  });
  return { uploads, retries };
});
