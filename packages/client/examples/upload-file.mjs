// Runnable: node packages/client/examples/upload-file.mjs FILE ENDPOINT (after pnpm build)
import { JsonFileStore, uploadFile } from '@tus-s3/client/node';

const [file, endpoint] = process.argv.slice(2);
const result = await uploadFile(
  file,
  {
    endpoint,
    chunkSize: 'auto',
    store: new JsonFileStore('.uploads.json'), // rerun after a crash: it resumes
    retry: { delays: [0, 1000, 3000, 5000, 10000] },
    stallTimeoutMs: 30_000,
  },
  (upload) => {
    upload.on('resumed', (e) => console.log(`resuming ${e.url} at ${e.offset}`));
    upload.on('retry', (e) =>
      console.log(`retry #${e.attempt} in ${e.delayMs} ms: ${e.error.message}`),
    );
    upload.on('progress', (p) => process.stdout.write(`\r${p.bytesAcknowledged}/${p.bytesTotal}`));
  },
);
console.log(`\n${result.url}`);
