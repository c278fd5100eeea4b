// Case D: @tus-s3/client (Node entry) against our server: one stream with no checksum,
// or `parallel` partial uploads and/or `checksum` when run.mjs asks (it does only when the
// client and the server have them); `dedupe` ('instant' | 'uploaded'): option dedupe, and
// the outcome the case expects. A run whose upload did not go the way it was asked
// (parallel fell back, another checksum algorithm) fails.
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
      // The client's default is 'auto' (sha256 when offered): off unless the case asks.
      checksum: job.checksum ?? false,
    };
    if (job.parallel) options.parallel = job.parallel;
    if (job.dedupe) options.dedupe = true;
    let partials = 0;
    let fellBack = null;
    let algorithm = null;
    let upload = null;
    const result = await uploadFile(f.path, options, (u) => {
      upload = u;
      u.on('retry', () => {
        retries++;
      });
      u.on('fallback', (e) => {
        fellBack = e.reason;
      });
      u.on('parallel', (e) => {
        partials = e.partials.length;
      });
      u.on('checksum', (e) => {
        algorithm = e.algorithm;
      });
    });
    if (result.size !== f.size) throw new Error(`client reports ${result.size} of ${f.size} bytes`);
    if (job.parallel && (fellBack || partials < 2)) {
      throw new Error(`asked for parallel ${job.parallel}, got ${partials} partials (${fellBack})`);
    }
    if (job.checksum && algorithm !== job.checksum) {
      throw new Error(`asked for checksum ${job.checksum}, the upload used ${algorithm}`);
    }
    // Instant cases: the run must have gone the way the case says (instant or uploaded).
    if (job.dedupe && result.instant?.outcome !== job.dedupe) {
      const got = result.instant ? `${result.instant.outcome}: ${result.instant.message}` : 'none';
      throw new Error(`asked for an ${job.dedupe} dedupe upload, got ${got}`);
    }
    const bytesSent = upload.progress.bytesSent;
    return { url: result.url, file: f.path, size: f.size, partials, bytesSent };
  });
  return { uploads, retries };
});
